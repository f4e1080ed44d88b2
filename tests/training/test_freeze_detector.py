"""The freeze detector end to end on a tiny real build: train, export, detect a file."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from omegaconf import open_dict

from impairments import media_io
from tests.conftest import TINY_FREEZE_BUILD
from training.detect.clips import ClipModel, analyse_clip_video, extend_freezes

from .conftest import compose_config, load_entry_point, shrink_config

TINY_BUILD = (*TINY_FREEZE_BUILD, "name=freeze", "workers=0")


@pytest.fixture(scope="module")
def freeze_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """(export folder, test metrics) of a two-epoch model on a tiny freeze build."""
    from impairments.builder.run import build_dataset

    root = tmp_path_factory.mktemp("freeze_detector")
    build_cfg = compose_config(
        "build",
        [
            *TINY_BUILD,
            f"output_dir={root / 'data' / 'shards' / 'freeze'}",
            f"manifest_dir={root / 'data_manifests'}",
        ],
    )
    build_dataset(build_cfg)
    cfg = shrink_config(compose_config("train", ["detector=freeze"]), root, root / "out")
    with open_dict(cfg):
        cfg.trainer.max_epochs = 2
        cfg.detector.data.batch_size = 8
        cfg.detector.data.train_transform.frames = 16
        cfg.callbacks.early_stopping = None
        cfg.export = True
    metrics = load_entry_point("train").train(cfg)
    return Path(metrics["export_dir"]), metrics["test_report"]


def moving_video(path: Path, freeze: tuple[int, int] | None, frames: int = 150) -> Path:
    rng = np.random.default_rng(0)
    texture = rng.integers(0, 255, size=(64, 96 + 2 * frames, 3), dtype=np.uint8)
    clip = np.stack([texture[:, 2 * i : 2 * i + 96] for i in range(frames)])
    if freeze:
        clip[freeze[0] : freeze[1]] = clip[freeze[0] - 1]
    return media_io.write_video(path, clip, fps=25.0, crf=0)


def test_training_reports_frame_and_event_metrics(freeze_run: tuple[Path, dict]) -> None:
    _, report = freeze_run
    assert 0.0 <= report["bal_acc"] <= 1.0
    assert set(report["events"]) >= {"tp", "fp", "fn", "precision", "recall", "f1"}
    assert set(report["events_per_kind"]) == {"freeze", "stutter"}
    assert set(report["clean_false_events"]) == {"plain_clean", "hard_negative"}


def test_export_is_faithful_at_any_clip_length(freeze_run: tuple[Path, dict]) -> None:
    export, _ = freeze_run
    card = json.loads((export / "model_card.json").read_text())
    assert card["parity"]["onnx_max_abs_diff"] <= card["parity"]["tolerance"]
    assert card["parity"]["torchscript_max_abs_diff"] <= card["parity"]["tolerance"]
    assert card["receptive_field_frames"] == 63
    model = ClipModel(export)
    for frames in (1, 40):
        probs = model(np.zeros((frames, 21), np.float32), np.zeros((frames, 96, 128), np.uint8))
        assert probs.shape == (frames, 3)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_windows_do_not_change_any_frame_decision(
    freeze_run: tuple[Path, dict], tmp_path: Path
) -> None:
    """Context wider than the receptive field on each side: seams are invisible."""
    export, _ = freeze_run
    video = moving_video(tmp_path / "a freeze.mp4", freeze=(50, 90))
    model = ClipModel(export)
    whole = analyse_clip_video(video, model, window=1000, overlap=0)
    pieces = analyse_clip_video(video, model, window=24, overlap=32)
    assert len(whole["frames"]) == len(pieces["frames"]) == 150
    for a, b in zip(whole["frames"], pieces["frames"], strict=True):
        assert a["p_freeze"] == pytest.approx(b["p_freeze"], abs=2e-4)
        assert a["p_stutter"] == pytest.approx(b["p_stutter"], abs=2e-4)


def test_detect_py_writes_the_report_schema(freeze_run: tuple[Path, dict], tmp_path: Path) -> None:
    from training.detect.cli import run

    export, _ = freeze_run
    video = moving_video(tmp_path / "-clip_ü.mp4", freeze=(50, 90))
    out = tmp_path / "report.json"
    cfg = compose_config(
        "detect", ["detector=freeze", f"checkpoint={export}", f"input='{video}'", f"output={out}"]
    )
    assert run(cfg) == 0
    report = json.loads(out.read_text())
    assert report["detector"] == "freeze" and report["fps"] == 25.0
    assert {"t", "index", "p_freeze", "p_stutter", "label"} <= set(report["frames"][0])
    for event in report["events"]:
        assert event["kind"] in ("freeze", "stutter") and event["end"] > event["start"]


def test_a_freeze_is_extended_while_frames_stay_repeats() -> None:
    zero = np.array([0.0] * 10 + [1.0] * 30 + [0.1] * 10)
    mean = np.array([5.0] * 10 + [0.0] * 30 + [4.0] * 10)
    events = [{"start": 0.4, "end": 0.8, "kind": "freeze"}]  # frames 10..19 of a 30-frame freeze
    assert extend_freezes(events, zero, mean, fps=25.0) == [
        {"start": 0.4, "end": 1.6, "kind": "freeze"}
    ]
    noisy_still = {"start": 0.0, "end": 0.2, "kind": "stutter"}
    assert extend_freezes([noisy_still], zero, mean, 25.0) == [noisy_still]


def test_a_model_for_other_features_is_refused(
    freeze_run: tuple[Path, dict], tmp_path: Path
) -> None:
    export, _ = freeze_run
    other = tmp_path / "export"
    other.mkdir()
    card = json.loads((export / "model_card.json").read_text())
    (other / "model_card.json").write_text(json.dumps({**card, "feature_version": "fd-0"}))
    with pytest.raises(ValueError, match="fd-0"):
        ClipModel(other)
