"""Talking-face pipeline: the chain that turns any video into face tracks with aligned audio.

One module per step, each usable alone (syncnet_python's conventions: 25 fps, 16 kHz mono):
``fragments`` (4-second pieces on a 25 fps grid + aligned audio) -> ``shots`` (TransNetV2 or
PySceneDetect) -> ``faces`` (MTCNN or OpenCV Haar, every frame) -> ``tracks`` (IoU association
within a shot, gap interpolation, median-smoothed boxes) -> ``crops`` (fixed-size lower-face
crops and the audio samples under them). ``pipeline`` chains them; ``python -m
impairments.talking_face`` runs the chain on a file.
"""

from impairments.talking_face.crops import TrackCrops, crop_track
from impairments.talking_face.faces import Detection, make_face_detector
from impairments.talking_face.fragments import FPS, SAMPLE_RATE, Fragment, read_fragment
from impairments.talking_face.pipeline import FragmentResult, PipelineConfig, process_fragment
from impairments.talking_face.shots import detect_shots
from impairments.talking_face.tracks import Track, TrackingConfig, track_faces

__all__ = [
    "FPS",
    "SAMPLE_RATE",
    "Detection",
    "Fragment",
    "FragmentResult",
    "PipelineConfig",
    "Track",
    "TrackCrops",
    "TrackingConfig",
    "crop_track",
    "detect_shots",
    "make_face_detector",
    "process_fragment",
    "read_fragment",
    "track_faces",
]
