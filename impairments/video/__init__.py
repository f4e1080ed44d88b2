"""Video impairments (block corruption and its clean look-alikes); importing registers them."""

from impairments.video import (
    block_displacement,
    block_flat,
    blur,
    codec_corruption,
    compression,
    grain,
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
    "grain",
    "macroblock_mask_from_pixels",
    "pixels_from_macroblock_mask",
]
