"""One loaded checkpoint and the work the web app asks of it: sample a grid, show a sample's
unmasking chain, inpaint a painted region. Everything returned is JSON with PNG / GIF data URLs.

Requests are validated by the library's own checks (sampler options through ``build_sampler``,
labels against the classes, captions through the model's text encoder, images and masks through
``unmask.editing``), so the page shows the message the command line prints for the same mistake.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..editing import EditPlan, edit, plan_edit
from ..inference import check_sampler_fits, load_any_model, model_sampler, sampler_from_config
from ..models import CaptionConditioned, MultiStreamTransformer, TextTransformer, VideoTransformer
from ..samplers import read_sampling, sampling_file
from ..tokenizers import build_tokenizer
from ..visualize import display_scale, make_grid

__all__ = ["ModelSession", "SamplerRequest", "png_data_url", "decode_data_url"]

#: Sampler fields a request may set (None = the run's recorded or configured value).
SAMPLER_FIELDS = ("sampler", "steps", "cfg", "temperature", "top_p", "top_k", "gumbel", "gumbel_temperature")
MAX_SAMPLES = 100
MAX_IMAGE_SIDE = 2048


def png_data_url(image: np.ndarray) -> str:
    """A uint8 grey (H, W) or RGB (H, W, 3) image as a data:image/png URL."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def gif_data_url(frames: list[np.ndarray], ms: int = 120) -> str:
    from PIL import Image

    buf = io.BytesIO()
    pics = [Image.fromarray(f) for f in frames]
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=ms, loop=0)
    return "data:image/gif;base64," + base64.b64encode(buf.getvalue()).decode()


def decode_data_url(url: Any, what: str) -> np.ndarray:
    """An uploaded image (a data URL or bare base64 of PNG / JPEG / …) as uint8 grey (H, W);
    ``ValueError`` naming ``what`` for anything else."""
    from PIL import Image, UnidentifiedImageError

    if not isinstance(url, str) or not url:
        raise ValueError(f"{what}: expected an image (a data URL), got {type(url).__name__}")
    payload = url.split(",", 1)[1] if url.startswith("data:") else url
    try:
        raw = base64.b64decode(payload, validate=True)
    except ValueError:
        raise ValueError(f"{what} is not base64 image data") from None
    try:
        with Image.open(io.BytesIO(raw)) as img:
            img.load()
            if img.width < 1 or img.height < 1 or max(img.width, img.height) > MAX_IMAGE_SIDE:
                raise ValueError(f"{what} is {img.width}×{img.height}; images up to {MAX_IMAGE_SIDE} px a side")
            if "A" in img.getbands() and what.startswith("mask"):  # a painted layer: paint = opaque
                return np.asarray(img.getchannel("A"), dtype=np.uint8)
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError):
        raise ValueError(f"{what} is not an image file (PNG, JPEG, …)") from None


@dataclass
class SamplerRequest:
    """Sampler settings from a request; unset fields take the run's recorded (sampling.json) or
    configured values."""

    sampler: str | None = None
    steps: int | None = None
    cfg: float | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    gumbel: str | None = None
    gumbel_temperature: float | None = None

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> SamplerRequest:
        kinds = {
            "steps": int,
            "top_k": int,
            "cfg": float,
            "temperature": float,
            "top_p": float,
            "gumbel_temperature": float,
            "sampler": str,
            "gumbel": str,
        }
        out = cls()
        for key in SAMPLER_FIELDS:
            value = body.get(key)
            if value is None or value == "":
                continue
            try:
                setattr(out, key, kinds[key](value))
            except (TypeError, ValueError):
                raise ValueError(f"{key} must be a {kinds[key].__name__}, got {value!r}") from None
        return out


class ModelSession:
    """A checkpoint loaded for the web app (see the module docstring)."""

    def __init__(self, ckpt: str | Path, device: str = "cpu") -> None:
        model, checkpoint = load_any_model(ckpt, device=device)
        if isinstance(model, MultiStreamTransformer):
            raise ValueError("the web app draws from single-stream models; joint models: use unmask joint")
        self.model: Any = model
        self.checkpoint = checkpoint
        self.device = device
        self.tokenizer = build_tokenizer(checkpoint.tokenizer)
        self.config = checkpoint.config
        self.video = isinstance(model, VideoTransformer)
        self.text_to_image = isinstance(model, TextTransformer)
        self.text = self.tokenizer.kind == "text"
        path = sampling_file(ckpt)
        self.recorded: dict[str, Any] = read_sampling(path)["settings"] if path is not None else {}
        fits = model_sampler(model)
        configured = self.config.sample.sampler
        plain = {configured, fits} <= {"euler", "maskgit"}
        self.default_sampler: str = self.recorded.get("sampler") or (configured if plain else None) or fits
        self.class_names: list[str] = []
        if model.num_classes > 0:
            try:
                from ..data import get_dataset

                names = get_dataset(self.config.data.name, "test", **self.config.data.options()).class_names
                self.class_names = list(names) if len(names) == model.num_classes else []
            except Exception:  # noqa: BLE001 - names are a nicety; ids work without the dataset
                self.class_names = []
            if not self.class_names:
                self.class_names = [str(i) for i in range(model.num_classes)]

    # -- what the page shows -------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        c = self.config
        kind = "video" if self.video else "text" if self.text else "image"
        return {
            "checkpoint": str(self.checkpoint.path),
            "step": self.checkpoint.step,
            "preset": c.preset,
            "kind": kind,
            "text_to_image": self.text_to_image,
            "classes": self.class_names,
            "grid": list(self.model.config.grid),
            "default_sampler": model_sampler(self.model),
            "samplers": ["prime"]
            if model_sampler(self.model) == "prime"
            else (["autoregressive"] if model_sampler(self.model) == "autoregressive" else ["euler", "maskgit"]),
            "defaults": {
                "sampler": self.default_sampler,
                "steps": self.recorded.get("steps", c.sample.steps),
                "cfg": self.recorded.get("cfg", c.sample.cfg),
                "temperature": self.recorded.get("temperature", c.sample.temperature),
            },
            "recorded": bool(self.recorded),
            "editable": kind == "image",
        }

    # -- building blocks -------------------------------------------------------------------
    def sampler(self, req: SamplerRequest) -> Any:
        name = req.sampler or self.default_sampler
        check_sampler_fits(self.model, name)
        opts: dict[str, Any] = {}
        if name == self.recorded.get("sampler"):
            opts.update(
                {("final_argmax" if k == "argmax" else k): v for k, v in self.recorded.items() if k != "sampler"}
            )
            if "schedule" in opts:
                from ..schedules import get_schedule

                opts["schedule"] = get_schedule(opts["schedule"])
        for key in ("steps", "cfg", "temperature", "top_p", "top_k"):
            value = getattr(req, key)
            if value is not None:
                opts[key] = value
        for key in ("gumbel", "gumbel_temperature"):
            value = getattr(req, key)
            if value is not None:
                if name != "maskgit":
                    raise ValueError(f"{key} does not apply to the {name} sampler")
                opts[key] = value
        if self.model.num_classes == 0 and not self.text_to_image and opts.get("cfg", 1.0) != 1.0:
            raise ValueError(f"cfg {opts['cfg']} needs a class-conditional model; this one is unconditional")
        if name == "autoregressive":
            opts.pop("steps", None)
        return sampler_from_config(self.config, name, **opts)

    def _conditioned(self, labels: list[int] | None, caption: str | None, n: int) -> tuple[Any, list[int] | None]:
        """The model to call and the labels of ``n`` samples (a caption binds a text model to it)."""
        if self.text_to_image:
            from ..t2i import bind_captions, check_captions, load_text_encoder_for

            caps = check_captions([caption or ""])
            bound: CaptionConditioned = bind_captions(self.model, load_text_encoder_for(self.model), caps)
            return bound, [0] * n
        if caption:
            raise ValueError("captions apply to text-to-image models; this one takes class labels")
        if labels is None:
            if self.model.num_classes > 0:
                labels = [i * self.model.num_classes // n for i in range(n)]
            return self.model, labels
        if self.model.num_classes == 0:
            raise ValueError("this model is unconditional; it takes no class labels")
        for y in labels:
            if not isinstance(y, int) or not 0 <= y < self.model.num_classes:
                raise ValueError(f"label {y!r} outside the classes [0, {self.model.num_classes - 1}]")
        return self.model, (labels * n)[:n]

    @staticmethod
    def _counting(model: Any, report: Callable[[float], None], total: int) -> Any:
        """``model`` with every call reported as progress (calls / total); a cancel stops it there."""

        class Counting:
            def __init__(self) -> None:
                self.calls = 0

            def __getattr__(self, name: str) -> Any:
                return getattr(model, name)

            def __call__(self, *args: Any, **kwargs: Any) -> Any:
                report(self.calls / max(total, 1))
                self.calls += 1
                return model(*args, **kwargs)

        return Counting()

    def _expected_calls(self, sampler: Any) -> int:
        steps = getattr(sampler, "steps", None)
        positions = int(np.prod(self.model.config.grid))
        return min(int(steps), positions) if steps else positions

    def _pictures(self, tokens: torch.Tensor) -> np.ndarray:
        return np.asarray(self.tokenizer.decode(tokens.cpu()))

    # -- the jobs ------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(
        self,
        req: SamplerRequest,
        *,
        n: int,
        labels: list[int] | None,
        caption: str | None,
        seed: int,
        report: Callable[[float], None],
    ) -> dict[str, Any]:
        """A grid of ``n`` samples, each with its unmasking chain kept for ``chain``."""
        if not isinstance(n, int) or not 1 <= n <= MAX_SAMPLES:
            raise ValueError(f"number of samples must be an integer in [1, {MAX_SAMPLES}], got {n!r}")
        sampler = self.sampler(req)
        model, labs = self._conditioned(labels, caption, n)
        lab = None if labs is None else torch.tensor(labs, device=self.device)
        gen = torch.Generator(device=self.device).manual_seed(int(seed))
        counted = self._counting(model, report, self._expected_calls(sampler))
        out = sampler.sample(counted, n, labels=lab, generator=gen, device=self.device)
        report(1.0)
        result: dict[str, Any] = {"n": n, "nfe": out.nfe, "labels": labs, "steps": out.steps}
        if self.text:
            result["texts"] = list(self.tokenizer.decode(out.tokens.cpu()))
        else:
            pictures = self._pictures(out.tokens)
            if self.video:
                result["clips"] = [self._clip_gif(clip) for clip in pictures]
                result["images"] = [png_data_url(self._scaled(clip[0])) for clip in pictures]
            else:
                result["images"] = [png_data_url(self._scaled(p)) for p in pictures]
                nrow = n // len(set(labs)) if labs and n % len(set(labs)) == 0 else min(n, 10)
                result["grid"] = png_data_url(make_grid(pictures, nrow=nrow, scale=display_scale(pictures.shape[1])))
        result["_out"] = out  # kept server-side for the chains (stripped before JSON)
        result["_sampler"] = getattr(sampler, "__class__", type(sampler)).__name__
        return result

    def chain(self, out: Any, index: int, frames: int = 24) -> dict[str, Any]:
        """Sample ``index``'s unmasking chain: ``frames`` evenly spaced states from all [MASK] to the
        sample, each as an image with the still-masked tokens shown as a grey checker (images) or
        ``_`` (text); with the step of each frame and the share of tokens revealed."""
        if out.remasking:
            raise ValueError("a chain cannot be shown for a sampler that re-masks tokens (corrector)")
        b = out.tokens.shape[0]
        if not 0 <= index < b:
            raise ValueError(f"sample index {index} outside [0, {b - 1}]")
        steps = list(sorted({round(i * out.steps / (frames - 1)) for i in range(frames)}))
        final = out.tokens[index : index + 1]
        reveal = out.reveal_step[index : index + 1]
        total = int((reveal >= 0).sum())
        pictures, texts, revealed = [], [], []
        for i in steps:
            shown = (reveal >= 0) & (reveal < i)
            revealed.append(int(shown.sum()) / max(total, 1))
            if self.text:
                ids = final[0].tolist()
                keep = ((reveal[0] < 0) | shown[0]).tolist()
                texts.append("".join(self._token_text(t) if k else "_" for t, k in zip(ids, keep, strict=True)))
                continue
            pictures.append(self._masked_picture(final, (reveal >= 0) & ~shown))
        result: dict[str, Any] = {"steps": steps, "revealed": revealed, "index": index}
        if self.text:
            result["texts"] = texts
        else:
            result["frames"] = [png_data_url(p) for p in pictures]
            result["gif"] = gif_data_url(pictures)
        return result

    def _token_text(self, token: int) -> str:
        text = self.tokenizer.decode(torch.tensor([[token]]))[0]
        return text if text else "?"

    def _scaled(self, picture: np.ndarray) -> np.ndarray:
        s = display_scale(picture.shape[0], target=128)
        return np.kron(picture, np.ones((s, s) + (1,) * (picture.ndim - 2), dtype=np.uint8)).astype(np.uint8)

    def _masked_picture(self, tokens: torch.Tensor, hidden: torch.Tensor) -> np.ndarray:
        """The decoded image (first frame of a clip), upscaled, as RGB, with the cells of ``hidden``
        tokens (still [MASK]) drawn as a red checker."""
        picture = self._pictures(tokens)[0]
        hid = hidden[0].cpu().numpy()
        if self.video:
            picture, hid = picture[0], hid[0]
        big = self._scaled(picture)
        if big.ndim == 2:
            big = np.repeat(big[..., None], 3, axis=2)
        h, w = big.shape[:2]
        gh, gw = hid.shape
        cell = np.kron(hid, np.ones((h // gh, w // gw), dtype=bool))
        cell = np.pad(cell, ((0, h - cell.shape[0]), (0, w - cell.shape[1])))
        yy, xx = np.indices((h, w))
        square = max(2, min(h // gh, w // gw) // 4)
        dark = ((yy // square + xx // square) % 2 == 0)[cell]
        out = big.copy()
        out[cell] = np.where(dark[:, None], [200, 60, 60], [240, 170, 170]).astype(np.uint8)
        return out

    def _clip_gif(self, clip: np.ndarray) -> str:
        return gif_data_url([self._scaled(f) for f in clip], ms=200)

    @torch.no_grad()
    def inpaint(
        self,
        req: SamplerRequest,
        *,
        image: np.ndarray,
        mask: np.ndarray,
        samples: int,
        label: int | None,
        caption: str | None,
        seed: int,
        report: Callable[[float], None],
    ) -> dict[str, Any]:
        """``samples`` completions of the painted region of ``image`` (mask: nonzero = regenerate)."""
        if self.video or self.text:
            raise ValueError("the page inpaints images; this checkpoint holds a video or text model")
        if not isinstance(samples, int) or not 1 <= samples <= 16:
            raise ValueError(f"samples must be an integer in [1, 16], got {samples!r}")
        region = mask > 0
        if not region.any():
            raise ValueError("the mask marks no pixel to regenerate: paint over the region first")
        sampler = self.sampler(req)
        model, labs = self._conditioned(None if label is None else [label], caption, 1)
        if self.model.num_classes > 0 and label is None and not self.text_to_image:
            labs = None  # no class asked: the null label (unconditional completion)
        plan: EditPlan = plan_edit(model, self.tokenizer, image, _fit(region, image.shape))
        counted = self._counting(model, report, self._expected_calls(sampler))
        out = edit(counted, self.tokenizer, sampler, plan, samples=samples, labels=labs, seed=seed, device=self.device)
        report(1.0)
        original = np.asarray(self.tokenizer.decode(plan.tokens))[0]
        masked = original.copy()
        masked[plan.pixels[0]] = 128
        return {
            "note": plan.note,
            "original": png_data_url(self._scaled(original)),
            "masked": png_data_url(self._scaled(masked)),
            "images": [png_data_url(self._scaled(p)) for p in out.images],
            "given_unchanged": bool(
                all(torch.equal(t[~r], plan.tokens[0][~r]) for t, r in zip(out.tokens, out.region, strict=True))
            ),
            "regenerated_tokens": int(plan.region.sum()),
            "nfe": out.nfe,
        }


def _fit(region: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A painted mask resized (nearest) to the image's shape."""
    if region.shape == tuple(shape):
        return region
    from PIL import Image

    pic = Image.fromarray(region.astype(np.uint8) * 255).resize((shape[1], shape[0]), Image.Resampling.NEAREST)
    return np.asarray(pic) > 0
