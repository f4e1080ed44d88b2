"""Hard negative: gaussian or motion blur over the whole clip (clean class, empty mask).

Blur removes the block edges a corruption detector could otherwise lean on as "detail", and
motion blur draws long straight streaks that resemble row smears; both must stay clean. OpenCV
does the filtering (deterministic, fast); the kernel is drawn once per clip, as a defocused or
shaken camera blurs every frame alike.
"""

from __future__ import annotations

from typing import Any, ClassVar

import cv2
import numpy as np

from impairments.registry import register
from impairments.video.base import VideoImpairment

FAMILIES = ("gaussian", "motion")
_SIGMA = {1: (0.6, 1.0), 2: (1.0, 1.6), 3: (1.6, 2.4), 4: (2.4, 3.5), 5: (3.5, 5.0)}
MOTION_LENGTH_PER_SIGMA = 4.0  # a motion streak as long as the gaussian's visible extent


def motion_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalised line of ``length`` pixels at ``angle_deg`` (0 = horizontal)."""
    size = length if length % 2 else length + 1
    kernel = np.zeros((size, size), dtype=np.float32)
    centre = size // 2
    kernel[centre, centre - length // 2 : centre - length // 2 + length] = 1.0
    rotation = cv2.getRotationMatrix2D((centre, centre), angle_deg, 1.0)
    kernel = cv2.warpAffine(kernel, rotation, (size, size), flags=cv2.INTER_LINEAR)
    return kernel / kernel.sum()


@register
class Blur(VideoImpairment):
    """Defocus (gaussian) or camera-shake (motion) blur, the same on every frame."""

    name = "blur"
    hard_negative = True
    severity_ranges: ClassVar = {s: {"sigma": sigma} for s, sigma in _SIGMA.items()}

    FAMILIES = FAMILIES

    def draw(
        self, rng: np.random.Generator, shape: tuple[int, int, int], fps: float
    ) -> dict[str, Any]:
        family = str(self.pick(rng, self.families))
        sigma = round(self.uniform(rng, "sigma"), 3)
        params: dict[str, Any] = {"family": family, "sigma": sigma}
        if family == "motion":
            params["length_px"] = max(2, round(MOTION_LENGTH_PER_SIGMA * sigma))
            params["angle_deg"] = round(float(rng.uniform(0.0, 180.0)), 2)
        return params

    def apply(
        self, frames: np.ndarray, params: dict[str, Any], rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        out = np.empty_like(frames)
        if params["family"] == "gaussian":
            for index, frame in enumerate(frames):
                cv2.GaussianBlur(frame, (0, 0), params["sigma"], dst=out[index])
        else:
            kernel = motion_kernel(params["length_px"], params["angle_deg"])
            for index, frame in enumerate(frames):
                out[index] = cv2.filter2D(frame, -1, kernel, borderType=cv2.BORDER_REFLECT)
        return out, np.zeros(frames.shape[:3], dtype=bool)
