"""The tracker on hand-made detections: association, gaps, filters, smoothing, shot boundaries."""

from __future__ import annotations

import numpy as np
import pytest

from impairments.talking_face.faces import Detection
from impairments.talking_face.tracks import TrackingConfig, iou, track_faces

CONFIG = TrackingConfig(min_iou=0.5, max_gap=3, min_frames=10, min_face=40, median_kernel=3)


def face(x: float, y: float = 50.0, side: float = 80.0, score: float = 0.99) -> Detection:
    return Detection(np.array([x, y, x + side, y + side]), score)


def test_iou_of_known_boxes() -> None:
    assert iou(np.array([0, 0, 10, 10]), np.array([0, 0, 10, 10])) == pytest.approx(1.0)
    assert iou(np.array([0, 0, 10, 10]), np.array([5, 0, 15, 10])) == pytest.approx(50 / 150)
    assert iou(np.array([0, 0, 10, 10]), np.array([20, 20, 30, 30])) == 0.0


def test_moving_face_gives_one_track_that_follows_it() -> None:
    detections = [[face(10 + 3 * f)] for f in range(30)]
    (track,) = track_faces(detections, [(0, 30)], CONFIG)
    assert (track.first, track.last) == (0, 29)
    np.testing.assert_allclose(track.boxes[:, 0], 10 + 3 * np.arange(30), atol=1e-6)
    assert track.face_size == pytest.approx(80)


def test_gap_is_interpolated_and_marked_undetected() -> None:
    detections = [[face(10 + 2 * f)] for f in range(30)]
    for missing in (12, 13, 14):
        detections[missing] = []
    (track,) = track_faces(detections, [(0, 30)], CONFIG)
    assert len(track.boxes) == 30
    assert not track.detected[12:15].any() and track.detected[[11, 15]].all()
    assert np.isnan(track.scores[12:15]).all()
    np.testing.assert_allclose(track.boxes[12:15, 0], [34, 36, 38], atol=1e-6)


def test_gap_longer_than_tolerance_splits_the_track() -> None:
    detections = [[face(10.0)] for _ in range(40)]
    for missing in range(15, 20):  # 5 missed frames > max_gap 3
        detections[missing] = []
    tracks = track_faces(detections, [(0, 40)], CONFIG)
    assert [(t.first, t.last) for t in tracks] == [(0, 14), (20, 39)]


def test_short_tracks_and_small_faces_are_dropped() -> None:
    short = [[face(10.0)] if f < 9 else [] for f in range(30)]
    assert track_faces(short, [(0, 30)], CONFIG) == []
    small = [[face(10.0, side=30.0)] for _ in range(30)]
    assert track_faces(small, [(0, 30)], CONFIG) == []


def test_two_faces_two_tracks_and_cut_ends_tracks() -> None:
    detections = [[face(10.0), face(200.0)] for _ in range(40)]
    tracks = track_faces(detections, [(0, 20), (20, 40)], CONFIG)
    assert len(tracks) == 4
    assert [(t.shot, t.first, t.last) for t in tracks] == [
        (0, 0, 19),
        (0, 0, 19),
        (1, 20, 39),
        (1, 20, 39),
    ]
    assert sorted(round(t.boxes[0, 0]) for t in tracks[:2]) == [10, 200]


def test_median_smoothing_removes_a_one_frame_jump() -> None:
    detections = [[face(100.0)] for _ in range(20)]
    detections[10] = [face(130.0)]  # IoU with 100..180 is 0.45 < 0.5: would break the track
    detections[10] = [face(115.0)]  # IoU 0.68: joins, then is smoothed away
    (track,) = track_faces(detections, [(0, 20)], CONFIG)
    np.testing.assert_allclose(track.boxes[:, 0], 100.0)
    assert track.boxes[0, 0] == pytest.approx(100.0)  # edges are not pulled towards zero


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="median_kernel"):
        TrackingConfig(median_kernel=4)
    with pytest.raises(ValueError, match="min_iou"):
        TrackingConfig(min_iou=1.5)
