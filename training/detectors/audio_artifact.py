"""Audio-artifact detector: 1-second segments -> none / hum / hiss / distortion / clicks.

Everything generic (steps, metrics, fine-tuning, export) is in ``SegmentClassifierModule``; this
class only pins what is specific: the class list the shards are labelled with and the input.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from training.detectors.segment_classifier import SegmentClassifierModule

CLASSES = ("none", "hum", "hiss", "distortion", "clicks")


class AudioArtifactDetector(SegmentClassifierModule):
    input_key = "waveform"

    def __init__(self, *args: Any, classes: Sequence[str] = CLASSES, **kwargs: Any) -> None:
        if list(classes)[:1] != ["none"]:
            raise ValueError(f"class 0 must be the clean class 'none', got {list(classes)}")
        super().__init__(*args, classes=classes, **kwargs)
