"""The lip-opening benchmark's shard mode on a toy ``lip_sync`` build: stored lip points that
open with the speech are read, thresholds come from val, and both measures are reported."""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import pytest
import webdataset as wds

from benchmarks import lip_opening_baseline as benchmark
from training.baselines.lip_opening import INNER_PAIRS, MOUTH_CORNERS

C = 15
FRAMES = 80
OFFSETS = (0.0, 4.0, -7.0, 12.0)  # frames: in sync, then three out-of-sync variants


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def speaking_track(seed: int) -> dict[str, bytes]:
    """One shard sample: lip points whose inner gap follows a syllable envelope, the audio rows
    (noise under that envelope) shifted by ``OFFSETS``; grey faces (FaceMesh finds none)."""
    rng = np.random.default_rng(seed)
    lead_in = 20
    total = FRAMES + 2 * C + 2 * lead_in
    envelope = np.clip(np.convolve(rng.random(total) > 0.6, np.ones(3) / 3, "same"), 0, 1)
    gaps = 1.0 + 10.0 * envelope[C + lead_in : C + lead_in + FRAMES]
    lips = np.zeros((FRAMES, 40, 2), np.float32)
    lips[:, MOUTH_CORNERS[0]], lips[:, MOUTH_CORNERS[1]] = (30.0, 72.0), (66.0, 72.0)
    for upper, lower in INNER_PAIRS:
        lips[:, upper, 0] = lips[:, lower, 0] = 48.0
        lips[:, upper, 1], lips[:, lower, 1] = 72.0 - gaps / 2, 72.0 + gaps / 2
    noise = rng.normal(size=total * 640) * np.repeat(envelope, 640) * 8000
    rows = []
    for late in OFFSETS:
        start = (lead_in - int(late)) * 640  # audio row frame j is heard at picture frame j - C
        rows.append(noise[start : start + (FRAMES + 2 * C) * 640])
    meta = {
        "group": f"speaker_{seed}",
        "context_frames": C,
        "variants": [{"offset_frames": late} for late in OFFSETS],
    }
    return {
        "__key__": f"track_{seed:03d}",
        "faces.npy": _npy(np.full((FRAMES, 96, 96, 3), 128, np.uint8)),
        "lips.npy": _npy(lips),
        "audio.npy": _npy(np.clip(np.stack(rows), -32768, 32767).astype(np.int16)),
        "json": json.dumps(meta).encode(),
    }


@pytest.fixture
def toy_build(tmp_path: Path) -> Path:
    for split, seeds in (("val", (1, 2, 3)), ("test", (4, 5, 6, 7))):
        with wds.TarWriter(str(tmp_path / f"{split}-000000.tar")) as sink:
            for seed in seeds:
                sink.write(speaking_track(seed))
    return tmp_path


def test_shard_mode_tunes_on_val_and_scores_both_measures(toy_build: Path) -> None:
    args = benchmark.parse_args(["--shards", str(toy_build), "--output", str(toy_build / "r.json")])
    result = benchmark.run(args, toy_build)
    assert result["default_measure"] == "landmarks"
    assert result["tracks"]["test"] == {
        "count": 4,
        "speakers": [f"speaker_{s}" for s in (4, 5, 6, 7)],
        "lips_stored": 4,
    }
    landmarks = result["measures"]["landmarks"]
    assert landmarks["scalars"]["bal_acc"] == 1.0
    assert landmarks["scalars"]["offset_acc"] == 1.0
    assert landmarks["report"]["class_count"] == {"in_sync": 4, "out_of_sync": 12}
    # Grey faces: the pixel measure sees no mouth at all, so every face variant is inconclusive.
    assert result["measures"]["pixels"]["report"]["per_bucket"]["0-40"]["inconclusive"] == 1.0
    assert "-- opening from landmarks (default)" in benchmark.summary(result)
    assert all(Path(p).is_file() for p in result["figures"])


def test_missing_split_is_named(tmp_path: Path) -> None:
    args = argparse.Namespace(shards=tmp_path, output=tmp_path / "r.json")
    with pytest.raises(FileNotFoundError, match="no val-"):
        benchmark.run_on_shards(args)


def test_output_follows_the_mode() -> None:
    assert benchmark.parse_args(["--shards", "x"]).output == benchmark.DEFAULT_OUTPUT["shards"]
    assert benchmark.parse_args(["--videos", "x"]).output == benchmark.DEFAULT_OUTPUT["videos"]
    with pytest.raises(SystemExit):
        benchmark.parse_args(["--shards", "x", "--videos", "y"])
