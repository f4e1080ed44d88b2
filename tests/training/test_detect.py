"""detect.py: a generated file with a known impairment, folder mode, runtimes, bad inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from training.detect.cli import run
from training.detect.segments import segment_starts, summarise

REPO = Path(__file__).resolve().parents[2]
CLASSES = ["none", "hum", "hiss", "distortion", "clicks"]


def detect(compose_detect, capsys, **overrides: object) -> tuple[int, str]:
    cfg = compose_detect([f"{k}={v}" for k, v in overrides.items()])
    code = run(cfg)
    return code, capsys.readouterr().err


def test_segment_layout() -> None:
    assert segment_starts(32000 * 3, 32000, 32000).tolist() == [0, 32000, 64000]
    # A tail shorter than a segment is covered by one segment aligned to the end.
    assert segment_starts(32000 * 3 + 5, 32000, 32000).tolist() == [0, 32000, 64000, 64005]
    assert segment_starts(1000, 32000, 16000).tolist() == [0]
    assert segment_starts(64000, 32000, 16000).tolist() == [0, 16000, 32000]
    seconds = summarise(np.array([0.0, 0.5, 1.0]), ["hum", "none", "hum"], 2.0, CLASSES)
    assert seconds == {"none": 0.5, "hum": 1.5, "hiss": 0.0, "distortion": 0.0, "clicks": 0.0}


@pytest.mark.parametrize("runtime", ["onnx", "torchscript", "torch"])
def test_known_hum_is_found(
    trained_export: Path, programme_with_hum, tmp_path: Path, compose_detect, capsys, runtime: str
) -> None:
    audio, hum_seconds = programme_with_hum
    path = tmp_path / "programme.wav"
    soundfile.write(path, audio, 32000, subtype="FLOAT")
    out = tmp_path / "report.json"
    checkpoint = trained_export / "model.ckpt" if runtime == "torch" else trained_export
    code, err = detect(
        compose_detect,
        capsys,
        detector="audio_artifact",
        checkpoint=checkpoint,
        input=path,
        output=out,
        runtime=runtime,
    )
    assert code == 0, err
    report = json.loads(out.read_text())
    assert report["input"] == str(path) and report["detector"] == "audio_artifact"
    assert report["model"]["classes"] == CLASSES and report["model"]["runtime"] == runtime
    segments = report["segments"]
    assert [s["start"] for s in segments] == [float(i) for i in range(8)]
    assert all(s["end"] - s["start"] == pytest.approx(1.0) for s in segments)
    for segment in segments:
        assert set(segment["scores"]) == set(CLASSES)
        assert sum(segment["scores"].values()) == pytest.approx(1.0, abs=1e-3)
        assert segment["label"] == max(segment["scores"], key=segment["scores"].get)
    assert sum(report["summary"].values()) == pytest.approx(8.0)
    hum = np.array([s["scores"]["hum"] for s in segments])
    inside = np.array([i in hum_seconds for i in range(8)])
    assert sum(segments[i]["label"] == "hum" for i in hum_seconds) >= 2
    assert hum[inside].mean() > hum[~inside].mean() + 0.3
    assert report["summary"]["hum"] >= 2.0


def test_overlapping_hop_and_stdout(
    trained_export: Path, programme_with_hum, tmp_path: Path, compose_detect, capsys
) -> None:
    audio, _ = programme_with_hum
    path = tmp_path / "p.flac"
    soundfile.write(path, audio[: 32000 * 3 + 8000], 32000)  # 3.25 s
    cfg = compose_detect([f"checkpoint={trained_export}", f"input={path}", "hop_s=0.5"])
    assert run(cfg) == 0
    report = json.loads(capsys.readouterr().out)
    assert [s["start"] for s in report["segments"]] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.25]
    assert report["segments"][-1]["end"] == pytest.approx(3.25)
    assert sum(report["summary"].values()) == pytest.approx(3.25)


def write_catalogue(folder: Path, audio: np.ndarray) -> None:
    from impairments import media_io

    (folder / "sub").mkdir(parents=True)
    soundfile.write(folder / "good.wav", audio[: 32000 * 2], 32000)
    stereo = np.stack([audio[: 44100 * 2], audio[: 44100 * 2]], axis=1)
    soundfile.write(folder / "sub" / "stereo 44k.flac", stereo, 44100)
    (folder / "broken.mp3").write_text("not audio\n" * 50)
    (folder / "empty.wav").write_bytes(b"")
    frames = np.zeros((5, 32, 32, 3), dtype=np.uint8)
    media_io.write_video(folder / "silent_video.mp4", frames, 25)
    (folder / "notes.txt").write_text("not media, not listed")


def test_folder_mode_records_bad_files_and_goes_on(
    trained_export: Path, programme_with_hum, tmp_path: Path, compose_detect, capsys
) -> None:
    audio, _ = programme_with_hum
    folder, out = tmp_path / "catalogue", tmp_path / "reports"
    write_catalogue(folder, audio)
    code, err = detect(compose_detect, capsys, checkpoint=trained_export, input=folder, output=out)
    assert code == 1  # some files failed; the index says which
    index = json.loads((out / "index.json").read_text())
    status = {entry["input"]: entry for entry in index["files"]}
    assert status["good.wav"]["status"] == "ok"
    assert status["sub/stereo 44k.flac"]["status"] == "ok"
    assert {k for k, v in status.items() if v["status"] == "error"} == {
        "broken.mp3",
        "empty.wav",
        "silent_video.mp4",
    }
    assert "no audio" in status["silent_video.mp4"]["error"]
    assert index["counts"] == {"files": 5, "ok": 2, "skipped": 0, "error": 3}
    report = json.loads((out / "sub" / "stereo 44k.flac.json").read_text())
    assert report["duration_s"] == pytest.approx(2.0, abs=0.01)
    assert (out / "good.wav.json").is_file()
    lines = err.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith("error: ") for line in lines)


def test_bad_input_is_one_line_without_traceback(trained_export: Path, tmp_path: Path) -> None:
    """The real entry point: one line naming the file and the reason, non-zero exit."""
    bad = tmp_path / "broken.mp3"
    bad.write_text("not audio\n" * 50)
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "detect.py"),
            f"checkpoint={trained_export}",
            f"input={bad}",
            f"output={tmp_path / 'r.json'}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {bad}: ")
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "r.json").exists()


def test_missing_model_and_missing_input(tmp_path: Path, compose_detect, capsys) -> None:
    code, err = detect(compose_detect, capsys, checkpoint=tmp_path / "nope", input=__file__)
    assert code == 2 and "nope" in err
    code, err = detect(compose_detect, capsys, checkpoint=tmp_path, input=tmp_path / "none.wav")
    assert code == 1 and "none.wav" in err
