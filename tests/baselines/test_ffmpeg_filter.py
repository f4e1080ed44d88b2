"""The shared ffmpeg invocation of the signal-processing baselines."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from training.baselines import ffmpeg_filter as ff


def test_frame_rates_become_the_rationals_sources_use() -> None:
    assert ff.frame_rate(25.0) == 25
    assert ff.frame_rate(30000 / 1001) == Fraction(30000, 1001)
    assert ff.frame_rate(1350 / 61) == Fraction(1350, 61)
    with pytest.raises(ValueError, match="frame rate must be > 0"):
        ff.frame_rate(0.0)


def test_frames_reach_the_filter_and_its_metadata_comes_back() -> None:
    frames = np.random.default_rng(0).integers(0, 256, (5, 16, 24, 3), np.uint8)
    printed = ff.run_filter(
        ff.rawvideo_input(24, 16, 25.0),
        ["-vf", f"signalstats,{ff.PRINT_METADATA}"],
        "toy",
        frames,
    )
    assert printed.count("lavfi.signalstats.YAVG=") == 5


def test_an_ffmpeg_failure_names_the_input_and_quotes_ffmpeg() -> None:
    frames = np.zeros((2, 16, 24, 3), np.uint8)
    with pytest.raises(RuntimeError, match=r"clip9: ffmpeg failed \(\d+\): .*nosuchfilter"):
        ff.run_filter(ff.rawvideo_input(24, 16), ["-vf", "nosuchfilter"], "clip9", frames)
