"""Token shards: round trip against in-memory tokens, resumable pre-tokenisation, and every kind of
bad shard set refused with an error naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from unmask.data import batch_indices, get_dataset
from unmask.data import pretokenize as pretok
from unmask.data.pretokenize import tokenize_dataset
from unmask.data.shards import ShardError, open_shards, read_manifest, shard_loader, write_shard
from unmask.tokenizers import load_tokenizer, tokenizer_fingerprint

pytestmark = pytest.mark.usefixtures("one_thread")


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


@pytest.mark.parametrize("split", ["train", "test"])
def test_shards_hold_exactly_the_in_memory_tokens_and_labels(digit_shards: Path, split: str) -> None:
    ds = open_shards(digit_shards, split)
    ref = get_dataset("digits", split)
    assert len(ds) == len(ref) and ds.grid == (8, 8) and ds.vocab_size == 18 and ds.num_classes == 10
    assert torch.equal(ds.tokens, ref.tokens) and ds.labels is not None and torch.equal(ds.labels, ref.labels)
    assert np.array_equal(ds.images(), ref.images())
    m = read_manifest(digit_shards)
    assert m["fingerprint"] == tokenizer_fingerprint(load_tokenizer("pixel:17").config())
    assert m["grid"] == [8, 8] and m["splits"]["train"]["count"] == 1438
    assert [r["count"] for r in m["splits"]["train"]["shards"]] == [500, 500, 438]
    arr = np.load(digit_shards / "train-00000.tokens.npy", mmap_mode="r")
    assert arr.dtype == np.uint16 and isinstance(arr, np.memmap)


@pytest.mark.parametrize("workers", [0, 2])
def test_loader_yields_the_trainers_batches_in_order(digit_shards: Path, workers: int) -> None:
    ds = open_shards(digit_shards, "train")
    ref = get_dataset("digits", "train")
    loader = shard_loader(ds, batch_size=200, seed=3, start=5, stop=12, workers=workers)
    got = list(loader)
    assert len(got) == 7
    for step, (tokens, labels) in zip(range(5, 12), got, strict=True):
        idx = batch_indices(len(ref), 200, step, 3)  # batches cross shard and epoch boundaries
        assert torch.equal(tokens, ref.tokens[idx]) and torch.equal(labels, ref.labels[idx])  # type: ignore[index]


def test_parallel_tokenisation_equals_serial(digit_shards: Path, tmp_path: Path) -> None:
    out = tmp_path / "par"
    res = tokenize_dataset("pixel:17", "digits", out, shard_size=500, workers=2)
    assert res.encoded == 4 and res.skipped == 0
    for f in sorted(digit_shards.glob("*.npy")):
        assert (out / f.name).read_bytes() == f.read_bytes(), f.name


def test_interrupted_tokenisation_resumes_without_redoing_finished_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "part"
    real = pretok._encode_shard
    calls: list[tuple[str, int]] = []

    class Crash(Exception):
        pass

    def failing(out_: str, split: str, index: int, *a: object, **k: object) -> dict:  # type: ignore[type-arg]
        calls.append((split, index))
        if calls == [("train", 0), ("train", 1), ("train", 2)]:
            raise Crash  # the machine went down while encoding the third shard
        return real(out_, split, index, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(pretok, "_encode_shard", failing)
    with pytest.raises(Crash):
        tokenize_dataset("pixel:17", "digits", out, shard_size=400)
    assert not (out / "manifest.json").exists()
    with pytest.raises(ShardError, match="not a finished shard set.*rerun"):
        open_shards(out)
    done = {p.name: p.stat().st_mtime_ns for p in out.glob("train-0000[01].*")}
    assert len(done) == 6  # two finished shards: tokens, labels, record
    calls.clear()
    res = tokenize_dataset("pixel:17", "digits", out, shard_size=400)
    assert res.skipped == 2 and res.encoded == 3  # train 2, 3 and test 0
    assert calls == [("train", 2), ("train", 3), ("test", 0)]
    assert {n: (out / n).stat().st_mtime_ns for n in done} == done  # finished shards untouched
    assert torch.equal(open_shards(out).tokens, get_dataset("digits", "train").tokens)
    # a shard whose file was damaged after its record was written is redone
    (out / "train-00001.tokens.npy").write_bytes(b"garbage")
    calls.clear()
    res = tokenize_dataset("pixel:17", "digits", out, shard_size=400)
    assert calls == [("train", 1)] and res.encoded == 1


def test_another_tokenizer_or_shard_size_in_the_same_directory_is_refused(digit_shards: Path, tmp_path: Path) -> None:
    out = _copy(digit_shards, tmp_path / "d")
    with pytest.raises(ShardError, match="another fingerprint"):
        tokenize_dataset("pixel:8", "digits", out, shard_size=500)
    with pytest.raises(ShardError, match="another shard_size"):
        tokenize_dataset("pixel:17", "digits", out, shard_size=300)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ShardError, match="not empty"):
        tokenize_dataset("pixel:17", "digits", tmp_path / "busy")


def test_shards_of_another_tokenizer_or_dataset_are_refused(digit_shards: Path) -> None:
    other = tokenizer_fingerprint(load_tokenizer("pixel:16").config())
    with pytest.raises(ShardError, match="made by another tokenizer"):
        open_shards(digit_shards, expect_fingerprint=other)
    with pytest.raises(ShardError, match="hold dataset 'digits', but data.name='mnist5k'"):
        open_shards(digit_shards, expect_dataset="mnist5k")
    with pytest.raises(ShardError, match="no split 'val'"):
        open_shards(digit_shards, "val")


def _set_manifest(d: Path, edit: object) -> None:
    m = json.loads((d / "manifest.json").read_text())
    edit(m)  # type: ignore[operator]
    (d / "manifest.json").write_text(json.dumps(m))


def test_truncated_shard_names_the_file(digit_shards: Path, tmp_path: Path) -> None:
    d = _copy(digit_shards, tmp_path / "t")
    f = d / "train-00001.tokens.npy"
    f.write_bytes(f.read_bytes()[:-10])
    with pytest.raises(ShardError, match=r"train-00001\.tokens\.npy.*bytes.*truncated"):
        open_shards(d)
    with pytest.raises(ShardError, match=r"train-00001\.tokens\.npy.*truncated"):
        open_shards(d, verify="size")


def test_corrupted_shard_names_the_file(digit_shards: Path, tmp_path: Path) -> None:
    d = _copy(digit_shards, tmp_path / "c")
    f = d / "train-00002.labels.npy"
    raw = bytearray(f.read_bytes())
    raw[-3] ^= 0xFF
    f.write_bytes(bytes(raw))
    with pytest.raises(ShardError, match=r"train-00002\.labels\.npy.*SHA-256.*corrupted labels"):
        open_shards(d)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda m: m["splits"]["train"].update(count=1000), "lists 1000 examples but its shards hold 1438"),
        (lambda m: m["splits"]["train"]["shards"][0].update(count=499), r"train-00000\.tokens\.npy.*\(499, 8, 8\)"),
        (lambda m: m.update(grid=[4, 16]), r"train-00000\.tokens\.npy.*holds uint16 \(500, 8, 8\)"),
        (lambda m: m["splits"]["train"]["shards"].pop(1), "listed out of order"),
        (lambda m: m.update(vocab_size=30), "says vocab_size 30"),
        (lambda m: m.update(format=7), "has format 7"),
    ],
)
def test_manifest_that_does_not_match_the_shards(digit_shards: Path, tmp_path: Path, edit: object, needle: str) -> None:
    d = _copy(digit_shards, tmp_path / "m")
    _set_manifest(d, edit)
    with pytest.raises(ShardError, match=needle):
        open_shards(d)


def test_missing_shard_file_and_manifest(digit_shards: Path, tmp_path: Path) -> None:
    d = _copy(digit_shards, tmp_path / "x")
    (d / "test-00000.tokens.npy").unlink()
    with pytest.raises(ShardError, match=r"test-00000\.tokens\.npy.*is missing"):
        open_shards(d, "test")
    (d / "manifest.json").write_text("{not json")
    with pytest.raises(ShardError, match="cannot read"):
        open_shards(d)
    with pytest.raises(ShardError, match="does not exist"):
        open_shards(tmp_path / "nowhere")


def test_token_ids_outside_the_vocabulary_are_refused_on_write_and_read(digit_shards: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"token ids span \[0, 17\], outside the data vocabulary \[0, 16\]"):
        write_shard(tmp_path, "train", 0, np.array([[0, 17]]), None, vocab_size=18)
    d = _copy(digit_shards, tmp_path / "v")
    tok = np.load(d / "train-00000.tokens.npy").astype(np.int64)
    tok[3, 2, 1] = 40  # rewrite the shard with a bad id and a manifest that "matches" it
    rec = write_shard(d, "train", 0, tok, np.load(d / "train-00000.labels.npy"), vocab_size=100)
    _set_manifest(d, lambda m: m["splits"]["train"]["shards"].__setitem__(0, rec))
    with pytest.raises(
        ShardError, match=r"train-00000\.tokens\.npy.*token id 40, outside the data vocabulary \[0, 16\]"
    ):
        open_shards(d)


def test_image_folder_tokenisation(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    for cls in ("b", "a"):
        (tmp_path / "imgs" / cls).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (12, 16), dtype=np.uint8)).save(tmp_path / "imgs" / cls / f"{i}.png")
    res = tokenize_dataset("pixel:4", str(tmp_path / "imgs"), tmp_path / "out", shard_size=4, image_size=8)
    assert res.examples == {"train": 6} and res.encoded == 2
    ds = open_shards(tmp_path / "out")
    from unmask.data.image_folder import ImageFolder

    folder = ImageFolder(tmp_path / "imgs", 8, channels=1)
    assert ds.class_names == ("a", "b") and ds.labels is not None and ds.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert torch.equal(ds.tokens, load_tokenizer("pixel:4").encode(folder.read()))
    assert ds.name == f"folder:{(tmp_path / 'imgs').resolve()}"
    (tmp_path / "imgs" / "a" / "3.png").write_bytes(b"broken")
    with pytest.raises(ValueError, match=r"cannot decode image '.*3\.png'"):
        tokenize_dataset("pixel:4", str(tmp_path / "imgs"), tmp_path / "out2", image_size=8)


def test_a_text_tokenizer_is_refused_for_image_data(tmp_path: Path) -> None:
    from unmask.tokenizers.text import ByteTokenizer

    with pytest.raises(ValueError, match="tokenize_dataset encodes images; ByteTokenizer is a 'text' tokenizer"):
        tokenize_dataset(ByteTokenizer(), "digits", tmp_path / "s")
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())
