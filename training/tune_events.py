"""Tune the freeze detector's event post-processing on val, score it on test, record both.

    python -m training.tune_events exports/freeze/<run> [--card data_manifests/freeze.card.json]

The network gives per-frame probabilities; turning them into events has three knobs
(``training.events.decisions_to_events``: smoothing window, gap merging, minimum length). They
are chosen here on the validation split by event F1 (ties: fewer false events on clean clips),
exactly as freezedetect's thresholds are (``benchmarks/freeze_baseline.py``), then applied once
to test and scored by the same scorer (``training.baselines.freeze_scoring``), so the README
compares like with like. The chosen values are written into the export's model card
(``detect``), which is what detect.py reads.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
from pathlib import Path
from typing import Any

import numpy as np

from training.baselines import freeze_scoring as scoring
from training.detect.clips import ClipModel
from training.events import decisions_to_events

SMOOTH = (1, 3, 5, 7, 9)
MIN_FRAMES = (2, 3, 5, 8, 12)
MERGE_GAP = (0, 2, 4, 8, 12, 16, 24, 32)


def load_split(
    card_path: Path, split: str
) -> list[tuple[scoring.ClipTruth, dict[str, np.ndarray]]]:
    """(truth, features) of every clip of ``split``, in shard order."""
    import webdataset as wds

    card = json.loads(card_path.read_text())
    urls = [s["path"] for s in card["splits"][split]["shards"]]
    clips = []
    for sample in wds.WebDataset(urls, shardshuffle=False, empty_check=False):
        meta = json.loads(sample["json"])
        arrays = {n: np.load(io.BytesIO(sample[f"{n}.npy"])) for n in ("thumbs", "stats", "labels")}
        truth = scoring.ClipTruth(
            name=sample["__key__"],
            fps=float(meta["fps"]),
            labels=arrays["labels"].astype(np.int8),
            events=list(meta.get("events") or []),
            label=str(meta["label"]),
            group=str(meta.get("impairment") or meta.get("hard_negative") or "clean"),
            hard_negative=bool(meta.get("hard_negative")),
            severity=int(meta.get("severity") or 0),
        )
        clips.append((truth, arrays))
    return clips


def evaluate(
    clips: list[tuple[scoring.ClipTruth, np.ndarray]], setting: tuple[int, int, int]
) -> dict[str, Any]:
    smooth, min_frames, gap = setting
    predicted = [
        decisions_to_events(probs, truth.fps, min_frames, smooth, gap) for truth, probs in clips
    ]
    return scoring.score([truth for truth, _ in clips], predicted)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("export", type=Path)
    parser.add_argument("--card", type=Path, default=Path("data_manifests/freeze.card.json"))
    parser.add_argument(
        "--output", type=Path, default=Path("benchmarks/results/freeze_detector.json")
    )
    parser.add_argument("--no-write-card", action="store_true")
    args = parser.parse_args()
    model = ClipModel(args.export)
    splits = {}
    for split in ("val", "test"):
        splits[split] = [
            (truth, model(arrays["stats"], arrays["thumbs"]))
            for truth, arrays in load_split(args.card, split)
        ]
    grid = {}
    for setting in itertools.product(SMOOTH, MIN_FRAMES, MERGE_GAP):
        scores = evaluate(splits["val"], setting)
        grid[setting] = (scores["events"]["f1"] or 0.0, -scores["clean"]["false_events"])
    best = max(grid, key=lambda s: grid[s])
    defaults = (1, 3, 0)
    report = {
        "export": str(args.export),
        "card": str(args.card),
        "tuned_on": "val",
        "setting": dict(
            zip(("smooth_frames", "min_event_frames", "merge_gap_frames"), best, strict=True)
        ),
        "val": scoring.Headline.of(evaluate(splits["val"], best)).to_json(),
        "test": evaluate(splits["test"], best),
        "test_untuned_defaults": scoring.Headline.of(evaluate(splits["test"], defaults)).to_json(),
        "val_grid": [
            {"smooth": s, "min_frames": m, "merge_gap": g, "event_f1": grid[(s, m, g)][0]}
            for (s, m, g) in grid
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    if not args.no_write_card:
        card_path = Path(args.export) / "model_card.json"
        card = json.loads(card_path.read_text())
        card["detect"] = {**(card.get("detect") or {}), **report["setting"]}
        card["events_tuned_on_val"] = {"setting": report["setting"], "val": report["val"]}
        card_path.write_text(json.dumps(card, indent=2) + "\n")
    headline = scoring.Headline.of(report["test"]).to_json()
    print(f"tuned on val: {report['setting']} (val event F1 {report['val']['event_f1']:.3f})")
    print(
        scoring.table(
            {"detector (test)": headline, "untuned (test)": report["test_untuned_defaults"]},
            "test split",
        )
    )


if __name__ == "__main__":
    main()
