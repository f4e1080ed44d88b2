"""The ffmpeg blockdetect baseline: scores react to blockiness; val threshold; the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.training.block_corruption.conftest import natural_frame
from training.baselines.blockdetect import best_threshold, blockdetect_scores, main


def test_blocky_frames_score_higher() -> None:
    smooth = natural_frame(np.random.default_rng(1), 64, 64)
    blocky = smooth.reshape(8, 8, 8, 8, 3).mean(axis=(1, 3), keepdims=True)
    blocky = np.broadcast_to(blocky, (8, 8, 8, 8, 3)).reshape(64, 64, 3).astype(np.uint8)
    scores = blockdetect_scores([smooth, blocky, smooth])
    assert scores.shape == (3,)
    assert scores[1] > scores[0]
    assert scores[0] == scores[2]  # frames are scored independently (no state between frames)


def test_best_threshold_maximises_balanced_accuracy() -> None:
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.8, 0.9, 0.05])
    labels = np.array([0, 0, 0, 0, 1, 1, 1])
    threshold, bal_acc = best_threshold(scores, labels)
    assert threshold == pytest.approx(0.6)  # midway between the last clean and the next score
    assert bal_acc == pytest.approx(5 / 6)


def test_report_on_the_tiny_build(tiny_block_build: Path, tmp_path: Path) -> None:
    metrics = tmp_path / "metrics.json"
    fake = {
        "bal_acc": 0.9,
        "per_class_recall": {"clean": 0.9, "corrupted": 0.9},
        "hard_negative_accuracy": 0.8,
        "per_group_accuracy": {"codec_corruption": {"accuracy": 0.7, "count": 3}},
    }
    metrics.write_text(json.dumps({"v1": fake, "v2": fake}))
    out = tmp_path / "blockdetect.json"
    result = main(
        [
            f"--shards={tiny_block_build / 'data/shards/block_corruption'}",
            f"--card={tiny_block_build / 'data_manifests/block_corruption.card.json'}",
            f"--metrics={metrics}",
            f"--output={out}",
        ]
    )
    assert json.loads(out.read_text())["threshold"] == result["threshold"]
    assert result["test"]["count"] == 8 and result["val"]["count"] == 8
    assert result["val"]["bal_acc"] == result["val_bal_acc_at_threshold"]
    table = result["side_by_side_test"]
    assert set(table) == {"blockdetect", "v1", "v2"}
    assert table["v2"]["codec_corruption_acc"] == 0.7
    assert table["blockdetect"]["bal_acc"] == result["test"]["bal_acc"]
