"""How much of the codec-corruption label keeps the picture's local statistics, per content kind.

``codec_corruption`` labels a 16x16 macroblock damaged when its decode differs from the clean
decode by at least ``DAMAGED_BLOCK_DIFF`` levels. Inside a noise texture a concealed slice decodes
as *more texture*: the block differs, but its mean and contrast stay what they were, so nothing in
a single frame marks it. This measures, per procedural content kind, the share of labelled blocks
whose mean stays within ``--mean-levels`` and whose standard deviation stays within
``--std-ratio`` of the clean block: a proxy for "damage a viewer cannot see", to compare with
the detector's recall per content kind (``training.tune_block_threshold`` records it). It also
counts how many of those blocks the default ``visible`` label keeps (a seam or a contrast change,
:mod:`impairments.video.visibility`)::

    python -m benchmarks.codec_label_visibility \
        --output benchmarks/results/codec_label_visibility.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from impairments.registry import get as get_impairment
from impairments.sources.procedural_video import render
from impairments.video.base import MACROBLOCK
from impairments.video.visibility import LABELS

KINDS = ("texture", "crowd", "gradient", "fast_motion")


def block_mean_std(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of the grey level of each whole macroblock: ``(T, rows, cols)``
    each (partial edge blocks are left out)."""
    grey = frames.astype(np.float32).mean(axis=-1)
    n, height, width = grey.shape
    rows, cols = height // MACROBLOCK, width // MACROBLOCK
    blocks = grey[:, : rows * MACROBLOCK, : cols * MACROBLOCK].reshape(
        n, rows, MACROBLOCK, cols, MACROBLOCK
    )
    return blocks.mean(axis=(2, 4)), blocks.std(axis=(2, 4))


def statistics_kept(
    clean: np.ndarray,
    damaged: np.ndarray,
    labelled: np.ndarray,
    mean_levels: float,
    std_ratio: float,
) -> tuple[int, int]:
    """``(kept, labelled)`` block counts: labelled blocks whose mean and contrast survived."""
    clean_mean, clean_std = block_mean_std(clean)
    damaged_mean, damaged_std = block_mean_std(damaged)
    rows, cols = clean_mean.shape[1:]
    selected = labelled[:, :rows, :cols].astype(bool)
    ratio = (damaged_std[selected] + 1.0) / (clean_std[selected] + 1.0)
    kept = (np.abs(damaged_mean - clean_mean)[selected] < mean_levels) & (
        np.abs(ratio - 1.0) < std_ratio
    )
    return int(kept.sum()), int(selected.sum())


def measure(
    kinds: Sequence[str] = KINDS,
    scenes: int = 5,
    severities: Sequence[int] = (3, 5),
    mean_levels: float = 4.0,
    std_ratio: float = 0.2,
) -> dict[str, Any]:
    """Per kind: labelled blocks and the share whose statistics survived (1-s, 352x288 scenes)."""
    out: dict[str, Any] = {
        "settings": {
            "scenes_per_kind": scenes,
            "severities": list(severities),
            "mean_levels": mean_levels,
            "std_ratio": std_ratio,
            "reference": "the rendered scene before encoding",
            "labelled_blocks": "codec_corruption label='difference' (the label before 2026-11-27)",
        },
        "kinds": {},
    }
    for kind in tqdm(kinds, desc="content kinds"):
        kept = labelled = visible = 0
        for index in range(scenes):
            spec = {"kind": kind, "frames": 25, "fps": 25.0, "height": 288, "width": 352}
            clean = render({**spec, "seed": 1000 + index})
            for severity in severities:
                masks = {}
                for label in LABELS:  # same seed: same pixels, only the mask differs
                    codec = get_impairment("codec_corruption", severity=severity, label=label)
                    damaged, annotation = codec(clean, fps=25.0, seed=100 * index + severity)
                    masks[label] = annotation.macroblock_mask
                k, n = statistics_kept(clean, damaged, masks["difference"], mean_levels, std_ratio)
                kept, labelled = kept + k, labelled + n
                visible += int(masks["visible"].sum())
        out["kinds"][kind] = {
            "labelled_blocks": labelled,
            "statistics_kept_share": round(kept / labelled, 4) if labelled else None,
            "visible_label_share": round(visible / labelled, 4) if labelled else None,
        }
    return out


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenes", type=int, default=5, help="procedural scenes per kind")
    parser.add_argument("--mean-levels", type=float, default=4.0)
    parser.add_argument("--std-ratio", type=float, default=0.2)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args(argv)
    result = measure(scenes=args.scenes, mean_levels=args.mean_levels, std_ratio=args.std_ratio)
    print(json.dumps(result["kinds"], indent=2))
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
