"""Data-parallel training on PyTorch's own engine: ``torchrun`` + ``DistributedDataParallel``.

Why torchrun/DDP and not Accelerate: it ships with torch (no dependency, no config
layer), works the same on one CPU with the gloo backend and on many GPU nodes with
NCCL, and its launcher already handles multi-node rendezvous, restarts and killing
the whole job when one rank dies. ``unmask train`` started by torchrun reads the
standard environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, …):

    torchrun --nproc_per_node=8 -m unmask train fmnist --out runs/x                 # one node
    torchrun --nnodes=4 --nproc_per_node=8 --rdzv_backend=c10d \\
             --rdzv_endpoint=HOST:29500 -m unmask train fmnist --out runs/x         # four nodes

How a step is split (``DistContext.batch_slices``, used by ``unmask.training.loop``): every rank draws the *global*
batch — its indices, times, masks and label drops — from the same generator and takes
its own contiguous slice of ``batch_size / world_size`` rows, split further into
``train.grad_accum`` micro-batches. Losses are normalised by the global batch's count
of scored positions, so the summed gradient equals a single process's on the whole
batch: a run's result does not depend on the world size (up to floating-point
reduction order), and a run may be resumed on a different world size.
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ..config import ConfigError

__all__ = ["DistContext", "init_distributed", "in_torchrun"]


def in_torchrun() -> bool:
    """True when this process was started by torchrun (or any launcher setting WORLD_SIZE and RANK)."""
    return "WORLD_SIZE" in os.environ and "RANK" in os.environ


@dataclass
class DistContext:
    """This process's place in a data-parallel job (world size 1 without a launcher)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    initialised_here: bool = False

    @property
    def is_main(self) -> bool:
        """Rank 0 logs, evaluates and writes checkpoints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def all_reduce_sum(self, value: torch.Tensor) -> torch.Tensor:
        """Sum a tensor over ranks (in place; returned for convenience)."""
        if self.distributed:
            dist.all_reduce(value, op=dist.ReduceOp.SUM)
        return value

    def broadcast_object(self, obj: object) -> object:
        """Rank 0's ``obj`` on every rank."""
        if not self.distributed:
            return obj
        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def batch_slices(self, batch_size: int, grad_accum: int) -> list[slice]:
        """This rank's micro-batches of a global batch of ``batch_size`` rows: ``grad_accum``
        contiguous slices of its own ``batch_size / world_size`` rows (rank r's start at
        r · batch_size / world_size). Raises ``ConfigError`` when the batch does not divide."""
        world = self.world_size
        if batch_size % (world * grad_accum):
            raise ConfigError(
                f"train.batch_size={batch_size} is not divisible by world size {world} × train.grad_accum "
                f"{grad_accum} = {world * grad_accum}"
            )
        per_rank = batch_size // world
        micro = per_rank // grad_accum
        start = self.rank * per_rank
        return [slice(start + j * micro, start + (j + 1) * micro) for j in range(grad_accum)]

    def close(self) -> None:
        if self.initialised_here and dist.is_initialized():
            dist.destroy_process_group()


def init_distributed(device_type: str, timeout_minutes: float = 30.0) -> DistContext:
    """Join the process group torchrun describes, or return a single-process context.

    Backend: NCCL for CUDA, gloo otherwise. Each CUDA rank uses ``cuda:LOCAL_RANK``.
    """
    if not in_torchrun():
        return DistContext()
    world = int(os.environ["WORLD_SIZE"])
    rank = int(os.environ["RANK"])
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if world == 1:
        return DistContext(rank=rank, world_size=1, local_rank=local)
    if device_type == "cuda":
        torch.cuda.set_device(local)
    backend = "nccl" if device_type == "cuda" else "gloo"
    here = False
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=datetime.timedelta(minutes=timeout_minutes))
        here = True
    return DistContext(rank=rank, world_size=world, local_rank=local, initialised_here=here)
