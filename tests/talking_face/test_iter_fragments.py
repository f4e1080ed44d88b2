"""The sequential fragment reader used by detect.py agrees with the seeking one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from impairments import media_io
from impairments.talking_face.fragments import (
    SAMPLES_PER_FRAME,
    iter_fragments,
    picture_aligned_audio,
    read_fragment,
)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5.5 s at 30 fps: frame i shows grey level 2i (so the 25 fps pick can be checked)."""
    frames = np.stack([np.full((48, 64, 3), 2 * i % 256, np.uint8) for i in range(165)])
    tone = 0.3 * np.sin(2 * np.pi * 300 * np.arange(int(5.5 * 16000)) / 16000)
    folder = tmp_path_factory.mktemp("fragments")
    return media_io.write_video(
        folder / "-talk 'x'.mp4", frames, 30.0, tone[None].astype(np.float32), 16000, crf=0
    )


def test_windows_tile_the_file_and_end_with_a_full_window(clip: Path) -> None:
    windows = list(iter_fragments(clip, 2.0, 2.0))  # 137 grid frames: the tail ends with the file
    assert [(w.start_s, w.num_frames) for w in windows] == [(0.0, 50), (2.0, 50), (3.48, 50)]
    overlapping = list(iter_fragments(clip, 4.0, 1.0))  # the last one covers the 5.0-5.5 s tail
    assert [(w.start_s, w.num_frames) for w in overlapping] == [(0.0, 100), (1.0, 100), (1.48, 100)]
    assert [(w.start_s, w.num_frames) for w in iter_fragments(clip, 4.0, 4.0)] == [
        (0.0, 100),
        (1.48, 100),
    ]
    whole = list(iter_fragments(clip, 8.0, 8.0))  # shorter than one window: the file, once
    assert [(w.start_s, w.num_frames) for w in whole] == [(0.0, 137)]
    tail = whole[0].frames[-50:]
    np.testing.assert_array_equal(windows[-1].frames, tail)


def test_frames_and_audio_match_the_seeking_reader(clip: Path) -> None:
    first = next(iter_fragments(clip, 4.0, 4.0))
    seeked = read_fragment(clip, 0.0, 4.0)
    np.testing.assert_array_equal(first.frames, seeked.frames)
    np.testing.assert_allclose(first.audio, seeked.audio, atol=1e-6)
    second = list(iter_fragments(clip, 2.0, 2.0))[1]
    audio = picture_aligned_audio(str(clip))
    start = 50 * SAMPLES_PER_FRAME
    np.testing.assert_array_equal(second.audio, audio[start : start + 50 * SAMPLES_PER_FRAME])
    # 25 fps grid on a 30 fps source: grid frame k is the source frame nearest to k / 25 s
    expected = [2 * round(k * 30 / 25) % 256 for k in range(50, 100)]
    assert [int(f[0, 0, 0]) for f in second.frames] == pytest.approx(expected, abs=2)


def test_too_short_and_picture_only_files_are_refused(tmp_path: Path) -> None:
    frames = np.zeros((5, 32, 32, 3), np.uint8)
    short = media_io.write_video(
        tmp_path / "short.mp4", frames, 25.0, np.zeros((1, 3200), np.float32), 16000
    )
    with pytest.raises(media_io.MediaError, match="too short"):
        list(iter_fragments(short))
    silent = media_io.write_video(tmp_path / "silent.mp4", np.zeros((30, 32, 32, 3), np.uint8), 25)
    with pytest.raises(media_io.MediaError, match="no audio stream"):
        list(iter_fragments(silent))
