"""Choose the block-corruption v2 frame threshold on val, score test with it, record both.

    python -m training.tune_block_threshold exports/block_corruption/<run> \
        --shards data/shards/<build> [--val-shards data/shards/<build> ...] \
        [--test-shards data/shards/<other build> ...]

The frame head is trained with a balanced loss, but a detector trained briefly (a CPU run) is
still biased towards "clean": its scores for corrupted frames sit below 0.5 more often than
clean ones sit above it, and the fixed 0.5 costs balanced accuracy. This is the same protocol as
ffmpeg blockdetect's baseline (``training.baselines.blockdetect``): the threshold that maximises
balanced accuracy on the validation split, then test read once with it. v1 (map area > 0.07) is
the published rule and stays as it is.

Balanced accuracy is flat over a wide range of thresholds for a reasonable model, so the argmax on
1,500 val frames moves by 0.2 between checkpoints of near-equal quality and carries that noise to
test. ``--val-shards`` pools the val splits of more builds of the same recipe (other seeds, the
same held-out source items) with the first: twice the frames, half the variance of the estimate.

The chosen threshold goes where every runtime reads it: the export's ``model_card.json``
(``decision.frame_threshold``, used by ONNX Runtime and TorchScript in ``detect.py``) and the
``frame_threshold`` buffer of its ``model.ckpt``; the card also keeps the tuning record
(``frame_threshold_tuning``: val before/after, test scores with recall per corruption and content
kind, the shards used).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from impairments.builder.card import write_json
from training.baselines.blockdetect import best_threshold, headline, score_frames
from training.detect.frame_runtime import FrameMapModel, load_frame_model
from training.detect.runtime import CARD_FILE
from training.metrics import binary_decision_report

BATCH = 16


def score_split(model: FrameMapModel, shard_dir: Path, split: str) -> dict[str, np.ndarray]:
    """v2 frame scores (``score``), v1 area ratios (``area``) and the truth of every frame."""

    def scorer(frames: list[np.ndarray]) -> dict[str, np.ndarray]:
        # Stored crops share one size except a few from small sources: batch by shape.
        scores, areas = np.empty(len(frames)), np.empty(len(frames))
        for shape in dict.fromkeys(frame.shape for frame in frames):
            index = [i for i, frame in enumerate(frames) if frame.shape == shape]
            outputs = model(np.stack([frames[i] for i in index]))
            scores[index], areas[index] = outputs["frame_score"], outputs["area_ratio"]
        return {"score": scores, "area": areas}

    groups = list(model.card.get("groups") or [])
    return score_frames(shard_dir, split, groups, scorer, chunk=BATCH)


def report(scored: dict[str, np.ndarray], flagged: np.ndarray, groups: list[str]) -> dict[str, Any]:
    return binary_decision_report(
        flagged, scored["label"], scored["group"], groups, scored["hard"], scored["severity"]
    )


def recall_by_content(
    scored: dict[str, np.ndarray], flagged: np.ndarray, groups: Sequence[str]
) -> dict[str, Any]:
    """Recall of each corruption on each content kind: ``{corruption: {content: {recall,
    count}}}`` (``scored["group"]`` holds indices into ``groups``)."""
    out: dict[str, dict[str, dict[str, float | int]]] = {}
    corrupted = scored["label"] == 1
    for group in sorted(set(scored["group"][corrupted].tolist())):
        for content in sorted(set(scored["content"][corrupted].tolist())):
            rows = corrupted & (scored["group"] == group) & (scored["content"] == content)
            if rows.any():
                out.setdefault(groups[group], {})[content] = {
                    "recall": round(float(flagged[rows].mean()), 4),
                    "count": int(rows.sum()),
                }
    return out


def pooled(parts: Sequence[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The frames of several scored splits as one (same columns, concatenated in order)."""
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


def tune(
    export: Path,
    shards: Path,
    test_shards: Sequence[Path] = (),
    threads: int | None = None,
    val_shards: Sequence[Path] = (),
) -> dict[str, Any]:
    """Tune on the val of ``shards`` (pooled with ``val_shards``'), score every test split, write
    the threshold into the export."""
    card_path = export / CARD_FILE
    if not card_path.is_file():
        raise FileNotFoundError(f"{export}: no {CARD_FILE} (not an export folder)")
    model = load_frame_model(export, runtime="onnx", threads=threads)
    groups = list(model.card.get("groups") or [])
    decision = model.decision
    before, area_threshold = float(decision["frame_threshold"]), float(decision["area_threshold"])

    val_builds = [shards, *val_shards]
    val_parts = [score_split(model, build, "val") for build in val_builds]
    val = pooled(val_parts)
    threshold, val_bal_acc = best_threshold(val["score"], val["label"])
    threshold = float(np.clip(threshold, 0.0, 1.0))
    record: dict[str, Any] = {
        "export": str(export),
        "chosen_on": " + ".join(f"{build}/val-*.tar" for build in val_builds),
        "objective": "balanced accuracy of frame_score > threshold",
        "frame_threshold_before": before,
        "frame_threshold": round(threshold, 6),
        "val": {
            "frames": len(val["label"]),
            "frames_per_build": {
                str(build): len(part["label"])
                for build, part in zip(val_builds, val_parts, strict=True)
            },
            "bal_acc_before": report(val, val["score"] > before, groups)["bal_acc"],
            "bal_acc": val_bal_acc,
        },
        "test": {},
    }
    for test_dir in [shards, *test_shards]:
        test = score_split(model, test_dir, "test")
        tuned = report(test, test["score"] > threshold, groups)
        record["test"][str(test_dir)] = {
            "frames": len(test["label"]),
            "v2_before": headline(report(test, test["score"] > before, groups)),
            "v2": headline(tuned),
            "v2_report": tuned,
            "v1": headline(report(test, test["area"] > area_threshold, groups)),
            "v2_recall_by_content": recall_by_content(test, test["score"] > threshold, groups),
        }

    card = json.loads(card_path.read_text())
    card["decision"]["frame_threshold"] = record["frame_threshold"]
    card["frame_threshold_tuning"] = record
    write_json(card_path, card)
    _set_checkpoint_threshold(
        export / card.get("files", {}).get("checkpoint", "model.ckpt"), threshold
    )
    return record


def _set_checkpoint_threshold(checkpoint: Path, threshold: float) -> None:
    """Keep the ``.ckpt`` runtime (which reads the network's own buffer) in step with the card."""
    if not checkpoint.is_file():
        return
    import torch

    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state["state_dict"]["net.frame_threshold"] = torch.tensor(float(threshold))
    torch.save(state, checkpoint)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="exports/block_corruption/<run>")
    parser.add_argument("--shards", type=Path, required=True, help="build whose val tunes it")
    parser.add_argument(
        "--val-shards", type=Path, nargs="*", default=[], help="more builds whose val is pooled"
    )
    parser.add_argument("--test-shards", type=Path, nargs="*", default=[], help="more test splits")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None, help="also write the record here")
    args = parser.parse_args(argv)
    try:
        record = tune(args.export, args.shards, args.test_shards, args.threads, args.val_shards)
    except (FileNotFoundError, KeyError, ValueError) as error:
        print(f"tune_block_threshold: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    summary = {
        "frame_threshold": record["frame_threshold"],
        "val": record["val"],
        "test": {
            k: {n: v[n] for n in ("v2_before", "v2", "v1")} for k, v in record["test"].items()
        },
    }
    print(json.dumps(summary, indent=2))
    if args.output:
        write_json(args.output, record)
    return record


if __name__ == "__main__":
    main()
