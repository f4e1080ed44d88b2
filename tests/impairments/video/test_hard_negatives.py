"""Hard negatives change the picture the way their physics says, and never label anything."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import impairments


def high_frequency_energy(frames: np.ndarray) -> float:
    grey = frames.astype(np.float32).mean(axis=-1)
    return float(np.mean([np.abs(cv2.Laplacian(frame, cv2.CV_32F)).mean() for frame in grey]))


@pytest.mark.parametrize("family", ["gaussian", "motion"])
def test_blur_removes_detail_more_at_higher_severity(family: str, make_clip) -> None:
    clip = make_clip()
    energy = [
        high_frequency_energy(
            impairments.get("blur", severity=s, families=(family,))(clip, seed=0)[0]
        )
        for s in (1, 3, 5)
    ]
    assert high_frequency_energy(clip) > energy[0] > energy[1] > energy[2]


def test_gaussian_grain_has_the_drawn_level_and_changes_every_frame() -> None:
    mid_grey = np.full((4, 64, 64, 3), 128, dtype=np.uint8)
    out, annotation = impairments.get("grain", severity=3, families=("gaussian",))(mid_grey, seed=2)
    noise = out.astype(np.float32) - 128.0
    assert noise.std() == pytest.approx(annotation.params["sigma"], rel=0.05)
    assert not np.array_equal(out[0], out[1])


@pytest.mark.parametrize("family", ["film", "iso"])
def test_other_grain_families_add_noise_that_grows_with_severity(family: str, make_clip) -> None:
    clip = make_clip(frames=4)
    spread = [
        (
            impairments.get("grain", severity=s, families=(family,))(clip, seed=0)[0].astype(float)
            - clip
        ).std()
        for s in (1, 5)
    ]
    assert 0 < spread[0] < spread[1]


def test_compression_is_lossier_at_higher_severity(make_clip) -> None:
    clip = make_clip()
    error = [
        np.abs(
            impairments.get("compression", severity=s)(clip, seed=0)[0].astype(float) - clip
        ).mean()
        for s in (1, 5)
    ]
    assert 0 < error[0] < error[1]
