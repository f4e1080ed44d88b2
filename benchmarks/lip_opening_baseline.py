"""The lip-opening baseline, both measures of the opening, on real talking faces.

    python -m benchmarks.lip_opening_baseline --shards data/shards/lip_sync_talking
    python -m benchmarks.lip_opening_baseline --videos ../shared/media/video/grid \
        ../shared/media/video --no-evidence talking_sun.mp4 \
        --no-face ../shared/media/video/hard_negatives

Every run scores ``training.baselines.lip_opening`` with the opening read from lip landmarks
(the baseline's default) and, beside it, from mouth pixels; each measure gets its own
thresholds, chosen the same way.

**On a ``lip_sync`` build** (``--shards``): the baseline is judged exactly as the detector's
test step judges the network (``training.detectors.lip_sync.evaluate_tracks``): every stored
offset variant of every track, and each track against another speaker's audio (no evidence).
``min_confidence`` and ``tie_margin`` are tuned on the val split and applied to the test split.
Lip points come from the shards' ``lips.npy`` when the build stored them, else from FaceMesh
here (once per track). Unseen speakers, ffmpeg-free shifts: the figures the README's test-split
table compares with the network.

**On clips** (``--videos``): every clip (video files directly inside each ``--videos`` folder,
or files named directly) goes through the talking-face pipeline (``impairments.talking_face``:
4-second windows, shots, MTCNN faces, tracks) once; each track's 96x96 face crops (margin 0.15,
as the ``lip_sync`` shards store them), its FaceMesh lip points and the clip's audio are kept.
The audio is then shifted in numpy by every offset of ``--offsets`` (positive = audio late,
silence where the shift opens a gap, as ``av_offset`` and ffmpeg's adelay give) and cut to the
contract's rows (the track's frames plus 15 frames of context either side), and each track is
scored. Ground truth per window: the applied offset on a talking clip; *no evidence*
(``unrelated``) for the files named by ``--no-evidence`` (a face that does not speak under a
voice) and for every talking window paired with another clip's audio; *no face* for the
``--no-face`` clips. Thresholds are never fitted on what they are scored on: clips are split
into two folds by speaker (one speaker per file), ``min_confidence`` and ``tie_margin`` are
tuned (``training.sync.verdicts.tune_thresholds``) on one fold and applied to the other, and the
scores pool both test folds.

Results: JSON (``--output``), with every measure's thresholds and report; a distance-curve PNG
and a verdict confusion PNG of the default (landmark) measure beside it; a summary on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.workdir import run_and_write
from impairments import media_io
from impairments.av.base import shift_constant
from impairments.talking_face.crops import crop_square, square_boxes
from impairments.talking_face.faces import make_face_detector
from impairments.talking_face.fragments import (
    FPS,
    FRAGMENT_S,
    SAMPLES_PER_FRAME,
    Fragment,
    fragment_starts,
    read_fragment,
)
from impairments.talking_face.landmarks import lip_landmarks
from impairments.talking_face.pipeline import PipelineConfig, process_fragment
from training.baselines.lip_opening import MEASURES, Measure, mouth_opening, opening_distances
from training.detectors.lip_sync import evaluate_tracks, unrelated_pairs
from training.sync.metrics import ScoredFragment, sync_report
from training.sync.offsets import FRAME_MS, SEARCH_FRAMES, estimate_offset
from training.sync.plots import confusion_figure, curves_figure, save_figure
from training.sync.verdicts import (
    TrackVerdict,
    ValRecord,
    VerdictThresholds,
    aggregate_tracks,
    judge_curve,
    tune_thresholds,
)

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "experiments" / "results" / "lip_sync"
DEFAULT_OUTPUT = {  # per mode: --videos, --shards
    "videos": RESULTS / "lip_opening_baseline.json",
    "shards": RESULTS / "lip_opening_baseline_test_split.json",
}
DEFAULT_MEASURE: Measure = "landmarks"  # the baseline's own default; the figures show it
CONTEXT = SEARCH_FRAMES  # frames of audio before and after a track, as the shards store
FACE_SIZE = 96
CROP_MARGIN = 0.15  # the lip_sync contract's square-box margin
DEFAULT_OFFSETS = (0, 1, 2, *range(3, 16))  # frames; each non-zero one is used with both signs


@dataclass
class ClipTracks:
    """What one clip leaves after the pipeline: its audio and its windows' face tracks."""

    name: str
    path: str
    kind: str  # "talking" | "no_evidence" | "no_face"
    audio: np.ndarray  # (frames * 640,) float32, aligned with the picture
    windows: list[dict[str, Any]]  # {"start_s", "end_s", "tracks": [{"id", "first", "faces"}]}


def list_clips(paths: Sequence[Path]) -> list[Path]:
    """Video files directly inside each folder (not below), or the files themselves."""
    clips: list[Path] = []
    for path in paths:
        if path.is_dir():
            clips += sorted(p for p in path.iterdir() if p.is_file() and media_io.is_media_file(p))
        elif path.is_file():
            clips.append(path)
        else:
            raise FileNotFoundError(f"{path}: neither a video file nor a folder of them")
    return clips


def _track_faces(fragment: Fragment, boxes: np.ndarray, frames: np.ndarray) -> np.ndarray:
    squares = square_boxes(boxes, CROP_MARGIN)
    return np.stack(
        [
            crop_square(fragment.frames[f], square, FACE_SIZE)
            for f, square in zip(frames, squares, strict=True)
        ]
    )


def extract_clip(
    path: Path, kind: str, args: argparse.Namespace, detector: Any, config: PipelineConfig
) -> ClipTracks:
    """Decode up to ``--max-seconds`` of ``path`` and find its face tracks window by window."""
    info = media_io.probe(path)
    duration = min(float(info.duration_s or args.max_seconds), args.max_seconds)
    clip = read_fragment(path, 0.0, duration, max_side=args.max_side)
    windows = []
    for start_s in fragment_starts(clip.duration_s, FRAGMENT_S, args.hop):
        first = int(round(start_s * FPS))
        last = min(clip.num_frames, first + int(round(FRAGMENT_S * FPS)))
        window = Fragment(
            clip.path,
            clip.start_s + first / FPS,
            clip.frames[first:last],
            clip.audio[first * SAMPLES_PER_FRAME : last * SAMPLES_PER_FRAME],
        )
        result = process_fragment(window, config, detector)
        tracks = [
            {
                "id": crops.track.id,
                "first": first + crops.track.first,
                "faces": _track_faces(window, crops.track.boxes, crops.track.frames),
            }
            for crops in result.tracks
        ]
        windows.append({"start_s": first / FPS, "end_s": last / FPS, "tracks": tracks})
    return ClipTracks(path.stem, str(path), kind, clip.audio, windows)


def _cache_key(path: Path, args: argparse.Namespace) -> str:
    stat = path.stat()
    text = json.dumps(
        [
            str(path.resolve()),
            stat.st_size,
            stat.st_mtime_ns,
            args.max_seconds,
            args.max_side,
            args.hop,
            args.faces,
            args.shots,
            CROP_MARGIN,
        ]
    )
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def load_or_extract(
    path: Path, kind: str, args: argparse.Namespace, work: Path, detector: Any
) -> ClipTracks:
    """Extraction is the slow part (face detection): keep it in the work folder by content key."""
    cache = work / "tracks" / f"{path.stem}_{_cache_key(path, args)}.npz"
    if cache.is_file():
        saved = np.load(cache, allow_pickle=True)
        return ClipTracks(path.stem, str(path), kind, saved["audio"], list(saved["windows"]))
    clip = extract_clip(path, kind, args, detector, PipelineConfig(args.shots, args.faces))
    cache.parent.mkdir(parents=True, exist_ok=True)
    windows = np.empty(len(clip.windows), dtype=object)
    windows[:] = clip.windows
    np.savez(cache, audio=clip.audio, windows=windows)
    return clip


def audio_row(audio: np.ndarray, first: int, frames: int, offset_frames: int) -> np.ndarray:
    """The contract's audio row: ``audio`` delayed by ``offset_frames`` (silence fills the gap),
    under clip frames ``first - C .. first + frames + C`` (silence outside the clip)."""
    shifted = shift_constant(audio[None], offset_frames * SAMPLES_PER_FRAME)[0]
    padded = np.pad(shifted, CONTEXT * SAMPLES_PER_FRAME)
    return padded[first * SAMPLES_PER_FRAME : (first + frames + 2 * CONTEXT) * SAMPLES_PER_FRAME]


def add_lips(clip: ClipTracks) -> None:
    """FaceMesh's lip points for every track of ``clip``, once (each measure and audio condition
    reuses them; cached tracks from before the landmark measure have none)."""
    for window in clip.windows:
        for track in window["tracks"]:
            if track.get("lips") is None:
                track["lips"] = lip_landmarks(track["faces"])


@dataclass(frozen=True)
class JudgedWindow:
    """One window x audio condition: its tracks' estimates and the truth."""

    clip: str
    fold: int
    tracks: tuple[TrackVerdict, ...]  # verdict field filled once thresholds are known
    true_offset_ms: float | None
    condition: str


def estimate_windows(
    clip: ClipTracks,
    fold: int,
    offsets: Iterable[int],
    other_audio: np.ndarray | None,
    measure: Measure,
) -> list[JudgedWindow]:
    """Every window of ``clip`` under every audio condition it is scored with (tracks need
    ``lips``: :func:`add_lips`)."""
    if clip.kind == "talking":
        conditions = [(k, clip.audio, float(k * FRAME_MS), "face") for k in offsets]
        if other_audio is not None:
            conditions.append((0, other_audio, None, "unrelated"))
    elif clip.kind == "no_evidence":
        conditions = [(0, clip.audio, None, "unrelated")]
    else:
        conditions = [(0, clip.audio, None, "no_face")]
    judged = []
    for window in clip.windows:
        openings = [mouth_opening(t["faces"], measure, t["lips"]) for t in window["tracks"]]
        for shift, audio, truth, condition in conditions:
            tracks = []
            for track, opening in zip(window["tracks"], openings, strict=True):
                row = audio_row(audio, track["first"], len(opening), shift)
                estimate = estimate_offset(opening_distances(opening, row, CONTEXT))
                tracks.append(
                    TrackVerdict(
                        estimate.offset_frames,
                        estimate.offset_ms,
                        estimate.confidence,
                        "inconclusive",
                        tuple(float(v) for v in estimate.curve),
                    )
                )
            judged.append(JudgedWindow(clip.name, fold, tuple(tracks), truth, condition))
    return judged


def _fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Another clip's audio as long as this one's: cut, or repeated to fill."""
    repeats = -(-length // max(len(audio), 1))
    return np.tile(audio, repeats)[:length]


def score_window(window: JudgedWindow, thresholds: VerdictThresholds) -> ScoredFragment:
    tracks = [
        TrackVerdict(
            t.offset_frames,
            t.offset_ms,
            t.confidence,
            judge_curve(t.offset_frames, t.confidence, thresholds),
            t.curve,
        )
        for t in window.tracks
    ]
    verdict = aggregate_tracks(tracks, thresholds)
    reported = (
        tracks[verdict.decided_by]
        if verdict.decided_by is not None
        else max(tracks, key=lambda t: t.confidence, default=None)
    )
    return ScoredFragment(
        verdict=verdict.verdict,
        offset_frames=reported.offset_frames if reported is not None else None,
        confidence=verdict.confidence,
        true_offset_ms=window.true_offset_ms,
        condition=window.condition,  # type: ignore[arg-type]
    )


def _records(windows: Sequence[JudgedWindow]) -> list[ValRecord]:
    return [
        ValRecord(tuple((t.offset_frames, t.confidence) for t in w.tracks), w.true_offset_ms)
        for w in windows
        if w.condition != "no_face"
    ]


def cross_fitted_scores(
    windows: Sequence[JudgedWindow],
) -> tuple[list[ScoredFragment], list[dict[str, Any]]]:
    """Tune on one speaker fold, score the other, both ways; returns scores and the choices."""
    scored, chosen = [], []
    for fold in (0, 1):
        tuning = [w for w in windows if w.fold != fold]
        testing = [w for w in windows if w.fold == fold]
        choice = tune_thresholds(_records(tuning))
        thresholds = VerdictThresholds(choice["min_confidence"], choice["tie_margin"])
        scored += [score_window(w, thresholds) for w in testing]
        chosen.append({"test_fold": fold, **choice})
    return scored, chosen


def write_figures(
    windows: Sequence[JudgedWindow], report: dict[str, Any], output: Path
) -> list[str]:
    """A few talking windows' curves (in sync, late, early, unrelated) and the confusion PNG."""
    picks: list[tuple[JudgedWindow, str]] = []
    wanted = [(0.0, "in sync"), (200.0, "audio late 200 ms"), (-320.0, "audio early 320 ms")]
    for truth, label in wanted:
        match = next((w for w in windows if w.true_offset_ms == truth and w.tracks), None)
        if match is not None:
            picks.append((match, f"{match.clip}: {label}"))
    for condition in ("unrelated",):
        match = next((w for w in windows if w.condition == condition and w.tracks), None)
        if match is not None:
            picks.append((match, f"{match.clip}: {condition} audio"))
    paths = []
    if picks:
        curves = [max(w.tracks, key=lambda t: t.confidence).curve for w, _ in picks]
        truths = [
            None if w.true_offset_ms is None else w.true_offset_ms / FRAME_MS for w, _ in picks
        ]
        figure = curves_figure(curves, truths, [title for _, title in picks], columns=2)
        paths.append(str(save_figure(figure, output.with_name(output.stem + "_curves.png"))))
    figure = confusion_figure(report["confusion"], "lip-opening baseline")
    paths.append(str(save_figure(figure, output.with_name(output.stem + "_confusion.png"))))
    return paths


def run_on_videos(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    """Clips through the pipeline, numpy-shifted audio, thresholds cross-fitted by speaker."""
    talking = list_clips(args.videos)
    no_evidence_names = set(args.no_evidence)
    kinds = {p: "no_evidence" if p.name in no_evidence_names else "talking" for p in talking}
    for path in list_clips(args.no_face) if args.no_face else []:
        kinds[path] = "no_face"
    config = PipelineConfig(shots=args.shots, faces=args.faces)
    detector = make_face_detector(
        config.faces, max_side=config.detect_side, min_face=int(config.tracking.min_face)
    )
    clock = time.perf_counter()
    clips = []
    for path, kind in kinds.items():
        clip = load_or_extract(path, kind, args, work, detector)
        add_lips(clip)
        counts = [len(w["tracks"]) for w in clip.windows]
        print(f"{path.name}: {kind}, {len(counts)} windows, tracks {counts}", flush=True)
        clips.append(clip)
    extract_s = time.perf_counter() - clock
    speakers = [c for c in clips if c.kind == "talking"]
    if len(speakers) < 2:
        raise ValueError("need at least two talking clips (two speaker folds)")
    offsets = sorted({s * k for k in args.offsets for s in (1, -1)})
    others: list[np.ndarray | None] = []  # each talking clip's "unrelated" audio: the next one's
    for clip in clips:
        other = None
        if clip.kind == "talking":
            partner = speakers[(speakers.index(clip) + 1) % len(speakers)]
            other = _fit_length(partner.audio, len(clip.audio))
        others.append(other)
    clock = time.perf_counter()
    measures: dict[str, dict[str, Any]] = {}
    figures: list[str] = []
    for measure in MEASURES:
        windows = [
            window
            for index, (clip, other) in enumerate(zip(clips, others, strict=True))
            for window in estimate_windows(clip, index % 2, offsets, other, measure)
        ]
        scored, chosen = cross_fitted_scores(windows)
        report = sync_report(scored, FPS)
        measures[measure] = {"thresholds": chosen, "report": report}
        if measure == DEFAULT_MEASURE:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            figures = write_figures(windows, report, args.output)
    score_s = time.perf_counter() - clock
    return {
        "method": "lip_opening baseline (training.baselines.lip_opening), thresholds cross-fitted "
        "over two speaker folds",
        "default_measure": DEFAULT_MEASURE,
        "measures": measures,
        "clips": [
            {
                "name": c.name,
                "path": c.path,
                "kind": c.kind,
                "fold": i % 2,
                "windows": len(c.windows),
                "tracks": sum(len(w["tracks"]) for w in c.windows),
            }
            for i, c in enumerate(clips)
        ],
        "offsets_frames": offsets,
        "figures": figures,
        "seconds": {"extract_tracks": round(extract_s, 1), "baseline": round(score_s, 1)},
    }


def read_split(shard_dir: Path, split: str) -> list[dict[str, Any]]:
    """Every track of one split of a ``lip_sync`` build, through the training reader's schema
    check: faces, lip points (stored, else FaceMesh now), float audio rows, metadata."""
    import webdataset as wds

    from training.data.sync_decode import INT16_SCALE, SyncSample

    urls = sorted(str(p) for p in shard_dir.glob(f"{split}-*.tar"))
    if not urls:
        raise FileNotFoundError(f"{shard_dir}: no {split}-*.tar shards")
    checked = SyncSample()
    tracks = []
    for raw in wds.WebDataset(urls, shardshuffle=False).decode():
        sample = checked(raw)
        meta = sample["meta"]
        stored = sample["lips"] is not None
        tracks.append(
            {
                "key": sample["key"],
                "group": str(meta["group"]),
                "faces": sample["faces"],
                "lips": sample["lips"] if stored else lip_landmarks(sample["faces"]),
                "lips_stored": stored,
                "audio": sample["audio"].astype(np.float32) / INT16_SCALE,
                "context": int(meta["context_frames"]),
                "offsets_frames": [float(v["offset_frames"]) for v in meta["variants"]],
            }
        )
    return tracks


def evaluate_split(
    tracks: Sequence[dict[str, Any]], measure: Measure, thresholds: VerdictThresholds | None
) -> dict[str, Any]:
    """``evaluate_tracks`` on the baseline's distances: every variant row of every track, and
    each track's face under another speaker's in-sync audio. ``thresholds`` None = tune them."""
    records = []
    for track in tracks:
        opening = mouth_opening(track["faces"], measure, track["lips"])
        rows = [opening_distances(opening, row, track["context"]) for row in track["audio"]]
        records.append({**track, "distances": rows})
    unrelated = []
    for track, partner in unrelated_pairs(tracks):
        frames = min(len(track["faces"]), len(partner["faces"]))
        opening = mouth_opening(track["faces"][:frames], measure, track["lips"][:frames])
        audio = partner["audio"][0][: (frames + 2 * track["context"]) * SAMPLES_PER_FRAME]
        unrelated.append(opening_distances(opening, audio, track["context"]))
    return evaluate_tracks(records, unrelated, thresholds)


def _split_figures(evaluated: dict[str, Any], output: Path) -> list[str]:
    curves = evaluated["curves"][:6]
    paths = []
    if curves:
        figure = curves_figure(
            [c["curve"] for c in curves],
            [c["true_offset_frames"] for c in curves],
            [c["title"] for c in curves],
            columns=2,
        )
        paths.append(str(save_figure(figure, output.with_name(output.stem + "_curves.png"))))
    figure = confusion_figure(evaluated["report"]["confusion"], "lip-opening baseline, test split")
    paths.append(str(save_figure(figure, output.with_name(output.stem + "_confusion.png"))))
    return paths


def run_on_shards(args: argparse.Namespace) -> dict[str, Any]:
    """Thresholds tuned on the build's val split, scores on its test split, per measure."""
    clock = time.perf_counter()
    splits = {split: read_split(args.shards, split) for split in ("val", "test")}
    read_s = time.perf_counter() - clock
    clock = time.perf_counter()
    measures: dict[str, dict[str, Any]] = {}
    figures: list[str] = []
    for measure in MEASURES:
        tuned = evaluate_split(splits["val"], measure, None)["thresholds"]
        chosen = VerdictThresholds(tuned["min_confidence"], tuned["tie_margin"])
        test = evaluate_split(splits["test"], measure, chosen)
        measures[measure] = {
            "thresholds_from_val": {k: v for k, v in tuned.items() if k != "tuning"},
            "val_tuning": tuned.get("tuning"),
            "scalars": test["scalars"],
            "report": test["report"],
        }
        if measure == DEFAULT_MEASURE:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            figures = _split_figures(test, args.output)
    return {
        "method": "lip_opening baseline (training.baselines.lip_opening) judged like the "
        "detector's test step (training.detectors.lip_sync.evaluate_tracks): thresholds tuned on "
        "val, scored on test",
        "shards": str(args.shards),
        "default_measure": DEFAULT_MEASURE,
        "measures": measures,
        "tracks": {
            split: {
                "count": len(tracks),
                "speakers": sorted({t["group"] for t in tracks}),
                "lips_stored": sum(t["lips_stored"] for t in tracks),
            }
            for split, tracks in splits.items()
        },
        "figures": figures,
        "seconds": {
            "read_and_landmarks": round(read_s, 1),
            "baseline": round(time.perf_counter() - clock, 1),
        },
    }


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    return run_on_shards(args) if args.shards else run_on_videos(args, work)


def summary(result: dict[str, Any]) -> str:
    """Both measures' scores, the default first."""
    lines = []
    for measure, scored in result["measures"].items():
        default = " (default)" if measure == result["default_measure"] else ""
        lines += [f"-- opening from {measure}{default}", _report_summary(scored["report"])]
    return "\n".join(lines)


def _report_summary(report: dict[str, Any]) -> str:
    lines = [
        f"verdict balanced accuracy {report['bal_acc']:.3f} (in sync recall "
        f"{report['recall']['in_sync']:.3f} n={report['class_count']['in_sync']}, "
        f"out of sync recall {report['recall']['out_of_sync']:.3f} "
        f"n={report['class_count']['out_of_sync']})",
        f"offset accuracy (+-1 frame, out of sync) {report['offset_acc']:.3f} "
        f"n={report['offset_count']}",
        f"inconclusive on no-evidence: {report['no_evidence_inconclusive']}",
        f"ROC-AUC: {report['auc']}",
    ]
    for name, bucket in report["per_bucket"].items():
        lines.append(f"  |offset| {name} ms: {bucket}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--shards",
        type=Path,
        default=None,
        help="a lip_sync build (folder of val-*.tar and test-*.tar): tune on val, score test",
    )
    source.add_argument(
        "--videos",
        type=Path,
        nargs="+",
        help="folders of talking clips (files directly inside) or clip files",
    )
    parser.add_argument(
        "--no-evidence",
        nargs="*",
        default=[],
        help="file names among --videos whose face does not speak its audio",
    )
    parser.add_argument(
        "--no-face",
        type=Path,
        nargs="*",
        default=[],
        help="folders or files with no talking face (scored as no_face)",
    )
    parser.add_argument(
        "--offsets",
        type=int,
        nargs="+",
        default=list(DEFAULT_OFFSETS),
        help="offset magnitudes in frames; each is used with both signs",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"result JSON (default {DEFAULT_OUTPUT['shards'].name} with --shards, "
        f"{DEFAULT_OUTPUT['videos'].name} with --videos)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep extracted tracks here so a rerun skips face detection",
    )
    parser.add_argument("--max-seconds", type=float, default=20.0)
    parser.add_argument("--max-side", type=int, default=640)
    parser.add_argument("--hop", type=float, default=FRAGMENT_S, help="window hop in seconds")
    parser.add_argument("--faces", default="mtcnn", choices=["mtcnn", "haar"])
    parser.add_argument("--shots", default="transnetv2", choices=["transnetv2", "content"])
    args = parser.parse_args(argv)
    if any(k < 0 or k > SEARCH_FRAMES for k in args.offsets):
        parser.error(f"--offsets must lie in 0..{SEARCH_FRAMES} frames")
    if args.output is None:
        args.output = DEFAULT_OUTPUT["shards" if args.shards else "videos"]
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    result = run_and_write(run, args, "lip_opening_")
    print(summary(result))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
