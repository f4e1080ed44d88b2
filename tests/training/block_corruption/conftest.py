"""Fixtures for the block-corruption tests: tiny shards written per the shared contract.

``write_tiny_block_build`` writes what the ``block_corruption`` build writes (``frame.png``,
``mask.png``, ``json`` per sample; ``<split>-NNNNNN.tar`` shards; a dataset card), with numpy-only
impairments so these tests depend on the contract, not on the impairment library.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import webdataset as wds
from omegaconf import DictConfig, open_dict

from tests.training.conftest import compose_config, load_entry_point, shrink_config

SIZE = 64
MACROBLOCK = 16
CLASSES = ["clean", "corrupted"]
POSITIVES = ("block_flat", "block_displacement")
HARD_NEGATIVES = ("blur", "grain")


def natural_frame(rng: np.random.Generator, height: int = SIZE, width: int = SIZE) -> np.ndarray:
    """Smooth colour gradients with soft blobs: image-like, no block edges of its own."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    frame = np.zeros((height, width, 3), np.float32)
    for channel in range(3):
        angle = rng.uniform(0, np.pi)
        ramp = (np.cos(angle) * x + np.sin(angle) * y) / max(height, width)
        frame[..., channel] = 60 + 120 * ramp + rng.uniform(-20, 20)
        for _ in range(3):
            cy, cx, r = rng.uniform(0, height), rng.uniform(0, width), rng.uniform(6, 20)
            frame[..., channel] += rng.uniform(-50, 50) * np.exp(
                -((y - cy) ** 2 + (x - cx) ** 2) / (2 * r * r)
            )
    return frame.clip(0, 255).astype(np.uint8)


def corrupt(
    frame: np.ndarray, kind: str, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A run of 2-4 macroblocks along one macroblock row: one flat colour, or displaced content."""
    out, mask = frame.copy(), np.zeros(frame.shape[:2], bool)
    rows, cols = frame.shape[0] // MACROBLOCK, frame.shape[1] // MACROBLOCK
    row, length = int(rng.integers(rows)), int(rng.integers(2, min(4, cols) + 1))
    start = int(rng.integers(0, cols - length + 1))
    y0, x0, x1 = row * MACROBLOCK, start * MACROBLOCK, (start + length) * MACROBLOCK
    if kind == "block_flat":
        out[y0 : y0 + MACROBLOCK, x0:x1] = (0, 135, 0) if rng.random() < 0.5 else (128, 128, 128)
    else:
        shift = int(rng.integers(1, rows)) * MACROBLOCK
        source = np.roll(frame, shift, axis=(0, 1))
        out[y0 : y0 + MACROBLOCK, x0:x1] = source[y0 : y0 + MACROBLOCK, x0:x1] // 2
    mask[y0 : y0 + MACROBLOCK, x0:x1] = True
    return out, mask


def hard_negative(frame: np.ndarray, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "blur":
        return cv2.GaussianBlur(frame, (0, 0), 2.0)
    noise = rng.normal(0, 12, frame.shape)
    return (frame.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)


def png(image: np.ndarray) -> bytes:
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


def make_sample(split: str, index: int, rng: np.random.Generator) -> dict[str, object]:
    seed = int(rng.integers(2**31))
    sample_rng = np.random.default_rng(seed)
    frame = natural_frame(sample_rng)
    mask = np.zeros(frame.shape[:2], bool)
    impairment = negative = None
    kind = index % 4  # corrupted, corrupted, clean, hard negative
    if kind < 2:
        impairment = POSITIVES[kind]
        frame, mask = corrupt(frame, impairment, sample_rng)
    elif kind == 3:
        negative = HARD_NEGATIVES[(index // 4) % 2]
        frame = hard_negative(frame, negative, sample_rng)
    corrupted = bool(mask.any())
    meta = {
        "label": CLASSES[corrupted],
        "label_index": int(corrupted),
        "impairment": impairment,
        "hard_negative": negative,
        "severity": 3 if corrupted else 0,
        "params": {},
        "area_ratio": float(mask.mean()),
        "source": "test",
        "source_id": f"test/{split}/{index}",
        "split": split,
        "frame_index": index,
        "t": index / 25.0,
        "crop": [0, 0, SIZE, SIZE],
        "seed": seed,
    }
    return {
        "__key__": f"{split}_{index:05d}",
        "frame.png": png(frame),
        "mask.png": png(mask.astype(np.uint8) * 255),
        "json": json.dumps(meta).encode(),
    }


def write_tiny_block_build(root: Path, counts: dict[str, int], shards: dict[str, int]) -> Path:
    """Shards under ``root/data/shards/block_corruption/`` and the card under
    ``root/data_manifests/``; returns the card path."""
    shard_dir = root / "data" / "shards" / "block_corruption"
    shard_dir.mkdir(parents=True, exist_ok=True)
    splits = {}
    for split_index, (split, count) in enumerate(counts.items()):
        rng = np.random.default_rng([7, split_index])
        samples = [make_sample(split, i, rng) for i in range(count)]
        listed = []
        n_shards = shards.get(split, 1)
        for shard in range(n_shards):
            path = shard_dir / f"{split}-{shard:06d}.tar"
            mine = samples[shard::n_shards]
            with wds.TarWriter(str(path), mtime=0) as writer:
                for sample in mine:
                    writer.write(sample)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            relative = str(path.relative_to(root))
            listed.append({"path": relative, "sha256": digest, "count": len(mine)})
        labels = [json.loads(s["json"])["label"] for s in samples]
        splits[split] = {
            "count": count,
            "per_class": {c: labels.count(c) for c in CLASSES},
            "shards": listed,
        }
    card = {"name": "block_corruption", "dataset": "block_corruption", "classes": CLASSES}
    card["splits"] = splits
    card["card_sha256"] = hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()
    path = root / "data_manifests" / "block_corruption.card.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2))
    return path


def shrink_block_config(cfg: DictConfig, build: Path, out: Path) -> DictConfig:
    """The shared shrink plus what a 64x64 build needs: a 48-px train crop, batches of 4."""
    cfg = shrink_config(cfg, build, out)
    with open_dict(cfg):
        cfg.detector.data.batch_size = 4
        cfg.detector.data.eval_batch_size = 8
        cfg.detector.data.train_transform.size = 48
        cfg.detector.module.overlay_samples = 2
    return cfg


@pytest.fixture(scope="session")
def tiny_block_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 train (2 shards), 8 val, 8 test 64x64 frames: half corrupted, a quarter hard negatives."""
    root = tmp_path_factory.mktemp("tiny_block_build")
    write_tiny_block_build(root, {"train": 16, "val": 8, "test": 8}, {"train": 2})
    return root


@pytest.fixture
def block_cfg(tiny_block_build: Path, tmp_path: Path) -> DictConfig:
    cfg = compose_config("train", ["detector=block_corruption"])
    return shrink_block_config(cfg, tiny_block_build, tmp_path)


@pytest.fixture(scope="session")
def block_export(tiny_block_build: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One epoch of the real train.py on the tiny build, exported: what export/detect tests use."""
    out = tmp_path_factory.mktemp("block_export")
    cfg = shrink_block_config(
        compose_config("train", ["detector=block_corruption"]), tiny_block_build, out
    )
    with open_dict(cfg):
        cfg.export = True
    metrics = load_entry_point("train").train(cfg)
    return Path(metrics["export_dir"])
