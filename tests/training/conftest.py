"""Fixtures for the training tests: a tiny shard build in the builder's format, composed configs.

``write_tiny_audio_build`` is the one place that makes data; it writes exactly what
``impairments.build`` writes (shards + dataset card), so it can be swapped for the real builder.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import soundfile
import webdataset as wds
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, open_dict

os.environ["WANDB_MODE"] = "disabled"
os.environ.setdefault("WANDB_SILENT", "true")

REPO = Path(__file__).resolve().parents[2]
CONF_DIR = str(REPO / "conf")
os.environ.setdefault("PROJECT_ROOT", str(REPO))

CLASSES = ["none", "hum", "hiss", "distortion", "clicks"]
SAMPLE_RATE = 32000


def clean_content(
    rng: np.random.Generator, n: int = SAMPLE_RATE, lowest_hz: float = 150.0
) -> np.ndarray:
    """Music-ish clean audio: a few enveloped partials over soft coloured noise."""
    t = np.arange(n) / SAMPLE_RATE
    audio = np.zeros(n)
    for _ in range(rng.integers(2, 6)):
        freq = rng.uniform(lowest_hz, 3000)
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(0.5, 3) * t + rng.uniform(0, 6))
        audio += rng.uniform(0.03, 0.15) * envelope * np.sin(2 * np.pi * freq * t)
    noise = np.cumsum(rng.standard_normal(n)) * 0.001
    noise -= np.convolve(noise, np.ones(200) / 200, mode="same")
    return (audio + noise).astype(np.float32)


def _numpy_impairment(name: str, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Fallback impairments if the impairment library cannot be imported."""
    t = np.arange(len(x)) / SAMPLE_RATE
    if name == "hum":
        return x + sum(0.05 / k * np.sin(2 * np.pi * 50 * k * t) for k in range(1, 6))
    if name == "hiss":
        return x + rng.standard_normal(len(x)) * 0.03
    if name == "distortion":
        return np.clip(x * 4, -0.2, 0.2)
    y = x.copy()
    y[rng.integers(0, len(x), 8)] = 0.9
    return y


def impair(name: str, x: np.ndarray, severity: int, seed: int) -> np.ndarray:
    try:
        import impairments

        y, _ = impairments.get(name, severity=severity)(x, sample_rate=SAMPLE_RATE, seed=seed)
        return np.asarray(y, dtype=np.float32)
    except ImportError:
        return _numpy_impairment(name, x, np.random.default_rng(seed)).astype(np.float32)


def flac_bytes(x: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.clip(x, -1, 1), SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    return buffer.getvalue()


def write_tiny_audio_build(
    root: Path,
    per_class: dict[str, int],
    shards: dict[str, int],
    seed: int = 0,
    min_severity: int = 1,
) -> Path:
    """Write ``root/data/shards/audio_artifact/<split>-NNNNNN.tar`` + ``root/data_manifests/
    audio_artifact.card.json`` in the builder's format; return the card path."""
    shard_dir = root / "data" / "shards" / "audio_artifact"
    shard_dir.mkdir(parents=True, exist_ok=True)
    card_splits = {}
    for split_index, (split, n_per_class) in enumerate(per_class.items()):
        rng = np.random.default_rng([seed, split_index])
        samples = []
        for label_index, label in enumerate(CLASSES):
            for i in range(n_per_class):
                sample_seed = int(rng.integers(2**31))
                x = clean_content(np.random.default_rng(sample_seed))
                severity = 0 if label == "none" else int(rng.integers(min_severity, 6))
                if label != "none":
                    x = impair(label, x, severity, sample_seed)
                meta = {
                    "label": label,
                    "label_index": label_index,
                    "severity": severity,
                    "impairment": None
                    if label == "none"
                    else {"kind": label, "severity": severity},
                    "source_id": f"tone-{sample_seed}",
                    "source": "test",
                    "offset_s": 0.0,
                    "sample_rate": SAMPLE_RATE,
                    "seed": sample_seed,
                    "split": split,
                }
                key = f"{split}_{label}_{i:05d}"
                samples.append(
                    {"__key__": key, "flac": flac_bytes(x), "json": json.dumps(meta).encode()}
                )
        order = rng.permutation(len(samples))
        n_shards = shards.get(split, 1)
        listed = []
        for shard_index in range(n_shards):
            path = shard_dir / f"{split}-{shard_index:06d}.tar"
            mine = [samples[j] for j in order[shard_index::n_shards]]
            with wds.TarWriter(str(path), mtime=0) as writer:
                for sample in mine:
                    writer.write(sample)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            listed.append(
                {"path": str(path.relative_to(root)), "sha256": digest, "count": len(mine)}
            )
        card_splits[split] = {
            "count": len(samples),
            "per_class": {c: n_per_class for c in CLASSES},
            "shards": listed,
        }
    card = {
        "dataset": "audio_artifact",
        "classes": CLASSES,
        "sample_rate": SAMPLE_RATE,
        "segment_s": 1.0,
        "channels": 1,
        "splits": card_splits,
    }
    card["card_sha256"] = hashlib.sha256(json.dumps(card, sort_keys=True).encode()).hexdigest()
    card_path = root / "data_manifests" / "audio_artifact.card.json"
    card_path.parent.mkdir(parents=True, exist_ok=True)
    card_path.write_text(json.dumps(card, indent=2))
    return card_path


@pytest.fixture(scope="session")
def tiny_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 samples per class and split (40 per split); train in 2 shards to exercise splitting."""
    root = tmp_path_factory.mktemp("tiny_build")
    write_tiny_audio_build(root, {"train": 8, "val": 8, "test": 8}, {"train": 2})
    return root


def compose_config(name: str, overrides: list[str] | None = None) -> DictConfig:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(name, overrides=overrides or [], return_hydra_config=False)


def shrink_config(cfg: DictConfig, build: Path, out: Path) -> DictConfig:
    """CPU, one quick epoch, no logger, no workers, every output under ``out``."""
    with open_dict(cfg):
        cfg.paths.data_dir = str(build / "data")
        cfg.paths.manifest_dir = str(build / "data_manifests")
        cfg.paths.output_dir = str(out / "run")
        cfg.paths.log_dir = str(out / "logs")
        cfg.paths.export_dir = str(out / "exports")
        cfg.run_name = "test-run"
        cfg.trainer.max_epochs = 1
        cfg.trainer.accelerator = "cpu"
        cfg.trainer.devices = 1
        cfg.trainer.enable_progress_bar = False
        cfg.trainer.enable_model_summary = False
        cfg.detector.data.num_workers = 0
        cfg.detector.data.batch_size = 16
        cfg.detector.data.eval_batch_size = 16
        cfg.detector.data.shuffle_buffer = 16
        cfg.logger = None
        cfg.export = False
    return cfg


def load_entry_point(name: str) -> ModuleType:
    """Import ``<repo>/<name>.py`` (train.py, detect.py) as a module."""
    spec = importlib.util.spec_from_file_location(f"{name}_entry", REPO / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture
def compose_train() -> Callable[..., DictConfig]:
    return lambda overrides=None: compose_config("train", overrides)


@pytest.fixture
def shrink() -> Callable[[DictConfig, Path, Path], DictConfig]:
    return shrink_config


@pytest.fixture(scope="session")
def train_entry() -> ModuleType:
    return load_entry_point("train")


@pytest.fixture(scope="session")
def detect_entry() -> ModuleType:
    return load_entry_point("detect")


@pytest.fixture
def cfg_train(tiny_build: Path, tmp_path: Path) -> Iterator[DictConfig]:
    yield shrink_config(compose_config("train", ["detector=audio_artifact"]), tiny_build, tmp_path)


@pytest.fixture(scope="session")
def trained_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Train the default light model briefly on strong impairments (severity 4-5) with the real
    train.py, and export it: the model the export and detect tests use. It must actually detect
    hum, so the detect tests can check a known impairment is found where it was put."""
    root = tmp_path_factory.mktemp("strong_build")
    write_tiny_audio_build(
        root, {"train": 32, "val": 8, "test": 8}, {"train": 2}, seed=1, min_severity=4
    )
    cfg = shrink_config(compose_config("train", ["detector=audio_artifact"]), root, root / "out")
    with open_dict(cfg):
        cfg.trainer.max_epochs = 10
        cfg.detector.data.batch_size = 20
        cfg.callbacks.early_stopping = None
        cfg.export = True
    metrics = load_entry_point("train").train(cfg)
    return Path(metrics["export_dir"])


@pytest.fixture(scope="session")
def programme_with_hum() -> tuple[np.ndarray, tuple[int, ...]]:
    """8 s of clean music-like audio with strong mains hum added to seconds 3-5 only.

    Partials start at 300 Hz so no clean second carries a tone on a mains harmonic (a real hard
    negative, but not what this test is about)."""
    hum_seconds = (3, 4, 5)
    rng = np.random.default_rng(5)
    pieces = []
    for second in range(8):
        piece = clean_content(np.random.default_rng(int(rng.integers(2**31))), lowest_hz=300.0)
        if second in hum_seconds:
            piece = impair("hum", piece, 5, 100 + second)
        pieces.append(piece)
    return np.concatenate(pieces), hum_seconds


@pytest.fixture
def compose_detect() -> Callable[..., DictConfig]:
    return lambda overrides=None: compose_config("detect", overrides)
