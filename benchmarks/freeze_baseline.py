"""ffmpeg ``freezedetect`` on the synthetic ``freeze`` dataset: thresholds tuned on val, test once.

    python -m benchmarks.freeze_baseline [dataset=freeze key=value ...] [--output ...]
    python -m benchmarks.freeze_baseline --from-measured   # re-score, no re-render
    make bench-freeze

The shards hold what the detector reads (96x128 thumbnails and difference statistics), not
pictures; freezedetect has to see the very clips at full resolution, so the builder's plan is
recomputed from the same config and every val/test sample is re-rendered from it
(``impairments.builder`` re-creates a planned sample's frames and annotation bit-exactly, as
the build wrote them). Each clip goes through one ffmpeg process that measures every noise level
of ``NOISE_DB_GRID`` at once; every minimum duration of ``MIN_DURATION_GRID`` is then applied to
the still stretches it found (``training.baselines.freezedetect`` says why that is exact).
Rendering is the slow part (about a second a clip on one core); the stretches and truths of
every clip are kept in ``--measured``, and ``--from-measured`` re-tunes and re-scores from them.

The setting with the best val event F1 (ties: fewer false events on clean clips, then better
frame balanced accuracy, then the longer minimum duration) is applied once to test. The report
has the whole val grid, the test scores of the tuned setting and of the filter's defaults
(n = -60 dB, d = 2 s), per impairment and hard negative, and freeze and stutter events apart:
freezedetect has no notion of stutter, every event it reports is a "freeze".
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from training.baselines import freeze_scoring as scoring
from training.baselines.freezedetect import (
    MIN_DURATION_GRID,
    NOISE_DB_GRID,
    FreezedetectSetting,
    StillRun,
    events_from_runs,
    still_runs,
)

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "freezedetect_synthetic.json"
DEFAULT_MEASURED = REPO / "logs" / "bench" / "freezedetect_freeze_measured.json"
FILTER_DEFAULT = FreezedetectSetting(noise_db=-60.0, min_duration_s=2.0)


@dataclass(frozen=True)
class MeasuredClip:
    """A labelled clip and its still stretches per noise level (the pixels are not kept)."""

    truth: scoring.ClipTruth
    runs: dict[float, list[StillRun]]


def measure(
    clips: Iterable[tuple[scoring.ClipTruth, np.ndarray]], noise_dbs: Sequence[float]
) -> list[MeasuredClip]:
    """One ffmpeg pass per clip over every noise level."""
    measured = []
    for truth, frames in clips:
        runs = still_runs(frames, truth.fps, noise_dbs, what=truth.name)
        measured.append(MeasuredClip(truth, runs))
    return measured


def _clip_json(clip: MeasuredClip) -> dict[str, Any]:
    truth = clip.truth
    return {
        "truth": {**truth.__dict__, "labels": truth.labels.tolist()},
        "runs": {
            str(noise): [[run.start, run.end, run.open] for run in runs]
            for noise, runs in clip.runs.items()
        },
    }


def save_measured(path: Path, splits: dict[str, list[MeasuredClip]]) -> None:
    """The measured stretches and truths of every split, so a re-score needs no re-render."""
    payload = {split: [_clip_json(clip) for clip in clips] for split, clips in splits.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def load_measured(path: Path) -> dict[str, list[MeasuredClip]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no measured clips (run without --from-measured first)")
    payload = json.loads(path.read_text())
    out = {}
    for split, entries in payload.items():
        out[split] = []
        for entry in entries:
            truth = dict(entry["truth"])
            truth["labels"] = np.asarray(truth["labels"], dtype=np.int8)
            runs = {
                float(n): [StillRun(int(a), int(b), bool(o)) for a, b, o in stretches]
                for n, stretches in entry["runs"].items()
            }
            out[split].append(MeasuredClip(scoring.ClipTruth(**truth), runs))
    return out


def predictions(
    clips: Sequence[MeasuredClip], setting: FreezedetectSetting
) -> list[list[dict[str, Any]]]:
    """Events of every clip at ``setting`` (its noise level must have been measured)."""
    out = []
    for clip in clips:
        if setting.noise_db not in clip.runs:
            raise ValueError(f"{clip.truth.name}: noise {setting.noise_db} dB was not measured")
        out.append(
            events_from_runs(clip.runs[setting.noise_db], clip.truth.fps, setting.min_duration_s)
        )
    return out


def evaluate(clips: Sequence[MeasuredClip], setting: FreezedetectSetting) -> dict[str, Any]:
    scores = scoring.score([c.truth for c in clips], predictions(clips, setting))
    scores["headline"] = scoring.Headline.of(scores).to_json()
    return scores


def _rank(entry: dict[str, Any]) -> tuple[float, float, float, float]:
    """Sort key, larger is better: F1, then fewer false events, frame accuracy, longer d."""
    row = entry["headline"]
    return (
        row["event_f1"] or 0.0,
        -(row["false_events_per_hour_clean"] or 0.0),
        row["frame_bal_acc"] or 0.0,
        entry["setting"]["min_duration_s"],
    )


def tune(
    clips: Sequence[MeasuredClip],
    noise_dbs: Sequence[float] = NOISE_DB_GRID,
    durations: Sequence[float] = MIN_DURATION_GRID,
) -> tuple[FreezedetectSetting, list[dict[str, Any]]]:
    """The best setting on ``clips`` and the whole grid (headline numbers per setting)."""
    if not clips:
        raise ValueError("no clips to tune freezedetect on")
    grid = []
    for noise_db in noise_dbs:
        for duration in durations:
            setting = FreezedetectSetting(float(noise_db), float(duration))
            scores = scoring.score([c.truth for c in clips], predictions(clips, setting))
            grid.append(
                {"setting": setting.to_json(), "headline": scoring.Headline.of(scores).to_json()}
            )
    best = max(grid, key=_rank)["setting"]
    return FreezedetectSetting(best["noise_db"], best["min_duration_s"]), grid


def truth_from_sample(meta: dict[str, Any], labels: np.ndarray, name: str) -> scoring.ClipTruth:
    """The scorer's view of one dataset sample (its ``json`` and ``labels.npy``)."""
    impairment = meta.get("impairment")
    hard_negative = meta.get("hard_negative")
    return scoring.ClipTruth(
        name=name,
        fps=float(meta["fps"]),
        labels=np.asarray(labels, dtype=np.int8),
        events=list(meta.get("events") or []),
        label=str(meta["label"]),
        group=str(impairment or hard_negative or "clean"),
        hard_negative=bool(hard_negative),
        severity=int(meta.get("severity") or 0),
    )


def synthetic_clips(
    overrides: Sequence[str], split: str
) -> Iterator[tuple[scoring.ClipTruth, np.ndarray]]:
    """Every planned sample of ``split``, re-rendered at full resolution by the builder."""
    from impairments.builder import freeze_render

    for sample in freeze_render.iter_planned_clips(overrides, split):
        truth = truth_from_sample(sample.meta, sample.labels, sample.key)
        yield truth, sample.frames


def measure_splits(overrides: Sequence[str], limit: int | None) -> dict[str, list[MeasuredClip]]:
    """Render and measure the val and test clips (the slow part: about a second a clip)."""
    splits = {}
    for split in ("val", "test"):
        clips = synthetic_clips(overrides, split)
        if limit is not None:
            clips = (clip for _, clip in zip(range(limit), clips, strict=False))
        splits[split] = measure(clips, NOISE_DB_GRID)
        if not splits[split]:
            raise ValueError(f"the {split} split of the freeze dataset plans no clip")
    return splits


def card_agreement(splits: dict[str, list[MeasuredClip]], card: Path) -> dict[str, Any]:
    """Clip counts per split and class against the built dataset's card: a mismatch means the
    plan (config or code) changed since the shards the detector trained on were written."""
    if not card.is_file():
        return {"card": str(card), "matches": None, "note": "no card: dataset not built"}
    built = json.loads(card.read_text())["splits"]
    agreement: dict[str, Any] = {"card": str(card), "matches": True}
    for split, clips in splits.items():
        rendered: dict[str, int] = {}
        for clip in clips:
            rendered[clip.truth.label] = rendered.get(clip.truth.label, 0) + 1
        expected = (built.get(split) or {}).get("per_class", {})
        agreement[split] = {"rendered": rendered, "card": expected}
        agreement["matches"] &= rendered == expected
    return agreement


def run(
    overrides: Sequence[str], limit: int | None, measured: Path, reuse: bool, card: Path
) -> dict[str, Any]:
    started = time.perf_counter()
    if reuse:
        splits = load_measured(measured)
    else:
        splits = measure_splits(overrides, limit)
        save_measured(measured, splits)
    val, test = splits["val"], splits["test"]
    measured_at = time.perf_counter()
    setting, grid = tune(val)
    val_scores = evaluate(val, setting)
    return {
        "baseline": "ffmpeg freezedetect",
        "decision": (
            "events where frames stay within noise n of the first frame of a still stretch "
            "for at least d; start moved to the first repeat; open freezes end at the clip end"
        ),
        "setting": setting.to_json(),
        "setting_source": "best val event F1 over the grid (ties: fewer clean false events, "
        "better frame balanced accuracy, longer d)",
        "grid": {"noise_db": list(NOISE_DB_GRID), "min_duration_s": list(MIN_DURATION_GRID)},
        "val_headline": val_scores["headline"],
        "test": evaluate(test, setting),
        "test_filter_default": {
            "setting": FILTER_DEFAULT.to_json(),
            **evaluate(test, FILTER_DEFAULT),
        },
        "val_grid": grid,
        "clips": {"val": len(val), "test": len(test)},
        "dataset_card": card_agreement(splits, card) if limit is None else None,
        "overrides": list(overrides),
        "stutter_note": "freezedetect has no notion of stutter: all its events are 'freeze'; "
        "event F1 ignores kinds, freeze_only/stutter_only split the truth by clip class",
        "measured": str(measured),
        "timing_s": {"render_and_ffmpeg": None if reuse else round(measured_at - started, 1)},
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("overrides", nargs="*", help="build config overrides (dataset=freeze ...)")
    parser.add_argument("--limit", type=int, default=None, help="clips per split (a quick look)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--measured", type=Path, default=DEFAULT_MEASURED,
        help="where the measured still stretches of every clip are kept",
    )  # fmt: skip
    parser.add_argument("--card", type=Path, default=REPO / "data_manifests" / "freeze.card.json")
    parser.add_argument(
        "--from-measured", action="store_true",
        help="re-score the clips kept in --measured instead of rendering them again",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        result = run(args.overrides, args.limit, args.measured, args.from_measured, args.card)
    except (FileNotFoundError, ValueError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    tuned = result["setting"]
    rows = {
        f"freezedetect {tuned['noise_db']:g}dB/{tuned['min_duration_s']:g}s": result["test"][
            "headline"
        ],
        "freezedetect default": result["test_filter_default"]["headline"],
    }
    print(scoring.table(rows, f"freeze test split ({result['clips']['test']} clips)"))
    agreement = result["dataset_card"]
    if agreement and agreement["matches"] is False:
        print(f"warning: re-rendered clips differ from {agreement['card']}: rebuild the dataset "
              "or pass the build's overrides", file=sys.stderr)  # fmt: skip
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
