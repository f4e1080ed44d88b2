"""Would an ensemble of block-corruption exports, or mirrored frames, lift the v2 decision?

    python -m benchmarks.block_ensemble exports/block_corruption/<a> exports/block_corruption/<b> \
        --shards data/shards/<build> [--val-shards data/shards/<build> ...] \
        [--test-shards data/shards/<build> ...] [--flip] \
        --output benchmarks/results/<name>.json

The CPU stages of the block detector end within about 0.01 of each other on the README split,
however they were trained. That plateau is either variance (each model wrong on different frames,
so averaging them helps) or bias (every model wrong on the same frames, so more of the same
training will not help and the data or the capacity has to change). Averaging the frame scores of
several exports measures the first; averaging each frame's score with its mirror image's (flip
test-time augmentation) measures the part that depends on orientation.

Every export scores every frame of the val splits (``--shards`` and ``--val-shards``, pooled) and
of the test splits (``--shards`` and ``--test-shards``), once as stored and, with ``--flip``,
mirrored left to right. Each combination of members (every non-empty subset, up to
``--max-members``) and views then averages its frame scores, chooses its threshold on pooled val
exactly as ``training.tune_block_threshold`` does, and reads each test split once with it (and at
0.5). The combination to deploy is the one with the best *val* score (``best_on_val``); the best
score on each test split is reported too, labelled as what it is, a ceiling chosen on test.

An ensemble of N members runs the trunk N times per frame (2N with the flip), so a gain has to pay
for N times the detection cost; a weight average of the same members (``training.
average_checkpoints``) costs nothing and is the first thing to try when this shows a gain.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from impairments.builder.card import write_json
from training.baselines.blockdetect import best_threshold, headline
from training.detect.frame_runtime import FrameMapModel, load_frame_model
from training.detect.runtime import ModelLoadError
from training.tune_block_threshold import pooled, report, score_split

Scored = dict[str, np.ndarray]


def mirrored(model: FrameMapModel) -> FrameMapModel:
    """The same model run on frames flipped left to right (its map comes back flipped too)."""

    def run_mirrored(frames: np.ndarray) -> dict[str, np.ndarray]:
        return model(frames[:, :, ::-1])

    return FrameMapModel(model.card, f"{model.runtime}+mirrored", model.path, run_mirrored)


def score_member(
    model: FrameMapModel, splits: Sequence[tuple[Path, str]], flip: bool
) -> dict[str, list[Scored]]:
    """``{view: [scored split, ...]}`` for one export, ``splits`` in order."""
    views = {"stored": model, **({"mirrored": mirrored(model)} if flip else {})}
    return {
        name: [score_split(view, build, split) for build, split in splits]
        for name, view in views.items()
    }


def member_sets(count: int, max_members: int) -> Iterable[tuple[int, ...]]:
    """Every non-empty subset of ``range(count)`` with at most ``max_members`` members."""
    for size in range(1, min(count, max_members) + 1):
        yield from itertools.combinations(range(count), size)


def averaged(parts: Sequence[Scored]) -> Scored:
    """One scored split whose ``score`` is the mean of the parts' (truth columns from the first).

    Every part is the same split read in the same order, so the truth columns must agree: a
    mismatch means a build changed between two members' passes, and is refused.
    """
    first = parts[0]
    for part in parts[1:]:
        if not np.array_equal(part["label"], first["label"]):
            raise ValueError("members scored different frames (did a build change mid-run?)")
    return {**first, "score": np.mean([part["score"] for part in parts], axis=0)}


def evaluate(
    member_scores: Sequence[dict[str, list[Scored]]],
    members: tuple[int, ...],
    views: Sequence[str],
    n_val: int,
    test_names: Sequence[str],
    groups: Sequence[str],
) -> dict[str, Any]:
    """Threshold on pooled val for one combination, then every test split read once with it."""
    splits = [
        averaged([member_scores[m][view][i] for m in members for view in views])
        for i in range(n_val + len(test_names))
    ]
    val = pooled(splits[:n_val])
    threshold, val_bal_acc = best_threshold(val["score"], val["label"])
    threshold = float(np.clip(threshold, 0.0, 1.0))
    test: dict[str, Any] = {}
    for name, split in zip(test_names, splits[n_val:], strict=True):
        test[name] = {
            "v2": headline(report(split, split["score"] > threshold, groups)),
            "v2_at_0.5": headline(report(split, split["score"] > 0.5, groups)),
        }
    return {
        "threshold": round(threshold, 6),
        "val_bal_acc": val_bal_acc,
        "test": test,
    }


def run(
    exports: Sequence[Path],
    shards: Path,
    val_shards: Sequence[Path] = (),
    test_shards: Sequence[Path] = (),
    flip: bool = False,
    max_members: int = 4,
    threads: int | None = None,
) -> dict[str, Any]:
    """Score every export once per view, then every combination of members and views."""
    if not exports:
        raise ValueError("name at least one export")
    val_builds, test_builds = [shards, *val_shards], [shards, *test_shards]
    splits = [(b, "val") for b in val_builds] + [(b, "test") for b in test_builds]
    models = [load_frame_model(export, runtime="onnx", threads=threads) for export in exports]
    member_scores = [score_member(model, splits, flip) for model in models]
    groups = list(models[0].card.get("groups") or [])
    test_names = [str(build) for build in test_builds]
    view_sets = [("stored",), ("stored", "mirrored")] if flip else [("stored",)]

    combinations = []
    for members in member_sets(len(exports), max_members):
        for views in view_sets:
            result = evaluate(member_scores, members, views, len(val_builds), test_names, groups)
            combinations.append(
                {"members": [str(exports[m]) for m in members], "views": list(views), **result}
            )
    stored = member_scores[0]["stored"]
    frames = {"val": sum(len(part["label"]) for part in stored[: len(val_builds)])}
    for name, part in zip(test_names, stored[len(val_builds) :], strict=True):
        frames[name] = len(part["label"])
    ceilings = {
        name: max(combinations, key=lambda c, name=name: c["test"][name]["v2"]["bal_acc"])
        for name in test_names
    }
    return {
        "exports": [str(export) for export in exports],
        "val_shards": [f"{build}/val-*.tar" for build in val_builds],
        "test_shards": [f"{build}/test-*.tar" for build in test_builds],
        "objective": "balanced accuracy of mean frame_score > threshold, threshold on pooled val",
        "frames": frames,
        "best_on_val": max(combinations, key=lambda c: c["val_bal_acc"]),
        "best_on_each_test_split_as_a_ceiling": ceilings,
        "combinations": combinations,
    }


def summary_lines(record: dict[str, Any]) -> list[str]:
    """One line per combination: members, views, threshold, val and each test split."""
    short = {export: Path(export).name for export in record["exports"]}
    lines = []
    for combo in record["combinations"]:
        tests = "  ".join(
            f"{Path(name).name} {cell['v2']['bal_acc']:.4f} "
            f"(0.5: {cell['v2_at_0.5']['bal_acc']:.4f})"
            for name, cell in combo["test"].items()
        )
        members = "+".join(short[m] for m in combo["members"])
        lines.append(
            f"{members} [{'+'.join(combo['views'])}] threshold {combo['threshold']:.3f} "
            f"val {combo['val_bal_acc']:.4f}  {tests}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("exports", type=Path, nargs="+", help="exports/block_corruption/<run> ...")
    parser.add_argument("--shards", type=Path, required=True, help="build whose val and test")
    parser.add_argument("--val-shards", type=Path, nargs="*", default=[], help="more val builds")
    parser.add_argument("--test-shards", type=Path, nargs="*", default=[], help="more test splits")
    parser.add_argument("--flip", action="store_true", help="also average with mirrored frames")
    parser.add_argument("--max-members", type=int, default=4, help="largest ensemble tried")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--output", type=Path, default=None, help="write the record here")
    args = parser.parse_args(argv)
    try:
        record = run(
            args.exports, args.shards, args.val_shards, args.test_shards, args.flip,
            args.max_members, args.threads,
        )  # fmt: skip
    except (FileNotFoundError, KeyError, ValueError, ModelLoadError) as error:
        print(f"block_ensemble: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    print("\n".join(summary_lines(record)))
    if args.output:
        write_json(args.output, record)
    return record


if __name__ == "__main__":
    main()
