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


class ConstantModel(DummyModel):
    """All probability on one data token, at every position, whatever x, t and label."""

    def __init__(self, token: int = 2, **kw):
        super().__init__(**kw)
        self.token = token

    def logits(self, x, t, labels):
        out = torch.full((*x.shape, self.vocab_size - 1), -1000.0)
        out[..., self.token] = 0.0
        return out


class TableModel(DummyModel):
    """Fixed logits per position (independent of x, t, labels)."""

    def __init__(self, table: torch.Tensor, **kw):
        super().__init__(grid=tuple(table.shape[:-1]), vocab_size=table.shape[-1] + 1, **kw)
        self.table = table

    def logits(self, x, t, labels):
        return self.table.expand(x.shape[0], *self.table.shape).clone()


class MixModel(DummyModel):
    """A nontrivial p(x1 | xt): per-position table, shifted by the number of masked tokens
    of the row (an ITM-like function of x), by t (ETM only) and by the label."""

    def __init__(self, seed: int = 0, **kw):
        super().__init__(**kw)
        g = gen(seed)
        k = self.vocab_size - 1
        self.table = torch.randn(*self.config.grid, k, generator=g)
        self.count_w = 0.4 * torch.randn(k, generator=g)
        self.time_w = 2.0 * torch.randn(k, generator=g)
        self.label_w = torch.randn(self.num_classes + 1, k, generator=g)

    def logits(self, x, t, labels):
        b = x.shape[0]
        view = (b,) + (1,) * (x.ndim - 1) + (-1,)
        n_masked = (x == self.vocab_size - 1).reshape(b, -1).sum(1).to(torch.float32)
        out = self.table + (n_masked[:, None] * self.count_w).view(view)
        if self.uses_time:
            assert t is not None and t.shape == (b,)
            out = out + (t[:, None] * self.time_w).view(view)
        if labels is not None:
            out = out + self.label_w[labels].view(view)
        return out
