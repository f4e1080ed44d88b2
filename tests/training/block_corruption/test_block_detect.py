"""detect.py detector=block_corruption: generated video, sampling, events, contact sheet, errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.training.block_corruption.conftest import corrupt, natural_frame
from training.detect.cli import run
from training.detect.frames import merge_events, sample_at_fps

FPS = 10
N_FRAMES = 12


@pytest.fixture(scope="module")
def video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 frames at 10 fps, 64x96, a green macroblock run in frames 4-7."""
    from impairments import media_io

    rng = np.random.default_rng(3)
    base = natural_frame(rng, 64, 96)
    frames = []
    for i in range(N_FRAMES):
        frame = np.roll(base, 2 * i, axis=1)
        if 4 <= i < 8:
            frame, _ = corrupt(frame, "block_flat", np.random.default_rng(0))
        frames.append(frame)
    path = tmp_path_factory.mktemp("video") / "clip.mp4"
    media_io.write_video(path, np.stack(frames), FPS)
    return path


def detect(compose_detect, **overrides: object) -> int:
    overrides = {"detector": "block_corruption", **overrides}
    return run(compose_detect([f"{k}={v}" for k, v in overrides.items()]))


def test_sampling_and_events() -> None:
    stream = ((i / 25, np.zeros((1, 1, 3))) for i in range(50))
    picked = [(index, round(t, 3)) for index, t, _ in sample_at_fps(stream, 2.0)]
    assert picked == [(0, 0.0), (13, 0.52), (25, 1.0), (38, 1.52)]
    every = list(sample_at_fps(((i / 25, None) for i in range(5)), 100.0))
    assert [index for index, _, _ in every] == [0, 1, 2, 3, 4]
    times = [0.0, 0.5, 1.0, 1.5, 2.0]
    assert merge_events(times, [False, True, True, False, True], 0.5) == [
        {"start": 0.5, "end": 1.5},
        {"start": 2.0, "end": 2.5},
    ]
    assert merge_events(times, [False] * 5, 0.5) == []


@pytest.mark.parametrize("runtime", ["onnx", "torch"])
def test_every_frame_report(
    block_export: Path, video: Path, tmp_path: Path, compose_detect, runtime: str
) -> None:
    out = tmp_path / "report.json"
    checkpoint = block_export / "model.ckpt" if runtime == "torch" else block_export
    assert (
        detect(compose_detect, checkpoint=checkpoint, input=video, output=out, runtime=runtime) == 0
    )
    report = json.loads(out.read_text())
    assert report["input"] == str(video) and report["detector"] == "block_corruption"
    assert report["model"]["runtime"] == runtime and report["decision"] == "v2"
    frames = report["frames"]
    assert [f["index"] for f in frames] == list(range(N_FRAMES))
    assert [f["t"] for f in frames] == pytest.approx([i / FPS for i in range(N_FRAMES)])
    for frame in frames:
        assert 0 <= frame["score"] <= 1 and 0 <= frame["area_ratio"] <= 1
        assert frame["corrupted"] == (frame["score"] > 0.5)
    flagged = sum(f["corrupted"] for f in frames)
    assert report["summary"]["frames_analysed"] == N_FRAMES
    assert report["summary"]["frames_corrupted"] == flagged
    assert (report["events"] == []) == (flagged == 0)
    assert report["size"] == [96, 64]


def test_fps_sampling_v1_and_contact_sheet(
    block_export: Path, video: Path, tmp_path: Path, compose_detect
) -> None:
    """An export whose card flags every frame (v1 area threshold 0 is not enough: set it below
    zero via the card): one event over the clip and a contact sheet of all analysed frames."""
    export = tmp_path / "export"
    shutil.copytree(block_export, export)
    card = json.loads((export / "model_card.json").read_text())
    card["decision"]["area_threshold"] = -1.0
    (export / "model_card.json").write_text(json.dumps(card))
    out = tmp_path / "r.json"
    code = detect(
        compose_detect, checkpoint=export, input=video, output=out, fps=5, decision="v1",
        contact_sheet="true",
    )  # fmt: skip
    assert code == 0
    report = json.loads(out.read_text())
    assert [f["index"] for f in report["frames"]] == [0, 2, 4, 6, 8, 10]
    assert all(f["corrupted"] for f in report["frames"])
    assert report["events"] == [{"start": 0.0, "end": pytest.approx(1.2)}]
    sheet = tmp_path / "r.contact.png"
    assert report["contact_sheet"] == str(sheet) and sheet.stat().st_size > 1000
    assert report["contact_sheet_frames"] == {"shown": 6, "flagged": 6}


def test_folder_mode_and_files_without_video(
    block_export: Path, video: Path, tmp_path: Path, compose_detect, capsys
) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    shutil.copy(video, folder / "a.mp4")
    soundfile.write(folder / "audio only.wav", np.zeros(16000), 16000)
    code = detect(compose_detect, checkpoint=block_export, input=folder, output=tmp_path / "out")
    assert code == 1
    index = json.loads((tmp_path / "out" / "index.json").read_text())
    status = {e["input"]: e for e in index["files"]}
    assert status["a.mp4"]["status"] == "ok"
    assert status["audio only.wav"]["status"] == "error"
    assert "no video stream" in status["audio only.wav"]["error"]
    assert (tmp_path / "out" / "a.mp4.json").is_file()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {folder / 'audio only.wav'}: no video stream"]


def test_wrong_model_kind_is_refused(tmp_path: Path, video: Path, compose_detect, capsys) -> None:
    export = tmp_path / "audio_export"
    export.mkdir()
    (export / "model_card.json").write_text(json.dumps({"detector": "audio_artifact"}))
    (export / "model.onnx").write_bytes(b"")
    assert detect(compose_detect, checkpoint=export, input=video) == 2
    assert "not a frame-map export" in capsys.readouterr().err
