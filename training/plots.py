"""Figures for run reports: confusion matrices (counts plus row-normalised recall) and corruption
map overlays (frame, true mask, predicted map), readable at a glance in W&B."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: training machines have no display

import matplotlib.pyplot as plt
import numpy as np

from training.overlays import overlay_map


def save_confusion_matrix(
    confusion: np.ndarray, classes: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Write a PNG; cells show the count and the share of the true class (row)."""
    confusion = np.asarray(confusion, dtype=np.int64)
    rows = confusion.sum(axis=1, keepdims=True)
    share = np.divide(confusion, rows, out=np.zeros(confusion.shape), where=rows > 0)
    size = 1.1 * len(classes) + 2
    figure, axes = plt.subplots(figsize=(size, size * 0.85))
    image = axes.imshow(share, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    axes.set_yticks(range(len(classes)), classes)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    if title:
        axes.set_title(title)
    for i in range(len(classes)):
        for j in range(len(classes)):
            colour = "white" if share[i, j] > 0.6 else "black"
            axes.text(
                j,
                i,
                f"{confusion[i, j]}\n{share[i, j]:.0%}",
                ha="center",
                va="center",
                fontsize=8,
                color=colour,
            )
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    plt.close(figure)
    return path


def save_map_overlays(samples: Sequence[dict], path: str | Path) -> Path:
    """One row per sample: the frame, its true mask over it (red), the predicted map over it.

    ``samples``: dicts with ``frame`` (H, W, 3) uint8, ``mask`` (H, W) bool, ``map`` (h, w)
    probabilities and ``title``.
    """
    rows = len(samples)
    figure, axes = plt.subplots(rows, 3, figsize=(9, 3.1 * rows), squeeze=False)
    for row, sample in zip(axes, samples, strict=True):
        frame = np.asarray(sample["frame"])
        mask = np.asarray(sample["mask"], dtype=np.float32)
        row[0].imshow(frame)
        row[1].imshow(overlay_map(frame, mask, alpha=0.6))
        row[2].imshow(overlay_map(frame, sample["map"], alpha=0.6))
        row[0].set_title(sample.get("title", ""), fontsize=7, loc="left")
        row[1].set_title("true mask", fontsize=8)
        row[2].set_title("predicted map", fontsize=8)
        for axis in row:
            axis.set_axis_off()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
