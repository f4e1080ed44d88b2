"""The error gallery lists exactly the frames the export's decision gets wrong, and draws them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.block_errors import boundary_step, main
from training.detect.frame_runtime import load_frame_model
from training.tune_block_threshold import score_split


def _export_with_threshold(block_export: Path, tmp_path: Path, threshold: float) -> Path:
    export = tmp_path / f"export_{threshold}"
    shutil.copytree(block_export, export)  # the session fixture stays untouched
    card_path = export / "model_card.json"
    card = json.loads(card_path.read_text())
    card["decision"]["frame_threshold"] = threshold
    card_path.write_text(json.dumps(card))
    return export


def test_errors_are_the_frames_the_decision_gets_wrong(
    block_export: Path, tiny_block_build: Path, tmp_path: Path
) -> None:
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    scored = score_split(load_frame_model(block_export), shards, "test")
    # A threshold between the scores, so that both kinds of error can occur.
    threshold = float(np.median(scored["score"]))
    export = _export_with_threshold(block_export, tmp_path, threshold)

    record = main([str(export), "--shards", str(shards), "--output", str(tmp_path / "errors")])

    flagged = scored["score"] > threshold
    wrong = flagged != (scored["label"] == 1)
    listed = record["listed"]
    assert record["frames"] == len(scored["label"])
    assert len(listed) == int(wrong.sum())
    assert record["errors"]["missed"]["count"] == int((wrong & (scored["label"] == 1)).sum())
    assert record["errors"]["false_alarm"]["count"] == int((wrong & (scored["label"] == 0)).sum())
    for kind in ("missed", "false_alarm"):
        summary = record["errors"][kind]
        for field in ("by_group", "by_content", "by_severity"):
            assert sum(summary[field].values()) == summary["count"]
    for error in listed:
        assert (error["score"] > threshold) == (error["kind"] == "false_alarm")
    edges = record["edge_visibility"]
    counted = sum(cell[o]["count"] for cell in edges.values() for o in ("missed", "detected"))
    assert counted == int((scored["label"] == 1).sum())  # the tiny build's masks all have edges
    missed = sum(cell["missed"]["count"] for cell in edges.values())
    assert missed == record["errors"]["missed"]["count"]
    saved = json.loads((tmp_path / "errors.json").read_text())
    assert saved["listed"] == listed
    if listed:
        assert Path(record["figure"]).is_file()


@pytest.mark.parametrize(("threshold", "kind"), [(1.0, "missed"), (-1.0, "false_alarm")])
def test_a_threshold_past_every_score_makes_one_kind_of_error(
    block_export: Path, tiny_block_build: Path, tmp_path: Path, threshold: float, kind: str
) -> None:
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    export = _export_with_threshold(block_export, tmp_path, threshold)
    record = main(
        [str(export), "--shards", str(shards), "--output", str(tmp_path / "e"), "--per-group", "1"]
    )
    labels = score_split(load_frame_model(export), shards, "test")["label"]
    expected = int((labels == 1).sum()) if kind == "missed" else int((labels == 0).sum())
    assert record["errors"][kind]["count"] == expected > 0
    assert {error["kind"] for error in record["listed"]} == {kind}
    assert Path(record["figure"]).is_file()


def test_v1_uses_the_area_rule(block_export: Path, tiny_block_build: Path, tmp_path: Path) -> None:
    shards = tiny_block_build / "data" / "shards" / "block_corruption"
    model = load_frame_model(block_export)
    scored = score_split(model, shards, "test")
    arguments = ["--shards", str(shards), "--decision", "v1", "--output", str(tmp_path / "v1")]
    record = main([str(block_export), *arguments])
    flagged = scored["area"] > float(model.decision["area_threshold"])
    assert len(record["listed"]) == int((flagged != (scored["label"] == 1)).sum())
    assert record["threshold"] == model.decision["area_threshold"]


def test_missing_shards_are_a_clear_error(block_export: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(block_export), "--shards", str(tmp_path / "nothing"), "--output", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "nothing" in err and "Traceback" not in err


def test_boundary_step_measures_the_edge_of_the_damage() -> None:
    frame = np.full((64, 64, 3), 100, dtype=np.uint8)
    mask = np.zeros((64, 64), dtype=bool)
    mask[16:32, 16:48] = True
    faint, strong = frame.copy(), frame.copy()
    faint[mask] += 2
    strong[mask] += 40
    assert boundary_step(faint, mask) == pytest.approx(2.0)
    assert boundary_step(strong, mask) == pytest.approx(40.0)
    assert np.isnan(boundary_step(frame, np.zeros((64, 64), dtype=bool)))
    assert np.isnan(boundary_step(frame, np.ones((64, 64), dtype=bool)))
