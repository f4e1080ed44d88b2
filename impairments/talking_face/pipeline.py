"""The chain on one fragment: shots -> faces on every frame -> tracks -> lower-face crops.

Per-step wall times are kept in the result so a benchmark (or a user wondering where the time
goes) can read them without a profiler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from impairments.talking_face.crops import CROP_SIZE, TrackCrops, crop_track
from impairments.talking_face.faces import Detection, FaceDetector, FaceMethod, make_face_detector
from impairments.talking_face.fragments import Fragment
from impairments.talking_face.shots import ShotMethod, detect_shots
from impairments.talking_face.tracks import TrackingConfig, track_faces


@dataclass(frozen=True)
class PipelineConfig:
    shots: ShotMethod = "transnetv2"
    faces: FaceMethod = "mtcnn"
    detect_side: int = 320  # faces are searched at this longer side (pixels)
    crop_size: int = CROP_SIZE
    tracking: TrackingConfig = field(default_factory=TrackingConfig)


@dataclass
class FragmentResult:
    fragment: Fragment
    shots: list[tuple[int, int]]
    detections: list[list[Detection]]
    tracks: list[TrackCrops]
    seconds: dict[str, float]


def process_fragment(
    fragment: Fragment, config: PipelineConfig | None = None, detector: FaceDetector | None = None
) -> FragmentResult:
    """Run every step; pass ``detector`` to reuse one loaded model across fragments."""
    config = config or PipelineConfig()
    detector = detector or make_face_detector(
        config.faces, max_side=config.detect_side, min_face=int(config.tracking.min_face)
    )
    seconds: dict[str, float] = {}
    clock = time.perf_counter()
    shots = detect_shots(fragment.frames, config.shots)
    seconds["shots"], clock = time.perf_counter() - clock, time.perf_counter()
    detections = detector(fragment.frames)
    seconds["faces"], clock = time.perf_counter() - clock, time.perf_counter()
    tracks = track_faces(detections, shots, config.tracking)
    seconds["tracks"], clock = time.perf_counter() - clock, time.perf_counter()
    crops = [crop_track(fragment, track, config.crop_size) for track in tracks]
    seconds["crops"] = time.perf_counter() - clock
    return FragmentResult(fragment, shots, detections, crops, seconds)
