"""The real-footage block-corruption benchmark: labels, lossless files, report matching, metrics.

A tiny generated pan stands in for real footage (no ../shared/media); the end-to-end run through
``detect.py`` with a one-epoch export is ``slow``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import block_real_footage as bench
from impairments import media_io
from impairments.video.base import macroblock_mean_abs_diff
from impairments.video.codec_corruption import DAMAGED_BLOCK_DIFF
from impairments.video.visibility import visible_damage
from tests.training.block_corruption.conftest import (  # noqa: F401  (fixtures)
    block_export,
    natural_frame,
    tiny_block_build,
)


def panning_clip(frames: int = 12, height: int = 48, width: int = 80) -> np.ndarray:
    """A smooth image panned 2 px a frame: real-footage-like motion for the x264 predictor."""
    base = natural_frame(np.random.default_rng(3), height, width + 2 * frames)
    return np.stack([base[:, 2 * i : 2 * i + width] for i in range(frames)])


@pytest.fixture(scope="module")
def versions() -> list[tuple[bench.ClipVersion, np.ndarray]]:
    return bench.versions_of("pan", panning_clip(), 25.0, [3, 5], seed=0)


def test_versions_are_the_clean_decode_then_one_per_severity(versions) -> None:
    names = [v.name for v, _ in versions]
    assert names == ["pan.clean", "pan.s3", "pan.s5"]
    clean, _ = versions[0]
    assert clean.severity == 0 and not clean.labels.any()
    assert any(v.labels.any() for v, _ in versions[1:]), "severity 3/5 left no visible damage"
    for version, pixels in versions:
        assert pixels.shape == (12, 48, 80, 3) and pixels.dtype == np.uint8
        assert version.n_frames == 12 and version.size == (80, 48)


@pytest.mark.parametrize("label", ["visible", "difference"])
def test_labels_are_the_macroblocks_that_differ_from_the_same_encode_clean_decode(versions, label):
    """The benchmark's clean decode is exactly the impairment's reference: recomputing the
    label against it (the blocks that differ; with ``visible``, those of them the frame shows)
    reproduces the mask on every frame the decoder output."""
    if label != "visible":
        versions = bench.versions_of("pan", panning_clip(), 25.0, [3, 5], seed=0, label=label)
    for version, damaged in versions[1:]:
        drawn = version.params["params"]
        assert drawn.get("label", "difference") == label
        reference = bench.clean_decode(panning_clip(), drawn)
        blocks = macroblock_mean_abs_diff(reference, damaged) >= DAMAGED_BLOCK_DIFF
        if label == "visible":
            blocks = visible_damage(reference, damaged, blocks)
        shown = [i for i in range(version.n_frames) if i not in drawn["repeated_frames"]]
        assert np.array_equal(blocks[shown].sum(axis=(1, 2)), version.macroblocks[shown])
        if drawn["crf"] != versions[0][0].params["crf"]:
            continue
        assert np.array_equal(reference, versions[0][1])


def test_versions_are_reproducible_from_the_seed(versions) -> None:
    again = bench.versions_of("pan", panning_clip(), 25.0, [3, 5], seed=0)
    for (a, pa), (b, pb) in zip(versions, again, strict=True):
        assert np.array_equal(pa, pb) and np.array_equal(a.macroblocks, b.macroblocks)
    other = bench.versions_of("pan", panning_clip(), 25.0, [3], seed=1)
    assert other[1][0].params["params"] != versions[1][0].params["params"]


def test_tiny_damage_gets_its_own_group() -> None:
    version = bench.ClipVersion(
        "x.s1", "x", 1, 25.0, (64, 64),
        area_ratio=np.array([0.0, 0.005, 0.2]), macroblocks=np.array([0, 1, 40]),
    )  # fmt: skip
    assert [bench.GROUPS[g] for g in version.groups()] == [
        "damaged_clip_intact", "codec_corruption_tiny", "codec_corruption",
    ]  # fmt: skip
    clean = bench.ClipVersion("x.clean", "x", 0, 25.0, (64, 64), np.zeros(2), np.zeros(2, int))
    assert [bench.GROUPS[g] for g in clean.groups()] == ["clean_decode"] * 2


def test_lossless_files_decode_back_bit_exactly_with_pts_as_index(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).integers(0, 256, (6, 33, 47, 3), dtype=np.uint8)
    path = bench.write_lossless(tmp_path / "odd.mp4", frames, 22.131147540983605)
    decoded = list(media_io.iter_video_frames(path))
    assert len(decoded) == 6
    assert all(np.array_equal(frame, f) for (_, frame), f in zip(decoded, frames, strict=True))
    times = np.array([t for t, _ in decoded])
    assert np.allclose(times, np.arange(6) / 22.131147540983605, atol=1e-3)


def test_read_clip_scales_to_max_height_and_stops_after_the_requested_seconds(tmp_path):
    path = media_io.write_video(tmp_path / "c.mp4", panning_clip(30, 64, 96), 25.0)
    frames, fps = bench.read_clip(path, seconds=0.4, max_height=32)
    assert fps == 25.0 and frames.shape == (10, 32, 48, 3)
    text = tmp_path / "not_video.mp4"
    text.write_text("hello")
    with pytest.raises(media_io.MediaError, match=r"not_video\.mp4"):
        bench.read_clip(text, 1.0, 720)


def _report(path: Path, indices: list[int]) -> Path:
    rows = [
        {"t": i / 25, "index": i, "corrupted": i % 2 == 1, "area_ratio": i / 10, "score": i / 10}
        for i in indices
    ]
    path.write_text(json.dumps({"frames": rows, "decision": "v2", "model": {"decision": {}}}))
    return path


def test_report_rows_are_matched_by_frame_index(tmp_path: Path) -> None:
    columns = bench.report_columns(_report(tmp_path / "r.json", [2, 0, 1]), n_frames=3)
    assert columns["score"].tolist() == [0.0, 0.1, 0.2]
    assert columns["v2"].tolist() == [False, True, False]
    with pytest.raises(ValueError, match=r"r2\.json: report covers 2 frames"):
        bench.report_columns(_report(tmp_path / "r2.json", [0, 2]), n_frames=3)
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        bench.report_columns(tmp_path / "missing.json")


@pytest.mark.parametrize(
    ("scores", "labels", "expected"),
    [
        ([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1], 1.0),
        ([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1], 0.0),
        ([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1], 0.5),
        ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1], 0.75),
        ([0.3, 0.3, 0.3], [1, 1, 1], None),
    ],
)
def test_roc_auc(scores, labels, expected) -> None:
    assert bench.roc_auc(np.array(scores), np.array(labels)) == expected


def test_evaluate_scores_real_frames_and_counts_hard_negative_alarms_apart() -> None:
    group = {name: bench.ALL_GROUPS.index(name) for name in bench.ALL_GROUPS}
    columns = {
        "clip": np.array(["a.clean"] * 2 + ["a.s3"] * 2 + ["hn.mp4"] * 4),
        "label": np.array([0, 0, 1, 1, 0, 0, 0, 0]),
        "group": np.array(
            [group["clean_decode"]] * 2
            + [group["codec_corruption"]] * 2
            + [group["hard_negative"]] * 4
        ),
        "severity": np.array([0, 0, 3, 3, 0, 0, 0, 0]),
        "area_true": np.array([0, 0, 0.5, 0.3, 0, 0, 0, 0]),
        "score": np.array([0.1, 0.2, 0.9, 0.3, 0.1, 0.6, 0.1, 0.1]),
        "area_pred": np.array([0.0, 0.1, 0.4, 0.0, 0.0, 0.0, 0.0, 0.0]),
        "v2": np.array([False, False, True, False, False, True, False, False]),
        "blockdetect": np.array([1.0, 1.0, 2.0, 2.0, 3.0, 1.0, 1.0, 1.0]),
    }
    results = bench.evaluate(columns, area_threshold=0.07, blockdetect_cut=1.5)
    v1, v2, block = results["v1"], results["v2"], results["blockdetect"]
    assert v1["per_class_recall"] == {"clean": 0.5, "corrupted": 0.5} and v1["bal_acc"] == 0.5
    assert v1["hard_negative_false_alarm_rate"] == 0.0
    assert v2["bal_acc"] == 0.75 and v2["hard_negative_false_alarm_rate"] == 0.25
    assert v2["hard_negative_false_alarm_rate_per_clip"] == {"hn.mp4": 0.25}
    assert block["bal_acc"] == 1.0 and block["roc_auc"] == 1.0
    assert v2["with_hard_negatives_bal_acc"] == pytest.approx((5 / 6 + 0.5) / 2)
    assert results["area_ratio_error"]["mean_abs_error_corrupted_frames"] == pytest.approx(0.2)
    cut = bench.evaluate(columns, area_threshold=0.07, blockdetect_cut=1.5, v2_thresholds=[0.25])
    assert cut["v2@0.25"]["per_class_recall"] == {"clean": 1.0, "corrupted": 1.0}
    assert cut["v2@0.25"]["hard_negative_false_alarm_rate"] == 0.25
    assert cut["v2@0.25"]["roc_auc"] == v2["roc_auc"] and cut["v2"] == v2
    labels = {"clean_frames": 4, "corrupted_frames": 2, "tiny_area_share": 0.0,
              "hard_negative_frames": 4}  # fmt: skip
    assert "v2@0.25" in bench.table(cut, labels)


def test_table_lists_each_decision() -> None:
    entry = {"bal_acc": 0.9, "per_class_recall": {"clean": 1.0, "corrupted": 0.8},
             "hard_negative_false_alarm_rate": 0.1, "roc_auc": 0.95}  # fmt: skip
    labels = {"clean_frames": 10, "corrupted_frames": 8, "tiny_area_share": 0.25,
              "hard_negative_frames": 5}  # fmt: skip
    text = bench.table({"v1": entry, "v2": entry, "blockdetect": {"roc_auc": 0.6}}, labels)
    assert "25.0% of corrupted frames < 1% area" in text
    assert text.splitlines()[-1].split() == ["blockdetect", "-", "-", "-", "-", "-", "0.600"]


def test_bad_arguments_name_the_problem(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--videos", str(tmp_path), "--export", "e", "--severities", "9"])
    assert "--severities must be in 1..5" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        bench.main(["--videos", str(tmp_path / "nope"), "--export", "e", "--no-blockdetect",
                    "--output", str(tmp_path / "r.json")])  # fmt: skip
    assert "nope: not a folder of videos" in capsys.readouterr().err


@pytest.mark.slow
def test_end_to_end_through_detect_py(block_export: Path, tmp_path: Path) -> None:  # noqa: F811
    videos, hard = tmp_path / "videos", tmp_path / "videos" / "hard_negatives"
    hard.mkdir(parents=True)
    media_io.write_video(videos / "pan.mp4", panning_clip(16, 64, 96), 25.0, crf=12)
    media_io.write_video(hard / "still.mp4", panning_clip(6, 64, 96), 25.0, crf=12)
    output = tmp_path / "result.json"
    result = bench.main([
        "--videos", str(videos), "--hard-negatives", str(hard), "--export", str(block_export),
        "--seconds", "1", "--severities", "3", "5", "--blockdetect-threshold", "1.2",
        "--work-dir", str(tmp_path / "work"), "--output", str(output),
    ])  # fmt: skip
    assert json.loads(output.read_text())["labels"] == result["labels"]
    assert [c["name"] for c in result["clips"]] == ["pan.clean", "pan.s3", "pan.s5"]
    assert result["hard_negative_clips"] == ["still.mp4"]
    assert result["labels"]["hard_negative_frames"] == 6
    assert result["labels"]["clean_frames"] + result["labels"]["corrupted_frames"] == 48
    for name in ("v1", "v2", "blockdetect"):
        assert 0.0 <= result["results"][name]["bal_acc"] <= 1.0
