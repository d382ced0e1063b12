"""Dummy token models and helpers shared by the sampler tests (imported by file name)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from types import SimpleNamespace

import torch

VOCAB = 6  # 5 data tokens + [MASK]
MASK = VOCAB - 1
C = VOCAB - 1


def event_rounds(out):
    """The sampler's calls with skip_idle: round k evaluates every sample that has a
    k-th distinct reveal step, each at that step. Returns [(rows, step_per_row)]."""
    flat = out.reveal_step.reshape(out.reveal_step.shape[0], -1)
    per_row = [sorted(set(r.tolist()) - {-1}) for r in flat]
    rounds = []
    for k in range(max((len(p) for p in per_row), default=0)):
        rows = [i for i, p in enumerate(per_row) if len(p) > k]
        rounds.append((torch.tensor(rows), torch.tensor([per_row[i][k] for i in rows])))
    return rounds


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@dataclass
class Call:
    x: torch.Tensor
    t: torch.Tensor | None
    labels: torch.Tensor | None


class DummyModel(ABC):
    """A plain-object TokenModel that records the inputs of every forward call."""

    def __init__(self, *, vocab_size: int = VOCAB, grid=(4,), uses_time: bool = False, num_classes: int = 0):
        self.vocab_size = vocab_size
        self.uses_time = uses_time
        self.num_classes = num_classes
        self.null_label = num_classes
        self.config = SimpleNamespace(grid=tuple(grid))
        self.calls: list[Call] = []

    def __call__(self, x, t, labels):
        self.calls.append(Call(x.clone(), None if t is None else t.clone(), None if labels is None else labels.clone()))
        out = self.logits(x, t, labels)
        assert out.shape == (*x.shape, self.vocab_size - 1)
        return out

    @abstractmethod
    def logits(self, x, t, labels): ...

    def rows_seen(self) -> int:
        return sum(c.x.shape[0] for c in self.calls)
