"""The lip-sync detector on real talking-face clips whose audio ffmpeg itself shifted.

    python -m benchmarks.lip_sync_real_footage --export exports/lip_sync/<run> \
        --videos <talking clips or folders> [--no-evidence talking_sun.mp4] \
        [--no-face <folder of clips without a speaking face>] [--offsets-ms 0 120 200 400 600]

Every talking clip is remuxed once per offset (``-itsoffset`` on the audio input for audio
late, on the video input for audio early; both streams copied, never re-encoded), and each made
file goes through ``detect.py``'s analyser exactly as a user's file would: talking-face pipeline,
the exported network, the verdict thresholds of the model card. Each 4-second window is scored
against the truth (``training.sync.metrics``): the applied offset on a talking clip, *no
evidence* (``unrelated``) on the ``--no-evidence`` clips (a face under a voice that is not its
own), *no face* on the ``--no-face`` clips. Clips must be ones the model never saw (its test
split, or a leave-speakers-out fold): the README says which. Speed is seconds of video per
second of wall time, start-up (model and detector loading) included.
"""

from __future__ import annotations

import argparse
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.lip_opening_baseline import (
    DEFAULT_MEASURE,
    evaluate_split,
    list_clips,
    read_split,
)
from benchmarks.workdir import run_and_write
from training.sync.metrics import ScoredFragment, sync_report
from training.sync.verdicts import VerdictThresholds

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "experiments" / "results" / "lip_sync" / "real_footage.json"
DEFAULT_OFFSETS_MS = (0, 120, 200, 400, 600)  # each non-zero one with both signs


def shifted_copy(source: Path, offset_ms: int, work: Path) -> Path:
    """``source`` remuxed with its audio ``offset_ms`` late (early if negative), by ffmpeg."""
    import imageio_ffmpeg

    target = work / f"{source.stem}_{offset_ms:+d}ms.mkv"
    if target.is_file() and target.stat().st_size > 0:
        return target
    delay = f"{abs(offset_ms) / 1000:.3f}"
    late_input = ["-itsoffset", delay] if offset_ms else []
    video_in = ["-i", str(source)] if offset_ms >= 0 else [*late_input, "-i", str(source)]
    audio_in = [*late_input, "-i", str(source)] if offset_ms > 0 else ["-i", str(source)]
    command = [
        imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", *video_in, *audio_in,
        "-map", "0:v:0", "-map", "1:a:0", "-c", "copy", str(target),
    ]  # fmt: skip
    work.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{source}: ffmpeg could not shift the audio: {done.stderr.strip()}")
    return target


def score_windows(
    report: dict[str, Any], true_offset_ms: float | None, condition: str
) -> list[ScoredFragment]:
    return [
        ScoredFragment(
            verdict=window["verdict"],
            offset_frames=(
                None if window["offset_ms"] is None else int(round(window["offset_ms"] / 40))
            ),
            confidence=float(window["confidence"]),
            true_offset_ms=true_offset_ms,
            condition=condition,  # type: ignore[arg-type]
        )
        for window in report["windows"]
    ]


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from omegaconf import OmegaConf

    from training.detect.lip_sync import lip_sync_analyser

    started = time.perf_counter()
    cfg = OmegaConf.create(
        {
            "checkpoint": str(args.export),
            "runtime": "auto",
            "threads": args.threads,
            "detector": {"name": "lip_sync", "detect": {}},
        }
    )
    baseline: dict[str, Any] = {}
    scorers = {}
    if args.shards:
        from training.baselines.lip_opening import baseline_distances

        tuned = evaluate_split(read_split(args.shards, "val"), DEFAULT_MEASURE, None)["thresholds"]
        chosen = VerdictThresholds(tuned["min_confidence"], tuned["tie_margin"])
        test = evaluate_split(read_split(args.shards, "test"), DEFAULT_MEASURE, chosen)
        baseline = {
            "thresholds_from_val": {k: v for k, v in tuned.items() if k != "tuning"},
            "test_split": {"scalars": test["scalars"], "report": test["report"]},
        }
        scorers["lip_opening"] = (baseline_distances, chosen)
    made = lip_sync_analyser(cfg, scorers)
    if isinstance(made, str):
        raise ValueError(made)
    analyse, model = made
    offsets = sorted({0, *args.offsets_ms, *(-o for o in args.offsets_ms)})
    jobs: list[tuple[Path, float | None, str]] = []
    for clip in list_clips(args.videos):
        if clip.name in args.no_evidence:
            jobs.append((clip, None, "unrelated"))
            continue
        jobs += [(shifted_copy(clip, o, work), float(o), "face") for o in offsets]
    jobs += [(clip, None, "no_face") for clip in list_clips(args.no_face)]
    made_s = time.perf_counter() - started
    fragments: list[ScoredFragment] = []
    baseline_fragments: list[ScoredFragment] = []
    files = []
    video_s = analysis_s = 0.0
    for path, truth, condition in jobs:
        clock = time.perf_counter()
        report = analyse(path, None)
        analysis_s += time.perf_counter() - clock
        video_s += float(report["duration_s"])
        fragments += score_windows(report, truth, condition)
        if "lip_opening" in report.get("other_scorers", {}):
            other = report["other_scorers"]["lip_opening"]
            baseline_fragments += score_windows(other, truth, condition)
        files.append(
            {
                "file": path.name,
                "condition": condition,
                "true_offset_ms": truth,
                "verdict": report["verdict"],
                "offset_ms": report["offset_ms"],
                "confidence": report["confidence"],
                "windows": len(report["windows"]),
            }
        )
    return {
        "export": str(args.export),
        "model_card_metrics": (model.card.get("metrics") or {}).get("scalars"),
        "thresholds": model.card["verdict"],
        "offsets_ms": offsets,
        "clips": [str(c) for c in list_clips(args.videos)],
        "windows": sync_report(fragments),
        "baseline": {
            **baseline,
            **({"windows": sync_report(baseline_fragments)} if baseline_fragments else {}),
        },
        "files": files,
        "speed": {
            "video_s": round(video_s, 2),
            "analysis_s": round(analysis_s, 2),
            "x_realtime": round(video_s / max(analysis_s, 1e-9), 3),
            "making_files_s": round(made_s, 2),
        },
    }


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--export", type=Path, required=True, help="lip_sync export folder")
    parser.add_argument("--videos", type=Path, nargs="+", required=True)
    parser.add_argument("--no-evidence", nargs="*", default=[], help="file names: no evidence")
    parser.add_argument("--no-face", type=Path, nargs="*", default=[])
    parser.add_argument("--offsets-ms", type=int, nargs="*", default=list(DEFAULT_OFFSETS_MS))
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--shards",
        type=Path,
        default=None,
        help="the model's lip_sync build: the lip-opening baseline is tuned on its val split, "
        "scored on its test split and run beside the network on every file",
    )
    parser.add_argument("--work-dir", type=Path, default=None)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    result = run_and_write(run, args, "lip_sync_real_")
    windows = result["windows"]
    print(
        f"windows: verdict BA {windows['bal_acc']}, offset acc {windows['offset_acc']}, "
        f"no-evidence inconclusive {windows['no_evidence_inconclusive']}, "
        f"speed {result['speed']['x_realtime']}x real time -> {args.output}"
    )


if __name__ == "__main__":
    main()
