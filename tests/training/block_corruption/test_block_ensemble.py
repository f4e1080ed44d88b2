"""The ensemble / flip benchmark: each combination is the average of its members' scores, its
threshold the pooled-val optimum, and the deployable pick is chosen on val."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks import block_ensemble as bench
from training.baselines.blockdetect import best_threshold
from training.detect.frame_runtime import load_frame_model
from training.tune_block_threshold import score_split


def _bal(scores: np.ndarray, labels: np.ndarray, threshold: float) -> float:
    flagged = scores > threshold
    return float(np.mean([flagged[labels == 1].mean(), (~flagged[labels == 0]).mean()]))


def test_mirrored_model_sees_the_flipped_frame(block_export: Path) -> None:
    model = load_frame_model(block_export)
    frames = np.random.default_rng(0).integers(0, 256, (2, 64, 96, 3), dtype=np.uint8)
    flipped = model(np.ascontiguousarray(frames[:, :, ::-1]))["frame_score"]
    assert np.allclose(bench.mirrored(model)(frames)["frame_score"], flipped, atol=1e-6)
    assert not np.allclose(model(frames)["frame_score"], flipped, atol=1e-6)


def test_member_sets_are_every_subset_up_to_the_limit() -> None:
    assert list(bench.member_sets(3, 2)) == [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2)]
    assert len(list(bench.member_sets(4, 4))) == 15


def test_averaged_refuses_different_frames() -> None:
    a = {"score": np.array([0.2, 0.8]), "label": np.array([0, 1])}
    b = {"score": np.array([0.4, 0.6]), "label": np.array([0, 1])}
    assert np.allclose(bench.averaged([a, b])["score"], [0.3, 0.7])
    with pytest.raises(ValueError, match="different frames"):
        bench.averaged([a, {**b, "label": np.array([1, 0])}])


def test_every_combination_is_the_mean_score_at_its_val_threshold(
    block_export: Path, tiny_block_build: Path, tmp_path: Path
) -> None:
    second = tmp_path / "second"
    shutil.copytree(block_export, second)
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    output = tmp_path / "ensemble.json"

    record = bench.main(
        [str(block_export), str(second), "--shards", str(shards), "--flip", "--output", str(output)]
    )

    # 3 member sets x 2 view sets; the same model twice is the model itself.
    assert len(record["combinations"]) == 6
    assert json.loads(output.read_text())["best_on_val"] == record["best_on_val"]
    model = load_frame_model(block_export)
    val, test = score_split(model, shards, "val"), score_split(model, shards, "test")
    mirror = bench.mirrored(model)
    val_m, test_m = score_split(mirror, shards, "val"), score_split(mirror, shards, "test")
    expected = {
        ("stored",): (val["score"], test["score"]),
        ("stored", "mirrored"): (
            (val["score"] + val_m["score"]) / 2,
            (test["score"] + test_m["score"]) / 2,
        ),
    }
    for combo in record["combinations"]:
        val_scores, test_scores = expected[tuple(combo["views"])]
        threshold, val_bal = best_threshold(val_scores, val["label"])
        assert combo["val_bal_acc"] == pytest.approx(val_bal)
        assert combo["threshold"] == pytest.approx(np.clip(threshold, 0, 1), abs=1e-6)
        cell = combo["test"][str(shards)]
        assert cell["v2"]["bal_acc"] == pytest.approx(
            _bal(test_scores, test["label"], combo["threshold"]), abs=1e-6
        )
        assert cell["v2_at_0.5"]["bal_acc"] == pytest.approx(_bal(test_scores, test["label"], 0.5))
    assert record["best_on_val"]["val_bal_acc"] == max(
        c["val_bal_acc"] for c in record["combinations"]
    )
    ceiling = record["best_on_each_test_split_as_a_ceiling"][str(shards)]
    assert ceiling["test"][str(shards)]["v2"]["bal_acc"] == max(
        c["test"][str(shards)]["v2"]["bal_acc"] for c in record["combinations"]
    )
    assert record["frames"] == {"val": len(val["label"]), str(shards): len(test["label"])}


def test_not_an_export_is_a_clear_error(tiny_block_build: Path, tmp_path: Path, capsys) -> None:
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    with pytest.raises(SystemExit) as exit_info:
        bench.main([str(tmp_path), "--shards", str(shards)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert str(tmp_path) in err and "Traceback" not in err
