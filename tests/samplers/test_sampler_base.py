"""The ``Sampler`` base: one front for every sampler (input checks, CFG needs labels), each its own loop."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import Tensor

from unmask.samplers import SAMPLERS, SampleOutput, Sampler, build_sampler
from unmask.samplers.base import SampleStart

VOCAB = 10  # 9 data tokens + [MASK]


class Uniform:
    """A class-conditional TokenModel with flat logits; ``subtokens`` / ``causal`` as each sampler needs."""

    def __init__(self, *, subtokens: int = 0, causal: bool = False) -> None:
        self.vocab_size = VOCAB
        self.uses_time = False
        self.num_classes = 3
        self.null_label = 3
        self.subtokens = subtokens
        self.config = SimpleNamespace(grid=(4,), causal=causal)

    def __call__(self, x: Tensor, t: Tensor | None, labels: Tensor | None) -> Tensor:
        lead = x.shape[:-1] if self.subtokens else x.shape
        return torch.zeros(*lead, VOCAB - 1)


def model_for(name: str) -> Uniform:
    return Uniform(subtokens=2 if name == "prime" else 0, causal=name == "autoregressive")


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_is_a_sampler(name: str) -> None:
    sampler = build_sampler(name)
    assert isinstance(sampler, Sampler)
    out = sampler.sample(model_for(name), 3, labels=torch.tensor([0, 1, 2]), generator=torch.Generator().manual_seed(0))
    assert out.tokens.shape == (3, 4) and bool((out.tokens < VOCAB - 1).all())


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_cfg_without_labels_is_refused_with_one_message(name: str) -> None:
    sampler = build_sampler(name, cfg=2.0)
    with pytest.raises(ValueError, match=r"^cfg scale 2.0 needs class labels; got labels=None$"):
        sampler.sample(model_for(name), 3)
    # and w = 1 (plain conditional) needs none
    build_sampler(name).sample(model_for(name), 3)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_the_front_checks_labels_for_every_sampler(name: str) -> None:
    with pytest.raises(ValueError, match="3 labels for 2 samples"):
        build_sampler(name).sample(model_for(name), 2, labels=torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="label 7 outside the classes"):
        build_sampler(name).sample(model_for(name), labels=torch.tensor([7]))


@pytest.mark.parametrize(
    ("name", "model", "message"),
    [
        ("prime", Uniform(), "this model takes plain tokens"),
        ("autoregressive", Uniform(), "needs a causal model"),
    ],
)
def test_check_model_refuses_before_anything_else(name: str, model: Uniform, message: str) -> None:
    # the model check comes first: even with a bad n the message is about the model
    with pytest.raises(ValueError, match=message):
        build_sampler(name).sample(model, 0)


def test_a_new_sampler_writes_only_its_loop() -> None:
    class First(Sampler[SampleOutput]):
        """Fills every masked position with token 0 in one call."""

        cfg = 1.0

        def _sample(self, start: SampleStart) -> SampleOutput:
            model, x = start.model, start.x
            x_init = x.clone()
            masked = x == model.vocab_size - 1
            x[masked] = 0
            reveal = torch.where(masked, 0, -1)
            return SampleOutput(x, 0, torch.zeros(x.shape[0]), 1, reveal, x_init, model.vocab_size - 1)

    x_init = torch.tensor([[9, 3, 9, 1]])
    out = First().sample(Uniform(), x_init=x_init)
    assert out.tokens.tolist() == [[0, 3, 0, 1]] and out.x_init.tolist() == x_init.tolist()
    with pytest.raises(ValueError, match="does not match x_init batch"):
        First().sample(Uniform(), 2, x_init=x_init)
    with pytest.raises(TypeError):
        Sampler()  # type: ignore[abstract]
