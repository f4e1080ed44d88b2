"""ffmpeg freezedetect as an event detector: parsing, timing conventions, the one-pass sweep."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from impairments import media_io
from training.baselines import freezedetect as fd

FPS = 25.0


def moving(frames: int, seed: int = 0, height: int = 48, width: int = 64) -> np.ndarray:
    """Fresh random pictures: every frame far from the one before it."""
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), np.uint8)


def with_freeze(clip: np.ndarray, held: int, repeats: int) -> np.ndarray:
    out = clip.copy()
    out[held + 1 : held + 1 + repeats] = clip[held]
    return out


def test_marks_pair_into_events_starting_at_the_first_repeat() -> None:
    printed = (
        "frame:27   pts:27      pts_time:1.08\nlavfi.freezedetect.freeze_start=0.76\n"
        "frame:41   pts:41      pts_time:1.64\nlavfi.freezedetect.freeze_duration=0.88\n"
        "lavfi.freezedetect.freeze_end=1.64\n"
        "lavfi.freezedetect.freeze_start=2.4\n"
    )
    marks = fd.freeze_marks(printed)
    assert marks == [("start", 0.76), ("end", 1.64), ("start", 2.4)]
    events = fd.events_from_marks(marks, clip_end_s=3.0, frame_s=0.04)
    assert events == [
        {"start": 0.8, "end": 1.64, "kind": "freeze"},
        {"start": 2.44, "end": 3.0, "kind": "freeze"},  # open at the end: ends at the clip end
    ]


@pytest.mark.parametrize(
    ("marks", "problem"),
    [([("end", 1.0)], "freeze_end without a start"), ([("start", 0.0), ("start", 1.0)], "two")],
)
def test_inconsistent_marks_name_the_input(marks, problem) -> None:
    with pytest.raises(ValueError, match=rf"clip\.mp4: .*{problem}"):
        fd.events_from_marks(marks, 3.0, 0.04, what="clip.mp4")


def test_a_stretch_of_one_frame_is_no_freeze() -> None:
    """With d of one frame or less ffmpeg reports every moving frame: those hold nothing."""
    events = fd.events_from_marks([("start", 0.4), ("end", 0.44)], 3.0, 0.04)
    assert events == []


def test_setting_builds_the_filter_and_checks_its_range() -> None:
    setting = fd.FreezedetectSetting(-60.0, 0.5)
    assert setting.filter == "freezedetect=n=0.001:d=0.5"
    with pytest.raises(ValueError, match=r"noise must be in -120\.\.0 dB"):
        fd.FreezedetectSetting(6.0, 0.5)
    with pytest.raises(ValueError, match="duration must be >= 0"):
        fd.FreezedetectSetting(-60.0, -1.0)


def test_a_known_freeze_is_found_at_the_right_time() -> None:
    clip = with_freeze(moving(75), held=20, repeats=20)  # repeats are frames 21..40
    events = fd.freezedetect_frames(clip, FPS, fd.FreezedetectSetting(-60.0, 0.3))
    assert events == [{"start": 21 / FPS, "end": 41 / FPS, "kind": "freeze"}]
    assert fd.freezedetect_frames(moving(30), FPS, fd.FreezedetectSetting(-60.0, 0.3)) == []


def test_minimum_duration_and_noise_tolerance_decide() -> None:
    clip = with_freeze(moving(75), held=20, repeats=10)  # 0.4 s of repeats
    rng = np.random.default_rng(1)
    noisy = clip.copy()
    jitter = (rng.random(noisy[21:31].shape) < 0.1) * rng.choice([-1, 1], noisy[21:31].shape)
    noisy[21:31] = np.clip(noisy[21:31].astype(int) + jitter, 0, 255).astype(np.uint8)
    assert fd.freezedetect_frames(clip, FPS, fd.FreezedetectSetting(-60.0, 0.5)) == []
    assert len(fd.freezedetect_frames(clip, FPS, fd.FreezedetectSetting(-60.0, 0.3))) == 1
    assert fd.freezedetect_frames(noisy, FPS, fd.FreezedetectSetting(-70.0, 0.3)) == []
    assert len(fd.freezedetect_frames(noisy, FPS, fd.FreezedetectSetting(-50.0, 0.3))) == 1


def test_the_one_pass_sweep_reproduces_direct_runs() -> None:
    """Events from the d=0 stretches equal what ffmpeg reports with each d, for closed
    stretches of several lengths, a near-identical stretch and one open at the end."""
    clip = moving(90, seed=2)
    clip = with_freeze(clip, held=10, repeats=1)
    clip = with_freeze(clip, held=14, repeats=3)
    clip = with_freeze(clip, held=25, repeats=12)
    clip[45:52] = np.clip(clip[44].astype(int) + 1, 0, 255).astype(np.uint8)  # near repeats
    clip = with_freeze(clip, held=80, repeats=9)  # open at the end
    levels = (-70.0, -50.0)
    runs = fd.still_runs(clip, FPS, levels)
    assert set(runs) == set(levels)
    for level in levels:
        for duration in (0.05, 0.1, 0.15, 0.2, 0.4, 0.5):
            setting = fd.FreezedetectSetting(level, duration)
            direct = fd.freezedetect_frames(clip, FPS, setting)
            assert fd.events_from_runs(runs[level], FPS, duration) == direct, setting
    assert fd.events_from_runs(runs[-50.0], FPS, 0.2)[-1] == {
        "start": 81 / FPS, "end": 90 / FPS, "kind": "freeze",
    }  # fmt: skip


def test_non_integer_frame_rates_keep_exact_times() -> None:
    fps = 1350 / 61  # 22.13 fps, a real source's rate
    clip = with_freeze(moving(60, seed=3), held=30, repeats=8)
    events = fd.freezedetect_frames(clip, fps, fd.FreezedetectSetting(-60.0, 0.2))
    rate = Fraction(1350, 61)
    assert events == [{"start": round(float(31 / rate), 6), "end": round(float(39 / rate), 6),
                       "kind": "freeze"}]  # fmt: skip


def test_a_file_freeze_open_at_the_end_ends_at_the_clip_end(tmp_path: Path) -> None:
    clip = with_freeze(moving(50, seed=4, height=64, width=96), held=39, repeats=10)
    path = media_io.write_video(tmp_path / "tail.mp4", clip, FPS, crf=0)
    result = fd.freezedetect_file(path, fd.FreezedetectSetting(-50.0, 0.2))
    assert result.duration_s == pytest.approx(2.0) and result.fps == FPS
    assert result.events == [{"start": 1.6, "end": 2.0, "kind": "freeze"}]


def test_bad_input_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"clip7: frames must be \(H, W, 3\) uint8"):
        fd.freezedetect_frames(
            np.zeros((4, 8, 8), np.float32), FPS, fd.FreezedetectSetting(-60, 1), "clip7"
        )
    with pytest.raises(ValueError, match="no frames"):
        fd.still_runs(np.zeros((0, 8, 8, 3), np.uint8), FPS, [-60.0])
    text = tmp_path / "notes.mp4"
    text.write_text("not a video")
    with pytest.raises(media_io.MediaError, match=r"notes\.mp4"):
        fd.freezedetect_file(text, fd.FreezedetectSetting(-60.0, 1.0))
