"""Lip-sync figures: distance-vs-offset curves, the verdict confusion matrix, and detect.py's strip
of judged tracks.

Functions return matplotlib Figures (so a caller can log them to W&B) and :func:`save_figure`
writes one as PNG and closes it. A curve says more than any score: a sharp dip at the true
offset is a confident right answer, a flat curve is "no evidence", two dips are a face that
matches the audio at more than one lag.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: training machines have no display

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from training.sync.offsets import offset_frames


def curves_figure(
    curves: Sequence[np.ndarray],
    true_offsets_frames: Sequence[float | None],
    titles: Sequence[str] | None = None,
    columns: int = 3,
) -> Figure:
    """One panel per fragment: its averaged distance curve, the minimum (estimate, dot) and the
    true offset (dashed line; none for no-evidence fragments)."""
    if len(curves) != len(true_offsets_frames):
        raise ValueError("curves_figure: one true offset (or None) per curve is required")
    if not curves:
        raise ValueError("curves_figure: no curves to draw")
    titles = list(titles) if titles is not None else [""] * len(curves)
    rows = -(-len(curves) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(3.4 * columns, 2.4 * rows), squeeze=False, sharex=True
    )
    for index, axis in enumerate(axes.flat):
        if index >= len(curves):
            axis.set_axis_off()
            continue
        curve = np.asarray(curves[index], dtype=np.float64)
        offsets = offset_frames((len(curve) - 1) // 2)
        axis.plot(offsets, curve, color="tab:blue", linewidth=1.2)
        if np.isfinite(curve).any():
            best = int(np.nanargmin(curve))
            axis.plot(offsets[best], curve[best], "o", color="tab:red", markersize=4)
        truth = true_offsets_frames[index]
        if truth is not None:
            axis.axvline(truth, color="black", linestyle="--", linewidth=0.9)
        axis.set_title(titles[index], fontsize=7, loc="left")
        axis.tick_params(labelsize=7)
    for axis in axes[-1]:
        axis.set_xlabel("offset (frames, + = audio late)", fontsize=7)
    figure.tight_layout()
    return figure


def confusion_figure(confusion: dict[str, Any], title: str = "") -> Figure:
    """The ``verdict_confusion`` table: rows = truth, columns = verdicts, count and row share."""
    counts = np.asarray(confusion["counts"], dtype=np.int64).reshape(
        len(confusion["rows_true"]), len(confusion["cols_predicted"])
    )
    rows = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, rows, out=np.zeros(counts.shape), where=rows > 0)
    figure, axes = plt.subplots(figsize=(4.8, 0.7 * len(counts) + 1.6))
    axes.imshow(share, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(counts.shape[1]), confusion["cols_predicted"], fontsize=8)
    axes.set_yticks(range(counts.shape[0]), confusion["rows_true"], fontsize=8)
    axes.set_xlabel("verdict")
    axes.set_ylabel("truth")
    if title:
        axes.set_title(title, fontsize=9)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            colour = "white" if share[i, j] > 0.6 else "black"
            axes.text(
                j, i, f"{counts[i, j]}\n{share[i, j]:.0%}", ha="center", va="center",
                fontsize=8, color=colour,
            )  # fmt: skip
    figure.tight_layout()
    return figure


def strip_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """One row per window: the judged face track (a few of its crops side by side) and its
    distance curve with the chosen offset marked. Each row: ``{"title", "crops" (k, S, S, 3)
    uint8, "curve" (2 * search + 1,), "offset_frames"}``. What a reviewer checks first: is the
    judged face the speaker, and is the dip sharp?"""
    figure, axes = plt.subplots(
        len(rows), 2, figsize=(11, 1.9 * len(rows)), squeeze=False,
        gridspec_kw={"width_ratios": [3, 1.4]},
    )  # fmt: skip
    for (faces, plot), row in zip(axes, rows, strict=True):
        crops = np.asarray(row["crops"])
        faces.imshow(np.concatenate(list(crops), axis=1) if len(crops) else np.zeros((8, 8, 3)))
        faces.set_axis_off()
        faces.set_title(str(row["title"]), fontsize=8, loc="left")
        curve = np.asarray(row["curve"], dtype=float)
        lags = offset_frames((len(curve) - 1) // 2)
        plot.plot(lags, curve, color="tab:blue", linewidth=1.2)
        if row.get("offset_frames") is not None:
            plot.axvline(float(row["offset_frames"]), color="tab:red", linewidth=1.0)
        plot.axvline(0.0, color="grey", linewidth=0.6, linestyle=":")
        plot.set_xlabel("offset (frames, + = audio late)", fontsize=7)
        plot.tick_params(labelsize=7)
    figure.tight_layout()
    return figure


def save_figure(figure: Figure, path: str | Path, dpi: int = 110) -> Path:
    """Write ``figure`` as PNG (folders made as needed) and close it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=dpi)
    plt.close(figure)
    return path
