"""Reading video source items: probing, windows with timestamps, scaling down to 720p."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from impairments import media_io
from impairments.sources import SourceItem
from impairments.sources.video_item import probe_video, read_window, scaled_size


def test_only_sources_taller_than_the_limit_are_scaled() -> None:
    assert scaled_size(1080, 1920, 720) == (720, 1280)
    assert scaled_size(2160, 4096, 720) == (720, 1366)
    assert scaled_size(720, 1280, 720) == (720, 1280)
    assert scaled_size(144, 176, 720) == (144, 176)


def test_window_of_a_file_is_scaled_and_timed(tmp_path: Path) -> None:
    frames = np.random.default_rng(0).integers(0, 255, (12, 96, 128, 3), dtype=np.uint8)
    path = tmp_path / "-a clip.mp4"
    media_io.write_video(path, frames, 12)
    item = SourceItem(id="clip", path=str(path))
    probe = probe_video(item)
    assert (probe.height, probe.width, probe.fps) == (96, 128, 12.0)
    window, times = read_window(item, probe, 0.5, 4, max_height=64)
    assert window.shape[0] == 4 and window.shape[1] == 64 and window.shape[3] == 3
    assert np.allclose(np.diff(times), 1 / 12) and times[0] == pytest.approx(0.5, abs=1 / 12)


def test_generator_window_matches_its_frame_grid() -> None:
    spec = {"kind": "gradient", "seed": 1, "frames": 10, "fps": 5.0, "height": 32, "width": 48}
    item = SourceItem(id="g", generator=spec)
    probe = probe_video(item)
    window, times = read_window(item, probe, 1.0, 3, max_height=720)
    assert window.shape == (3, 32, 48, 3) and times.tolist() == [1.0, 1.2, 1.4]


def test_audio_only_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "tone.wav"
    media_io.write_audio(path, np.zeros(8000, dtype=np.float32) + 0.1, 8000)
    with pytest.raises(media_io.MediaError, match="no video stream"):
        probe_video(SourceItem(id="tone", path=str(path)))
