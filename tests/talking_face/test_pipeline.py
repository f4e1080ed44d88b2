"""The chain on a synthetic video of a real face photo: shots, detections, tracks, crops, audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from impairments import media_io
from impairments.media_io import MediaError
from impairments.talking_face import (
    PipelineConfig,
    TrackingConfig,
    crop_track,
    detect_shots,
    make_face_detector,
    process_fragment,
    read_fragment,
)
from impairments.talking_face.__main__ import main
from impairments.talking_face.fragments import SAMPLES_PER_FRAME

from .conftest import SHOT_FRAMES

SHORT_TRACKS = TrackingConfig(min_frames=15, min_face=30)


@pytest.mark.parametrize("method", ["transnetv2", "content"])
def test_shots_split_at_the_cut(cut_frames: np.ndarray, method: str) -> None:
    assert detect_shots(cut_frames, method) == [(0, SHOT_FRAMES), (SHOT_FRAMES, 2 * SHOT_FRAMES)]


def test_no_cut_in_a_moving_shot(cut_frames: np.ndarray) -> None:
    assert detect_shots(cut_frames[:SHOT_FRAMES], "content") == [(0, SHOT_FRAMES)]


@pytest.fixture(scope="module")
def result(cut_video: Path):
    fragment = read_fragment(cut_video)
    return process_fragment(fragment, PipelineConfig(shots="content", tracking=SHORT_TRACKS))


def test_one_track_per_shot_following_the_motion(result) -> None:
    tracks = [c.track for c in result.tracks]
    assert [(t.shot, t.first, t.last) for t in tracks] == [(0, 0, 24), (1, 25, 49)]
    first, second = tracks
    centre_x = (first.boxes[:, 0] + first.boxes[:, 2]) / 2
    assert centre_x[-1] - centre_x[0] == pytest.approx(48, abs=8)  # drifted 2 px/frame right
    assert first.face_size < second.face_size  # the second shot is zoomed in
    centre_x = (second.boxes[:, 0] + second.boxes[:, 2]) / 2
    assert centre_x[-1] - centre_x[0] == pytest.approx(-48, abs=8)
    # The astronaut's face is in the upper middle-left of the photo (x ~ 90 of 256, y ~ 45).
    assert 60 < (first.boxes[0, 0] + first.boxes[0, 2]) / 2 < 120
    assert first.detected.mean() > 0.9 and np.nanmin(first.scores) > 0.9
    assert np.isfinite(first.landmarks[first.detected]).all()  # MTCNN's five points kept


def test_crops_have_fixed_size_and_the_frames_audio(result) -> None:
    fragment = result.fragment
    for crops in result.tracks:
        track = crops.track
        assert crops.crops.shape == (len(track.boxes), 48, 96, 3)
        assert crops.crops.dtype == np.uint8
        start, end = track.first * SAMPLES_PER_FRAME, (track.last + 1) * SAMPLES_PER_FRAME
        np.testing.assert_array_equal(crops.audio, fragment.audio[start:end])
    larger = crop_track(fragment, result.tracks[0].track, size=128)
    assert larger.crops.shape[1:] == (64, 128, 3)


def test_haar_fallback_finds_the_face(cut_frames: np.ndarray) -> None:
    found = make_face_detector("haar", max_side=256, min_face=30)(cut_frames[:3])
    assert all(len(frame) >= 1 for frame in found)
    box = max(found[0], key=lambda d: d.score).box
    assert 60 < (box[0] + box[2]) / 2 < 120


def test_fragment_is_25_fps_with_aligned_audio(tmp_path: Path) -> None:
    """30 fps source, frame k has brightness 4k; a click at 1.0 s of audio lands at sample 16000."""
    frames = np.stack([np.full((64, 64, 3), 4 * k, np.uint8) for k in range(60)])
    audio = np.zeros((1, 2 * 48000), np.float32)
    audio[0, 48000:48040] = 0.9
    path = media_io.write_video(tmp_path / "clock.mp4", frames, 30, audio, 48000)
    fragment = read_fragment(path, duration_s=2.0)
    assert fragment.frames.shape[0] == 50
    assert fragment.audio.shape == (50 * SAMPLES_PER_FRAME,)
    brightness = fragment.frames[:, 32, 32, 0].astype(float)
    expected = 4 * np.round(np.arange(50) / 25 * 30)  # nearest 30 fps frame to each 40 ms point
    np.testing.assert_allclose(brightness, expected, atol=6)
    assert abs(int(np.argmax(np.abs(fragment.audio))) - 16000) < 200  # AAC priming trimmed


def test_fragment_audio_respects_stream_start(tmp_path: Path) -> None:
    """An audio stream that starts 0.5 s after the picture is silence for the first 0.5 s."""
    frames = np.zeros((50, 64, 64, 3), np.uint8)
    tone = (0.5 * np.sin(np.arange(32000) / 16000 * 2 * np.pi * 300)).astype(np.float32)
    source = media_io.write_video(tmp_path / "src.mp4", frames, 25, tone[None], 16000)
    delayed = tmp_path / "late.mp4"
    media_io.run_ffmpeg(
        ["-y", "-i", str(source), "-itsoffset", "0.5", "-i", str(source), "-map", "0:v",
         "-map", "1:a", "-c", "copy", str(delayed)],
        "delay audio",
    )  # fmt: skip
    assert media_io.probe(delayed).audio[0].start_s > 0.4
    fragment = read_fragment(delayed, duration_s=2.0)
    energy = np.abs(fragment.audio)
    assert energy[: int(0.45 * 16000)].max() < 0.01
    assert energy[int(0.6 * 16000) : int(1.9 * 16000)].max() > 0.3


def test_bad_inputs_name_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    silent = media_io.write_video(tmp_path / "silent.mp4", np.zeros((30, 64, 64, 3), np.uint8), 25)
    with pytest.raises(MediaError, match=r"silent\.mp4: no audio stream"):
        read_fragment(silent)
    audio_only = tmp_path / "speech.wav"
    media_io.write_audio(audio_only, np.zeros((1, 16000), np.float32), 16000)
    with pytest.raises(MediaError, match=r"speech\.wav: no video stream"):
        read_fragment(audio_only)
    tiny = media_io.write_video(
        tmp_path / "tiny.mp4", np.zeros((4, 64, 64, 3), np.uint8), 25, np.zeros((1, 2560)), 16000
    )
    with pytest.raises(MediaError, match=r"tiny\.mp4: too short"):
        read_fragment(tiny)
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(b"not a video at all" * 100)
    assert main([f"input={garbage}", f"output={tmp_path / 'out.json'}"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "garbage.mp4" in err and "\n" not in err
    assert main(["input=a.mp4"]) == 2


def test_cli_writes_tracks_and_strip(cut_video: Path, tmp_path: Path) -> None:
    import json

    import cv2

    out, strip = tmp_path / "tracks.json", tmp_path / "strip.png"
    assert main([f"input={cut_video}", f"output={out}", f"strip={strip}", "shots=content"]) == 0
    report = json.loads(out.read_text())
    (fragment,) = report["fragments"]
    assert fragment["shots"] == [[0, 25], [25, 50]]
    # Default tracking needs 25 frames: each shot is exactly that long.
    assert [t["id"] for t in fragment["tracks"]] == [0, 1]
    track = fragment["tracks"][0]
    assert len(track["boxes"]) == len(track["scores"]) == 25
    assert {"face_size", "start_s", "end_s", "first_frame"} <= set(track)
    image = cv2.imread(str(strip))
    assert image.shape == (2 * 48, 5 * 96, 3)
