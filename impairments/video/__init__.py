"""Video impairments (block corruption, freezes/stutters, and the clean look-alikes of each);
importing registers them."""

from impairments.video import (
    block_displacement,
    block_flat,
    blur,
    codec_corruption,
    compression,
    crossfade,
    frame_drop,
    freeze,
    grain,
    slide,
    slow_motion,
    slow_pan,
    static_noise,
    stutter,
)
from impairments.video.base import (
    MACROBLOCK,
    VideoAnnotation,
    VideoImpairment,
    macroblock_mask_from_pixels,
    pixels_from_macroblock_mask,
)

__all__ = [
    "MACROBLOCK",
    "VideoAnnotation",
    "VideoImpairment",
    "block_displacement",
    "block_flat",
    "blur",
    "codec_corruption",
    "compression",
    "crossfade",
    "frame_drop",
    "freeze",
    "grain",
    "macroblock_mask_from_pixels",
    "pixels_from_macroblock_mask",
    "slide",
    "slow_motion",
    "slow_pan",
    "static_noise",
    "stutter",
]
