"""Face tracks within a shot: syncnet_python's tracker, scaled for 4-second fragments.

A track grows frame by frame by taking the detection whose IoU with its last box exceeds
``min_iou``, as long as it has not been missing for more than ``max_gap`` frames. Kept tracks are
at least ``min_frames`` long with faces of at least ``min_face`` pixels; missed frames are filled
by linear interpolation and the box centre and size are median-filtered so crops do not jitter.

syncnet_python's defaults (gap 25, length 100 frames, faces 100 px, kernel 13) assume long clips
at full resolution; a 4-second fragment has only 100 frames, so the defaults here are a 10-frame
gap (0.4 s), 25-frame minimum (1 s: five SyncNet windows and enough for a ±15-frame offset
search), 40 px faces (GRID's 360x288 faces are about 100 px; small broadcast faces carry lips
too) and a 9-frame median kernel.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.ndimage import median_filter

from impairments.talking_face.faces import Detection


@dataclass(frozen=True)
class TrackingConfig:
    min_iou: float = 0.5
    max_gap: int = 10
    min_frames: int = 25
    min_face: float = 40.0
    median_kernel: int = 9

    def __post_init__(self) -> None:
        if not 0.0 < self.min_iou < 1.0:
            raise ValueError(f"min_iou must be in (0, 1), got {self.min_iou}")
        if self.max_gap < 0 or self.min_frames < 1 or self.min_face < 0:
            raise ValueError("max_gap >= 0, min_frames >= 1 and min_face >= 0 are required")
        if self.median_kernel < 1 or self.median_kernel % 2 == 0:
            raise ValueError(f"median_kernel must be odd and >= 1, got {self.median_kernel}")


@dataclass
class Track:
    """One face through consecutive frames ``first .. first + len - 1`` of a fragment.

    ``boxes`` (N, 4) x0, y0, x1, y1 are interpolated and smoothed; ``detected`` marks frames where
    the detector found the face; ``scores`` and ``landmarks`` (N, 5, 2) are NaN where it did not.
    """

    id: int
    shot: int
    first: int
    boxes: np.ndarray
    detected: np.ndarray
    scores: np.ndarray
    landmarks: np.ndarray = field(repr=False)

    @property
    def frames(self) -> np.ndarray:
        return np.arange(self.first, self.first + len(self.boxes))

    @property
    def last(self) -> int:
        return self.first + len(self.boxes) - 1

    @property
    def face_size(self) -> float:
        """Mean of the larger box side over the track, in pixels."""
        sides = np.maximum(self.boxes[:, 2] - self.boxes[:, 0], self.boxes[:, 3] - self.boxes[:, 1])
        return float(np.mean(sides))

    def to_json(self, fps: float) -> dict:
        return {
            "id": self.id,
            "shot": self.shot,
            "first_frame": self.first,
            "last_frame": self.last,
            "start_s": round(self.first / fps, 3),
            "end_s": round((self.last + 1) / fps, 3),
            "face_size": round(self.face_size, 1),
            "detected_frames": int(self.detected.sum()),
            "mean_score": round(float(np.nanmean(self.scores)), 4),
            "boxes": [[round(float(v), 1) for v in box] for box in self.boxes],
            "scores": [None if np.isnan(s) else round(float(s), 4) for s in self.scores],
        }


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Intersection over union of two x0, y0, x1, y1 boxes."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def track_faces(
    detections: list[list[Detection]],
    shots: list[tuple[int, int]],
    config: TrackingConfig | None = None,
) -> list[Track]:
    """Tracks of every shot, ordered by shot then first frame; ids count from 0."""
    config = config or TrackingConfig()
    tracks: list[Track] = []
    for shot_index, (start, end) in enumerate(shots):
        for chain in _associate(detections, start, end, config):
            track = _finish(chain, len(tracks), shot_index, config)
            if track is not None:
                tracks.append(track)
    return tracks


def _associate(
    detections: list[list[Detection]], start: int, end: int, config: TrackingConfig
) -> list[list[tuple[int, Detection]]]:
    """Greedy IoU chains within frames [start, end); each detection joins at most one chain."""
    open_chains: list[list[tuple[int, Detection]]] = []
    closed: list[list[tuple[int, Detection]]] = []
    for frame in range(start, end):
        unused = sorted(detections[frame], key=lambda d: -d.score)
        for chain in open_chains:
            last_frame, last = chain[-1]
            if frame - last_frame > config.max_gap + 1 or not unused:
                continue
            overlaps = [iou(last.box, d.box) for d in unused]
            best = int(np.argmax(overlaps))
            if overlaps[best] > config.min_iou:
                chain.append((frame, unused.pop(best)))
        still_open = []
        for chain in open_chains:
            (closed if frame - chain[-1][0] > config.max_gap else still_open).append(chain)
        open_chains = still_open + [[(frame, d)] for d in unused]
    return closed + open_chains


def _finish(
    chain: list[tuple[int, Detection]], track_id: int, shot: int, config: TrackingConfig
) -> Track | None:
    first, last = chain[0][0], chain[-1][0]
    if last - first + 1 < config.min_frames:
        return None
    frames = np.arange(first, last + 1)
    seen = np.array([f for f, _ in chain])
    raw = np.array([d.box for _, d in chain], dtype=np.float64)
    boxes = np.stack([np.interp(frames, seen, raw[:, k]) for k in range(4)], axis=1)
    boxes = _smooth(boxes, config.median_kernel)
    track = Track(
        id=track_id,
        shot=shot,
        first=int(first),
        boxes=boxes,
        detected=np.isin(frames, seen),
        scores=_scatter(frames, seen, np.array([d.score for _, d in chain])),
        landmarks=_scatter(frames, seen, np.array([_landmarks(d) for _, d in chain])),
    )
    return track if track.face_size >= config.min_face else None


def _landmarks(detection: Detection) -> np.ndarray:
    if detection.landmarks is None:
        return np.full((5, 2), np.nan)
    return np.asarray(detection.landmarks, dtype=np.float64)


def _scatter(frames: np.ndarray, seen: np.ndarray, values: np.ndarray) -> np.ndarray:
    out = np.full((len(frames), *values.shape[1:]), np.nan)
    out[seen - frames[0]] = values
    return out


def _smooth(boxes: np.ndarray, kernel: int) -> np.ndarray:
    """Median-filter centre and size (not corners: a jittery corner would reshape the box)."""
    if kernel < 3:
        return boxes

    def filtered(values: np.ndarray) -> np.ndarray:
        # Edges repeat the end value; zero padding (scipy.signal.medfilt) would shrink end boxes.
        return median_filter(values, size=kernel, mode="nearest")

    centre_x = filtered((boxes[:, 0] + boxes[:, 2]) / 2)
    centre_y = filtered((boxes[:, 1] + boxes[:, 3]) / 2)
    half_w = filtered((boxes[:, 2] - boxes[:, 0]) / 2)
    half_h = filtered((boxes[:, 3] - boxes[:, 1]) / 2)
    return np.stack([centre_x - half_w, centre_y - half_h, centre_x + half_w, centre_y + half_h], 1)
