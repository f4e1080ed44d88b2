"""Tuning the v2 frame threshold on val: the val optimum, written where every runtime reads it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from training.detect.frame_runtime import load_frame_model
from training.tune_block_threshold import main, score_split


def _balanced_accuracy(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    flagged = scores > threshold
    return float(np.mean([flagged[labels == 1].mean(), (~flagged[labels == 0]).mean()]))


def test_threshold_is_the_val_optimum_and_reaches_every_runtime(
    block_export: Path, tiny_block_build: Path, tmp_path: Path
) -> None:
    export = tmp_path / "export"
    shutil.copytree(block_export, export)  # the session fixture stays untouched
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    val = score_split(load_frame_model(export), shards, "val")

    record = main([str(export), "--shards", str(shards), "--output", str(tmp_path / "r.json")])

    chosen = record["frame_threshold"]
    assert 0.0 <= chosen <= 1.0
    grid = np.concatenate([[0.0, 1.0], np.unique(val["score"]), np.linspace(0, 1, 201)])
    best = max(_balanced_accuracy(val["score"], val["label"], t) for t in grid)
    assert record["val"]["bal_acc"] == pytest.approx(best)
    assert _balanced_accuracy(val["score"], val["label"], chosen) == pytest.approx(best, abs=1e-6)
    assert record["val"]["bal_acc"] >= record["val"]["bal_acc_before"]
    assert record["test"][str(shards)]["v2"]["bal_acc"] is not None
    assert json.loads((tmp_path / "r.json").read_text())["frame_threshold"] == chosen

    card = json.loads((export / "model_card.json").read_text())
    assert card["decision"]["frame_threshold"] == chosen
    assert card["frame_threshold_tuning"]["frame_threshold_before"] == 0.5
    for runtime in ("onnx", "torchscript", "torch"):
        decision = load_frame_model(export, runtime=runtime).decision
        assert decision["frame_threshold"] == pytest.approx(chosen, abs=1e-6), runtime


def test_not_an_export_is_a_clear_error(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(tmp_path), "--shards", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "Traceback" not in err
