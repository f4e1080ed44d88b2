"""The landmark visual stream: lip-shape features keep speech motion and drop everything else."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from impairments.talking_face.landmarks import INNER_MIDDLE, LIP_POINTS, MIRRORED, MOUTH_CORNERS
from training.data.sync_augment import augment_lips
from training.data.sync_decode import SyncExcerpt, SyncTrack
from training.features.sync_inputs import (
    LIP_FEATURES,
    SAMPLES_PER_FRAME,
    fill_missing,
    lip_shape_input,
)
from training.models.sync_net import SyncNet


def speaking_lips(frames: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(lips (frames, 40, 2) in 96-px crop coordinates, opening (frames,)): an ellipse-ish mouth
    30 px wide whose lower lip drops by ``opening`` px. Points in FaceMesh's order: from the
    image-left corner over the upper lip to the right corner and back under the lower lip."""
    rng = np.random.default_rng(seed)
    opening = np.clip(np.sin(np.arange(frames) / 2.5) * 4 + rng.normal(0, 0.5, frames), 0, None)
    angles = np.pi - np.linspace(0, 2 * np.pi, 20, endpoint=False)
    outer = np.stack([15 * np.cos(angles), -5 * np.sin(angles)], axis=1)
    inner = outer * [0.8, 0.4]
    shape = np.concatenate([outer, inner]) + np.array([48.0, 72.0])
    lips = np.repeat(shape[None], frames, axis=0).astype(np.float32)
    lower = np.concatenate([np.sin(angles) < 0, np.sin(angles) < 0])
    lips[:, lower, 1] += opening[:, None]
    return lips, opening


def test_features_ignore_position_size_and_roll_of_the_face() -> None:
    lips, _ = speaking_lips()
    features = lip_shape_input(lips)
    assert features.shape == (len(lips), LIP_FEATURES)
    theta = np.deg2rad(12.0)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    moved = (lips - 48.0) @ rotation.T * 1.7 + [30.0, 40.0]
    assert np.allclose(lip_shape_input(moved.astype(np.float32)), features, atol=1e-4)


def test_features_remove_the_tracks_mean_shape_and_keep_the_opening() -> None:
    lips, opening = speaking_lips()
    features = lip_shape_input(lips).reshape(len(lips), len(LIP_POINTS), 2)
    assert np.allclose(features.mean(axis=0), 0.0, atol=1e-5)
    gap = features[:, INNER_MIDDLE[1], 1] - features[:, INNER_MIDDLE[0], 1]
    assert np.corrcoef(gap, opening)[0, 1] > 0.99
    still = np.repeat(lips[:1], len(lips), axis=0)
    assert np.abs(lip_shape_input(still)).max() < 1e-5  # a mouth that does not move: nothing


def test_missed_frames_are_interpolated_and_a_track_never_found_is_zero() -> None:
    lips, _ = speaking_lips()
    holed = lips.copy()
    holed[10:13] = np.nan
    filled = fill_missing(holed)
    assert np.isfinite(filled).all()
    assert np.allclose(filled[11], (lips[9] + lips[13]) / 2, atol=1e-4)
    assert not lip_shape_input(np.full((8, 40, 2), np.nan, dtype=np.float32)).any()
    with pytest.raises(ValueError, match=r"\(N, 40, 2\)"):
        lip_shape_input(np.zeros((8, 20, 2), dtype=np.float32))


def test_augmented_lips_are_the_same_motion_measured_differently() -> None:
    lips, opening = speaking_lips()
    for seed in range(8):
        changed = augment_lips(lips, np.random.default_rng(seed))
        assert changed.shape == lips.shape
        features = lip_shape_input(changed).reshape(len(lips), len(LIP_POINTS), 2)
        gap = features[:, INNER_MIDDLE[1], 1] - features[:, INNER_MIDDLE[0], 1]
        assert np.corrcoef(gap, opening)[0, 1] > 0.8  # the speech motion survives
    corners = lips[0, list(MOUTH_CORNERS)]
    assert MIRRORED[MOUTH_CORNERS[0]] == MOUTH_CORNERS[1] and corners[0, 0] < corners[1, 0]


def test_landmark_stream_embeds_one_vector_per_window() -> None:
    net = SyncNet(visual="landmarks", landmark_widths=(16, 16), audio_widths=(8, 16), hidden=16,
                  embedding=8).eval()  # fmt: skip
    assert net.visual_input_name == "lips"
    video, audio = net(torch.randn(2, 24, LIP_FEATURES), torch.randn(2, 40, 4 * (24 + 30)))
    assert video.shape == (2, 8, 20) and audio.shape == (2, 8, 50)
    assert torch.allclose(video.norm(dim=1), torch.ones(2, 20), atol=1e-5)
    with pytest.raises(ValueError, match="visual"):
        SyncNet(visual="mesh")


def test_decoders_feed_the_stored_lip_points_to_a_landmark_model() -> None:
    lips, _ = speaking_lips(frames=30)
    context = 15
    sample = {
        "faces": np.zeros((30, 96, 96, 3), dtype=np.uint8),  # no face: only lips.npy can help
        "audio": np.zeros((2, (30 + 2 * context) * SAMPLES_PER_FRAME), dtype=np.int16),
        "lips": lips,
        "meta": {"context_frames": context, "variants": [
            {"offset_frames": 0, "offset_ms": 0, "label": "in_sync"},
            {"offset_frames": 5, "offset_ms": 200, "label": "out_of_sync"},
        ]},
        "key": "k",
    }  # fmt: skip
    track = SyncTrack(visual="landmarks")(sample)
    assert track["visual"].shape == (30, LIP_FEATURES) and track["visual"].abs().sum() > 0
    excerpt = SyncExcerpt(frames=24, augment=True, visual="landmarks")(sample)
    assert excerpt["visual"].shape == (24, LIP_FEATURES)
    assert excerpt["mel"].shape == (40, 4 * (24 + 2 * context))
    with pytest.raises(ValueError, match="visual"):
        SyncTrack(visual="mesh")


def test_band_warp_moves_formants_and_keeps_time() -> None:
    from training.data.sync_augment import warp_bands

    mel = np.zeros((40, 12), dtype=np.float32)
    mel[20, 5] = 1.0  # one formant at band 20 during frame 5
    rng = np.random.default_rng(3)
    warped = [warp_bands(mel, rng, 0.12) for _ in range(20)]
    peaks = {int(np.argmax(w[:, 5])) for w in warped}
    assert len(peaks) > 2 and all(17 <= p <= 23 for p in peaks)  # moved, by at most 12 %
    assert all(not w[:, [0, 1, 2, 3, 4, 6, 7]].any() for w in warped)  # never in time
    assert np.array_equal(warp_bands(mel, rng, 0.0), mel)
