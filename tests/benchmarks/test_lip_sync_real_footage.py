"""The real-footage lip-sync benchmark's ffmpeg shifts carry the project's sign convention."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.lip_sync_real_footage import shifted_copy
from impairments.sources.builtin import TALKING_FACES_DIR
from impairments.talking_face.fragments import picture_aligned_audio

CLIP = TALKING_FACES_DIR / "grid" / "lbbc2a.mpg"


def lag_ms(reference: np.ndarray, shifted: np.ndarray) -> float:
    """How late ``shifted`` runs behind ``reference`` (ms), by cross-correlation of envelopes."""
    hop = 160  # 10 ms
    n = min(len(reference), len(shifted)) // hop * hop
    envelope = [np.abs(a[:n]).reshape(-1, hop).mean(axis=1) for a in (reference, shifted)]
    a, b = (e - e.mean() for e in envelope)
    correlation = np.correlate(b, a, mode="full")
    return float((np.argmax(correlation) - (len(a) - 1)) * 10)


@pytest.mark.parametrize("offset_ms", [200, -200])
def test_audio_late_is_positive(offset_ms: int, tmp_path: Path) -> None:
    made = shifted_copy(CLIP, offset_ms, tmp_path / "work")
    assert made.name == f"lbbc2a_{offset_ms:+d}ms.mkv"
    measured = lag_ms(picture_aligned_audio(str(CLIP)), picture_aligned_audio(str(made)))
    assert measured == pytest.approx(offset_ms, abs=30)


def test_a_broken_source_is_one_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    with pytest.raises(RuntimeError, match=r"broken\.mp4: ffmpeg could not shift the audio"):
        shifted_copy(broken, 120, tmp_path / "work")
