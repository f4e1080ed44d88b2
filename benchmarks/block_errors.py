"""Where a block-corruption detector is wrong: its missed corrupted frames and its false alarms
on one split, counted by corruption, content kind and severity, and drawn.

    python -m benchmarks.block_errors exports/block_corruption/<run> --shards data/shards/<build> \
        [--split test] [--decision v2|v1] [--per-group 4] --output benchmarks/results/<name>.png

Balanced accuracy says how often the detector is wrong; the next change to the simulator or the
training depends on *what* it gets wrong (small damage in busy content, heavy compression taken
for damage, a whole crop displaced with no seam inside it...). This scores every frame of the
split with the export's own decision (v2: ``frame_score > frame_threshold``, the threshold in its
card; v1: ``area_ratio > area_threshold``) and writes:

- ``<output>.png``: the most confident errors of each kind and group (missed frames with the
  lowest scores, false alarms with the highest), each as frame | true mask | predicted map;
- ``<output>.json``: every error (shard key, source, frame index, group, content, severity,
  score, true corrupted-area ratio) and the counts per group, content kind and severity; and, per
  corruption, how strong the edge of the labelled damage is in missed and in detected frames
  (median luma step across the true mask's boundary): a miss on a 2-level seam in a smooth
  gradient asks a different fix (the label) than a miss on a 40-level one (the detector).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from impairments.builder.card import write_json
from impairments.video.visibility import SEAM_LEVELS
from training.baselines.blockdetect import content_kind, iter_split
from training.data.image_decode import sample_group
from training.detect.frame_runtime import FrameMapModel, load_frame_model
from training.detect.runtime import ModelLoadError
from training.plots import save_map_overlays

BATCH = 16
DECISIONS = ("v2", "v1")
KINDS = ("missed", "false_alarm")


def _decide(outputs: dict[str, np.ndarray], decision: dict[str, Any], rule: str) -> np.ndarray:
    if rule == "v2":
        return outputs["frame_score"] > float(decision["frame_threshold"])
    return outputs["area_ratio"] > float(decision["area_threshold"])


def boundary_step(frame: np.ndarray, mask: np.ndarray) -> float:
    """Median absolute luma step (RGB mean, 0-255 levels) between neighbouring pixels on either
    side of the mask's edge: how visible the edge of the labelled damage is. NaN without an edge
    (an empty mask, or one covering the whole frame)."""
    luma = np.asarray(frame, dtype=np.float32).mean(axis=-1)
    mask = np.asarray(mask, dtype=bool)
    steps = [np.abs(np.diff(luma, axis=axis))[np.diff(mask, axis=axis)] for axis in (0, 1)]
    edge = np.concatenate(steps)
    return float(np.median(edge)) if edge.size else float("nan")


def edge_visibility(edges: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per corruption: count and median :func:`boundary_step` of the missed and the detected
    frames, and how many of each have an edge fainter than ``SEAM_LEVELS`` (the step the visible
    codec label asks for)."""
    out: dict[str, Any] = {}
    for group in sorted({edge["group"] for edge in edges}):
        out[group] = {}
        for outcome in ("missed", "detected"):
            missed = outcome == "missed"
            steps = np.array(
                [e["boundary_step"] for e in edges if e["group"] == group and e["missed"] == missed]
            )
            steps = steps[np.isfinite(steps)]
            out[group][outcome] = {
                "count": int(steps.size),
                "median_boundary_step": round(float(np.median(steps)), 2) if steps.size else None,
                f"fainter_than_{SEAM_LEVELS:g}_levels": int((steps < SEAM_LEVELS).sum()),
            }
    return out


def find_errors(
    model: FrameMapModel, shard_dir: Path, split: str, rule: str = "v2"
) -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
    """Every frame of ``split`` the decision gets wrong (frames, masks and maps kept only for
    those), how many frames were scored, and the :func:`boundary_step` of every corrupted frame
    with its group and outcome."""
    if rule not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}, got {rule!r}")
    groups = list(model.card.get("groups") or [])
    errors: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    total = 0

    def flush() -> None:
        # Stored crops share one size except a few from small sources: batch by shape.
        for shape in dict.fromkeys(sample["frame.png"].shape for sample in pending):
            batch = [sample for sample in pending if sample["frame.png"].shape == shape]
            outputs = model(np.stack([sample["frame.png"] for sample in batch]))
            flagged = _decide(outputs, model.decision, rule)
            for row, sample in enumerate(batch):
                meta = sample["json"]
                truth = bool(int(meta["label_index"]))
                name = groups[sample_group(meta, groups)]
                mask = np.asarray(sample["mask.png"]) > 0
                step = None
                if truth:
                    step = boundary_step(sample["frame.png"], mask)
                    edges.append(
                        {"group": name, "missed": not bool(flagged[row]), "boundary_step": step}
                    )
                if bool(flagged[row]) == truth:
                    continue
                errors.append(
                    {
                        "kind": "missed" if truth else "false_alarm",
                        "key": sample["__key__"],
                        "source_id": meta.get("source_id"),
                        "frame_index": meta.get("frame_index"),
                        "group": name,
                        "content": content_kind(str(meta.get("source_id") or "")),
                        "severity": int(meta.get("severity") or 0),
                        "score": round(float(outputs["frame_score"][row]), 4),
                        "area_ratio": round(float(outputs["area_ratio"][row]), 4),
                        "true_area_ratio": float(meta.get("area_ratio") or 0.0),
                        "boundary_step": None if step is None else round(step, 2),
                        "frame": sample["frame.png"],
                        "mask": mask,
                        "map": outputs["corruption_map"][row],
                    }
                )
        pending.clear()

    samples = iter_split(shard_dir, split)
    for sample in tqdm(samples, desc=f"{shard_dir.name}/{split}", unit="frame"):
        pending.append(sample)
        total += 1
        if len(pending) >= BATCH:
            flush()
    if pending:
        flush()
    return errors, total, edges


def summarise(errors: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Error counts per kind, and within each kind per group, content kind and severity."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        rows = [error for error in errors if error["kind"] == kind]
        out[kind] = {
            "count": len(rows),
            **{
                f"by_{field}": dict(sorted(Counter(str(row[field]) for row in rows).items()))
                for field in ("group", "content", "severity")
            },
        }
    return out


def most_confident(errors: Sequence[dict[str, Any]], per_group: int) -> list[dict[str, Any]]:
    """Up to ``per_group`` errors of each (kind, group): misses with the lowest score first,
    false alarms with the highest, so the figure shows the errors the detector is surest of."""
    chosen: list[dict[str, Any]] = []
    for kind in KINDS:
        rows = [error for error in errors if error["kind"] == kind]
        for group in sorted({row["group"] for row in rows}):
            in_group = [row for row in rows if row["group"] == group]
            in_group.sort(key=lambda row: row["score"], reverse=kind == "false_alarm")
            chosen.extend(in_group[:per_group])
    return chosen


def _title(error: dict[str, Any]) -> str:
    return (
        f"{error['kind']}: {error['group']} on {error['content']}, severity {error['severity']}\n"
        f"score {error['score']:.2f}, true area {error['true_area_ratio']:.3f}\n"
        f"{error['source_id']}"
    )


def run(
    export: Path,
    shard_dir: Path,
    output: Path,
    split: str = "test",
    rule: str = "v2",
    per_group: int = 4,
) -> dict[str, Any]:
    model = load_frame_model(export)
    errors, total, edges = find_errors(model, shard_dir, split, rule)
    drawn = most_confident(errors, per_group)
    record = {
        "export": str(export),
        "shards": str(shard_dir),
        "split": split,
        "decision": rule,
        "threshold": model.decision.get("frame_threshold" if rule == "v2" else "area_threshold"),
        "frames": total,
        "errors": summarise(errors),
        "edge_visibility": edge_visibility(edges),
        "figure": None,
        "listed": [
            {k: v for k, v in error.items() if k not in ("frame", "mask", "map")}
            for error in errors
        ],
    }
    if drawn:
        figure = output.with_suffix(".png")
        samples = [{**error, "title": _title(error)} for error in drawn]
        record["figure"] = str(save_map_overlays(samples, figure))
    write_json(output.with_suffix(".json"), record)
    return record


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="export folder (or model.onnx / .ckpt)")
    parser.add_argument("--shards", type=Path, required=True, help="a block_corruption build")
    parser.add_argument("--split", default="test")
    parser.add_argument("--decision", choices=DECISIONS, default="v2")
    parser.add_argument("--per-group", type=int, default=4, help="errors drawn per kind and group")
    parser.add_argument(
        "--output", type=Path, required=True, help="writes <output>.json and <output>.png"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    if args.per_group < 0:
        print("--per-group must be >= 0", file=sys.stderr)
        raise SystemExit(2)
    try:
        record = run(
            args.export, args.shards, args.output, args.split, args.decision, args.per_group
        )
    except (ModelLoadError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for kind in KINDS:
        summary = record["errors"][kind]
        print(f"{kind}: {summary['count']} of {record['frames']} frames; {summary['by_group']}")
    written = [str(args.output.with_suffix(".json")), record["figure"]]
    print("wrote " + " and ".join(path for path in written if path))
    return record


if __name__ == "__main__":
    main()
