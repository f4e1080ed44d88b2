"""Shared fixtures: composing the real build config, and a small catalogue of generated media."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from impairments import media_io

os.environ.setdefault("WANDB_MODE", "disabled")
CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


@pytest.fixture
def build_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """Compose ``conf/build.yaml`` with overrides, writing into ``tmp_path``."""

    def make(*overrides: str, out: str = "build") -> DictConfig:
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            return compose(
                config_name="build",
                overrides=[
                    f"output_dir={tmp_path / out / 'shards'}",
                    f"manifest_dir={tmp_path / out / 'manifests'}",
                    *overrides,
                ],
            )

    return make


def music_like(seconds: float, rate: int, seed: int, channels: int = 2) -> np.ndarray:
    """Notes with envelopes over a little noise: content that is clearly not silent or constant."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    out = np.zeros((channels, t.size))
    for start in np.arange(0, seconds, 0.25):
        freq = 110 * 2 ** (rng.integers(0, 36) / 12)
        envelope = np.exp(-np.maximum(t - start, 0) * 6) * (t >= start)
        out += 0.15 * envelope * np.sin(2 * np.pi * freq * t + rng.uniform(0, 6))
    out += 0.01 * rng.standard_normal(out.shape)
    return (out / max(1e-9, np.abs(out).max()) * 0.5).astype(np.float32)


@pytest.fixture(scope="session")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Twelve playable files in several formats and awkward names, plus everyday bad input."""
    root = tmp_path_factory.mktemp("catalogue")
    (root / "sub folder").mkdir()
    names = [
        "a.wav",
        "b.flac",
        "c.mp3",
        "d.ogg",
        "e.m4a",
        "-dash.wav",
        "sub folder/it's ü.flac",
        "f.wav",
        "g.flac",
        "h.wav",
        "i.mp3",
        "j.flac",
    ]
    for index, name in enumerate(names):
        rate = (8_000, 22_050, 44_100, 48_000)[index % 4]
        media_io.write_audio(root / name, music_like(4.0, rate, index), rate)
    frames = np.random.default_rng(0).integers(0, 255, (10, 32, 32, 3), dtype=np.uint8)
    media_io.write_video(
        root / "clip.mp4", frames, 25, audio=music_like(4.0, 48_000, 99), sample_rate=48_000
    )
    (root / "broken.mp3").write_text("not audio\n" * 50)
    (root / "empty.wav").write_bytes(b"")
    media_io.write_audio(root / "short.wav", music_like(0.3, 16_000, 5), 16_000)
    media_io.write_video(root / "no_audio.mp4", frames, 25)
    hum_t = np.arange(6 * 16_000) / 16_000
    humming = music_like(6.0, 16_000, 7, channels=1) + 0.1 * np.sin(2 * np.pi * 60 * hum_t)
    media_io.write_audio(root / "hummy.flac", humming.astype(np.float32), 16_000)
    good = (root / "a.wav").read_bytes()
    (root / "truncated.wav").write_bytes(good[: len(good) // 2])
    return root


# Tiny but real: 1-second clips of small moving scenes, every class, every impairment.
TINY_FREEZE_BUILD = (
    "dataset=freeze",
    "dataset.clip_s=1.0",
    "dataset.hop_s=0.5",
    "dataset.samples_per_shard=4",
    "dataset.min_motion=0.3",
    "dataset.builtin_video.height=48",
    "dataset.builtin_video.width=64",
    "dataset.builtin_video.duration_s=2.0",
    "dataset.builtin_video.fps=25",
    "dataset.builtin_video.clips=false",
    "dataset.builtin_video.items_per_kind=2",
    "dataset.builtin_video.photo_items=2",
    "dataset.builtin_video.photos=[coffee,astronaut]",
    "dataset.builtin_video.kinds=[texture,fast_motion]",
)
