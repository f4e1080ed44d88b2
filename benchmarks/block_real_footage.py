"""Block-corruption detector on real footage it never saw, damaged by a real H.264 decoder.

    python -m benchmarks.block_real_footage --videos <folder of real clips> \
        --export exports/block_corruption/<run> --hard-negatives <folder of clean look-alikes>

Each real clip (its first ``--seconds``, scaled to at most ``--max-height`` lines) goes through
the project's own ``codec_corruption`` impairment at a few severities, one fixed seed each: x264
with slices, packets hit by ffmpeg's ``noise`` bitstream filter (or dropped), decoded with the
decoder's own concealment, labelled per macroblock against the clean decode of the very same
encode. That clean decode is the clean version of the clip, so compression loss is in both
classes and only the damage separates them. A frame is corrupted iff its mask has at least one
corrupted macroblock.

Every version is written losslessly (``libx264rgb``, CRF 0: the frames read back bit-exactly)
and ``detect.py`` runs on those files in one folder-mode process, exactly as a user would run it;
its per-frame reports are matched with the labels by frame index (the files' pts are the frame
indices). ``detect.py`` runs with ``decision=v2``: each report row also carries the map's
corrupted-area ratio, so v1 (``area_ratio > area_threshold`` from the model card, the rule
``training.detect.frames.flag_frames`` applies) is read from the same rows. The hard-negative
clips are clean real footage run through ``detect.py`` unchanged: every flagged frame there is a
false alarm.

The ffmpeg ``blockdetect`` baseline scores the same frames (``training.baselines.blockdetect``),
thresholded where it has its best balanced accuracy on the synthetic **val** split (as that
module does), or at ``--blockdetect-threshold``; its threshold-free ROC AUC is reported too.
Results: a table on stdout and ``benchmarks/results/block_real_footage.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from benchmarks.workdir import run_and_write
from impairments import media_io, registry
from impairments.sources.video_item import scaled_size
from impairments.video import x264
from impairments.video.base import VideoAnnotation
from impairments.video.visibility import LABELS as CODEC_LABELS

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "block_real_footage.json"
DEFAULT_VAL_SHARDS = REPO / "data" / "shards" / "block_corruption"
# Frames whose corrupted area is below this share are counted apart: a damaged macroblock or
# two in a 720p frame is real damage but hard to see for any whole-frame decision.
TINY_AREA = 0.01
# Evaluation groups of a frame (``binary_decision_report`` accuracy per group).
GROUPS = ("clean_decode", "damaged_clip_intact", "codec_corruption", "codec_corruption_tiny")
HARD_NEGATIVE_GROUP = "hard_negative"
ALL_GROUPS = (*GROUPS, HARD_NEGATIVE_GROUP)


@dataclass
class ClipVersion:
    """One version of a real clip as ``detect.py`` will see it: per-frame labels, no pixels
    (frames are written and scored as soon as they exist, so memory holds one clip at a time)."""

    name: str  # file stem, unique over the whole run
    source: str
    severity: int  # 0: the clean decode
    fps: float
    size: tuple[int, int]  # (width, height)
    area_ratio: np.ndarray  # (T,) corrupted share of each frame's pixels
    macroblocks: np.ndarray  # (T,) corrupted macroblocks per frame
    params: dict[str, Any] = field(default_factory=dict)
    blockdetect: np.ndarray | None = None  # (T,) ffmpeg blockdetect score per frame

    @property
    def n_frames(self) -> int:
        return len(self.area_ratio)

    @property
    def labels(self) -> np.ndarray:
        return (self.macroblocks > 0).astype(np.int64)

    def groups(self) -> np.ndarray:
        """Group index per frame (``GROUPS``)."""
        group = np.full(self.n_frames, GROUPS.index("clean_decode"), dtype=np.int64)
        if self.severity > 0:
            group[:] = GROUPS.index("damaged_clip_intact")
            damaged = self.labels == 1
            tiny = damaged & (self.area_ratio < TINY_AREA)
            group[damaged] = GROUPS.index("codec_corruption")
            group[tiny] = GROUPS.index("codec_corruption_tiny")
        return group


def read_clip(path: Path, seconds: float, max_height: int) -> tuple[np.ndarray, float]:
    """The first ``seconds`` of ``path`` as ``(T, H, W, 3)`` RGB scaled to <= ``max_height``
    lines, and its frame rate; ``MediaError`` naming the file for unreadable or empty input."""
    info = media_io.probe(path)
    if not info.video:
        raise media_io.MediaError(path, "no video stream")
    stream = info.video[0]
    fps = float(stream.fps or 0.0)
    if not fps > 0:
        raise media_io.MediaError(path, "unknown video frame rate")
    height, width = scaled_size(stream.height, stream.width, max_height)
    size = None if (height, width) == (stream.height, stream.width) else (width, height)
    wanted = max(1, round(seconds * fps))
    frames: list[np.ndarray] = []
    for _, frame in media_io.iter_video_frames(path, size=size):
        frames.append(frame)
        if len(frames) >= wanted:
            break
    if not frames:
        raise media_io.MediaError(path, "video stream decodes to no frames")
    return np.stack(frames), fps


def clip_seed(base_seed: int, source: str, severity: int) -> np.random.Generator:
    """A generator fixed by the run seed, the clip's name and the severity (not by run order)."""
    return np.random.default_rng([base_seed, zlib.crc32(source.encode()), severity])


def clean_decode(frames: np.ndarray, params: dict[str, Any]) -> np.ndarray:
    """The undamaged decode of the encode ``codec_corruption`` drew (same CRF, slices, GOP).

    Encode and decode are single-threaded and bit-reproducible, so this is exactly the
    reference the impairment labelled its mask against.
    """
    height, width = frames.shape[1:3]
    clip = x264.encode(
        x264.even_padded(frames),
        fps=params["fps"],
        crf=params["crf"],
        slices=params["slices"],
        gop=params["gop_frames"],
        preset=params["preset"],
    )
    decoded, _ = x264.decode(clip.packets, clip.extradata, len(frames), height, width)
    return decoded


def corrupt_visibly(
    frames: np.ndarray,
    fps: float,
    severity: int,
    rng: np.random.Generator,
    attempts: int,
    label: str = "visible",
) -> tuple[np.ndarray, VideoAnnotation, int]:
    """``codec_corruption`` at ``severity``, drawn again (same generator, up to ``attempts``
    draws) while the damage is invisible: a hit in the SEI text or an exact concealment leaves a
    clip that only repeats the clean one. Returns the frames, the annotation and the draws used.
    ``label`` is the impairment's (``visible`` or ``difference``).
    """
    impairment = registry.get("codec_corruption", severity=severity, label=label)
    for attempt in range(1, attempts + 1):
        damaged, annotation = impairment(frames, fps=fps, seed=rng)
        assert isinstance(annotation, VideoAnnotation)
        if annotation.mask.any() or attempt == attempts:
            return damaged, annotation, attempt
    raise AssertionError("unreachable")


def versions_of(
    source: str,
    frames: np.ndarray,
    fps: float,
    severities: Sequence[int],
    seed: int,
    attempts: int = 5,
    label: str = "visible",
) -> list[tuple[ClipVersion, np.ndarray]]:
    """The clean decode and one codec-corrupted version per severity of one real clip, each with
    its frames.

    The clean version is the clean decode of the first severity's encode; each corrupted
    version is labelled against its own clean decode (its CRF and slicing are drawn per severity).
    """
    size = (int(frames.shape[2]), int(frames.shape[1]))
    versions: list[tuple[ClipVersion, np.ndarray]] = []
    zeros = np.zeros(len(frames))
    for severity in severities:
        rng = clip_seed(seed, source, severity)
        damaged, annotation, draws = corrupt_visibly(frames, fps, severity, rng, attempts, label)
        params = {**annotation.to_json(), "draws": draws}
        for key in ("frames", "area_ratio_per_frame"):
            params.pop(key, None)
        if not versions:
            drawn = annotation.params
            clean = ClipVersion(
                f"{source}.clean", source, 0, fps, size, zeros, zeros.astype(np.int64),
                {"crf": drawn["crf"], "slices": drawn["slices"], "gop_frames": drawn["gop_frames"]},
            )  # fmt: skip
            versions.append((clean, clean_decode(frames, drawn)))
        version = ClipVersion(
            f"{source}.s{severity}", source, severity, fps, size,
            annotation.mask.mean(axis=(1, 2)),
            annotation.macroblock_mask.sum(axis=(1, 2)).astype(np.int64), params,
        )  # fmt: skip
        versions.append((version, damaged))
    return versions


def write_lossless(path: Path, frames: np.ndarray, fps: float) -> Path:
    """RGB frames to an MP4 that decodes back bit-exactly (``libx264rgb``, CRF 0), pts = index."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264rgb", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = int(frames.shape[2]), int(frames.shape[1])
        stream.pix_fmt = "rgb24"
        stream.options = {"crf": "0", "preset": "ultrafast"}
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def run_detect(export: Path, videos: Path, reports: Path, threads: int | None = None) -> None:
    """``detect.py`` in folder mode over ``videos`` (one process, the model loaded once)."""
    command = [
        sys.executable, str(REPO / "detect.py"), "detector=block_corruption",
        f"checkpoint={export}", f"input={videos}", f"output={reports}", "decision=v2",
        *([f"threads={threads}"] if threads else []),
    ]  # fmt: skip
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = " | ".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"detect.py on {videos} failed ({result.returncode}): {tail}")


def report_columns(report_path: Path, n_frames: int | None = None) -> dict[str, Any]:
    """Per-frame ``score`` (v2), ``area_ratio`` (v1) and v2 flags of one ``detect.py`` report,
    ordered by frame index; with ``n_frames``, the report must cover exactly frames 0..n-1."""
    if not report_path.is_file():
        raise FileNotFoundError(f"{report_path}: detect.py wrote no report for this video")
    report = json.loads(report_path.read_text())
    rows = sorted(report.get("frames") or [], key=lambda row: row["index"])
    indices = [row["index"] for row in rows]
    if n_frames is not None and indices != list(range(n_frames)):
        raise ValueError(
            f"{report_path}: report covers {len(indices)} frames, "
            f"expected indices 0..{n_frames - 1}"
        )
    return {
        "score": np.asarray([row["score"] for row in rows], dtype=np.float64),
        "area_ratio": np.asarray([row["area_ratio"] for row in rows], dtype=np.float64),
        "v2": np.asarray([row["corrupted"] for row in rows], dtype=bool),
        "decision": (report.get("model") or {}).get("decision") or {},
        "rule": report.get("decision"),
    }


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (Mann-Whitney, ties counted half); None without both classes."""
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels).astype(bool)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if not n_pos or not n_neg:
        return None
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ends = np.cumsum(counts)
    mean_rank = (ends - (counts - 1) / 2.0)[inverse]  # 1-based average rank of tied values
    return float((mean_rank[labels].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def blockdetect_threshold(val_shards: Path) -> tuple[float, float]:
    """``(threshold, val balanced accuracy)``: the baseline module's rule on the synthetic val."""
    from omegaconf import OmegaConf

    from training.baselines import blockdetect as bd

    groups = list(OmegaConf.load(bd.DETECTOR_CONFIG).groups)
    val = bd.score_split(val_shards, "val", groups, "")
    return bd.best_threshold(val["score"], val["label"])


def decision_summary(
    flags: np.ndarray, labels: np.ndarray, groups: np.ndarray, severity: np.ndarray
) -> dict[str, Any]:
    from training.metrics import binary_decision_report

    hard = groups == ALL_GROUPS.index(HARD_NEGATIVE_GROUP)
    real = ~hard
    report = binary_decision_report(
        flags[real], labels[real], groups[real], ALL_GROUPS, hard[real], severity[real]
    )
    report["hard_negative_false_alarm_rate"] = float(flags[hard].mean()) if hard.any() else None
    report["hard_negative_frames"] = int(hard.sum())
    report["with_hard_negatives_bal_acc"] = binary_decision_report(
        flags, labels, groups, ALL_GROUPS, hard, severity
    )["bal_acc"]
    return report


@dataclass
class Columns:
    """Every evaluated frame, real clips and hard negatives, one entry each."""

    clip: list[str] = field(default_factory=list)
    label: list[np.ndarray] = field(default_factory=list)
    group: list[np.ndarray] = field(default_factory=list)
    severity: list[np.ndarray] = field(default_factory=list)
    area_true: list[np.ndarray] = field(default_factory=list)
    score: list[np.ndarray] = field(default_factory=list)
    area_pred: list[np.ndarray] = field(default_factory=list)
    v2: list[np.ndarray] = field(default_factory=list)
    blockdetect: list[np.ndarray] = field(default_factory=list)

    def add(
        self,
        clip: str,
        label: np.ndarray,
        group: np.ndarray,
        severity: np.ndarray,
        area_true: np.ndarray,
        detected: dict[str, Any],
        block: np.ndarray | None,
    ) -> None:
        n = len(label)
        self.clip.extend([clip] * n)
        self.label.append(label)
        self.group.append(group)
        self.severity.append(severity)
        self.area_true.append(area_true)
        self.score.append(detected["score"])
        self.area_pred.append(detected["area_ratio"])
        self.v2.append(detected["v2"])
        self.blockdetect.append(block if block is not None else np.full(n, np.nan))

    def arrays(self) -> dict[str, np.ndarray]:
        out = {
            name: np.concatenate(getattr(self, name))
            for name in ("label", "group", "severity", "area_true", "score", "area_pred", "v2",
                         "blockdetect")
        }  # fmt: skip
        out["clip"] = np.asarray(self.clip)
        return out


def evaluate(
    columns: dict[str, np.ndarray],
    area_threshold: float,
    blockdetect_cut: float | None,
    v2_thresholds: Sequence[float] = (),
) -> dict[str, Any]:
    """Balanced accuracy, hard-negative false alarms and ROC AUC of v1, v2 and blockdetect.

    ``v2_thresholds`` adds ``v2@<t>`` entries: the same v2 scores cut at other thresholds than
    the export's (a val threshold and the fixed 0.5 can disagree, and a rerun costs minutes).
    """
    label, group, severity = columns["label"], columns["group"], columns["severity"]
    hard = group == ALL_GROUPS.index(HARD_NEGATIVE_GROUP)
    flags = {"v1": columns["area_pred"] > area_threshold, "v2": columns["v2"]}
    scores = {"v1": columns["area_pred"], "v2": columns["score"]}
    for cut in v2_thresholds:
        name = f"v2@{cut:g}"
        flags[name], scores[name] = columns["score"] > cut, columns["score"]
    have_blockdetect = not np.isnan(columns["blockdetect"]).any()
    if have_blockdetect:
        scores["blockdetect"] = columns["blockdetect"]
        if blockdetect_cut is not None:
            flags["blockdetect"] = columns["blockdetect"] > blockdetect_cut
    results: dict[str, Any] = {}
    for name, score in scores.items():
        entry: dict[str, Any] = {"roc_auc": roc_auc(score[~hard], label[~hard])}
        if name in flags:
            entry.update(decision_summary(flags[name], label, group, severity))
            per_clip = {}
            for clip in sorted(set(columns["clip"][hard])):
                chosen = columns["clip"] == clip
                per_clip[clip] = round(float(flags[name][chosen].mean()), 4)
            entry["hard_negative_false_alarm_rate_per_clip"] = per_clip
        results[name] = entry
    positive = (label == 1) & ~hard
    results["area_ratio_error"] = {
        "mean_abs_error_corrupted_frames": float(
            np.abs(columns["area_pred"][positive] - columns["area_true"][positive]).mean()
        )
        if positive.any()
        else None
    }
    return results


def table(results: dict[str, Any], labels: dict[str, Any]) -> str:
    """The human summary: one row per decision."""
    lines = [
        f"real footage: {labels['clean_frames']} clean / {labels['corrupted_frames']} corrupted "
        f"frames ({labels['tiny_area_share']:.1%} of corrupted frames < {TINY_AREA:.0%} area); "
        f"{labels['hard_negative_frames']} hard-negative frames",
        f"{'decision':<12}{'bal_acc':>9}{'clean':>8}{'corrupt':>9}{'tiny':>7}"
        f"{'hardneg FA':>12}{'ROC AUC':>9}",
    ]

    def fmt(value: float | None, width: int) -> str:
        return f"{value:>{width}.3f}" if value is not None else f"{'-':>{width}}"

    extra = [name for name in results if name.startswith("v2@")]
    for name in ("v1", "v2", *extra, "blockdetect"):
        entry = results.get(name)
        if entry is None:
            continue
        recall = entry.get("per_class_recall") or {}
        tiny = (entry.get("per_group_accuracy") or {}).get("codec_corruption_tiny") or {}
        lines.append(
            f"{name:<12}{fmt(entry.get('bal_acc'), 9)}{fmt(recall.get('clean'), 8)}"
            f"{fmt(recall.get('corrupted'), 9)}{fmt(tiny.get('accuracy'), 7)}"
            f"{fmt(entry.get('hard_negative_false_alarm_rate'), 12)}{fmt(entry['roc_auc'], 9)}"
        )
    return "\n".join(lines)


def label_summary(versions: Sequence[ClipVersion], hard_negative_frames: int) -> dict[str, Any]:
    labels = np.concatenate([v.labels for v in versions])
    area = np.concatenate([v.area_ratio for v in versions])
    corrupted = labels == 1
    return {
        "clean_frames": int((~corrupted).sum()),
        "corrupted_frames": int(corrupted.sum()),
        "tiny_area_share": float((area[corrupted] < TINY_AREA).mean()) if corrupted.any() else 0.0,
        "corrupted_area_ratio_median": float(np.median(area[corrupted]))
        if corrupted.any()
        else 0.0,
        "hard_negative_frames": hard_negative_frames,
    }


def list_videos(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder of videos")
    videos = sorted(p for p in media_io.iter_media_files(folder) if media_io.probe(p).video)
    if not videos:
        raise FileNotFoundError(f"{folder}: no video files")
    return videos


def frame_scorer(enabled: bool) -> Callable[[Sequence[np.ndarray]], np.ndarray | None]:
    """blockdetect scores of independent frames, or a no-op returning None when disabled."""
    if not enabled:
        return lambda frames: None
    from training.baselines.blockdetect import blockdetect_scores

    return lambda frames: blockdetect_scores(list(frames))


def prepare_versions(
    args: argparse.Namespace, videos_out: Path, blockdetect: Callable[..., np.ndarray | None]
) -> list[ClipVersion]:
    """Every version of every real clip written to ``videos_out`` (and blockdetect-scored)."""
    # The hard negatives may sit inside the videos folder: they stay clean.
    excluded = args.hard_negatives.resolve() if args.hard_negatives else None
    sources = [p for p in list_videos(args.videos) if excluded not in p.resolve().parents]
    versions: list[ClipVersion] = []
    for path in sources:
        name = str(path.relative_to(args.videos)).replace("/", "_").rsplit(".", 1)[0]
        frames, fps = read_clip(path, args.seconds, args.max_height)
        drawn = versions_of(name, frames, fps, args.severities, args.seed, label=args.codec_label)
        for version, pixels in drawn:
            write_lossless(videos_out / f"{version.name}.mp4", pixels, fps)
            version.blockdetect = blockdetect(pixels)
            versions.append(version)
        damaged = sum(int(v.labels.sum()) for v in versions if v.source == name)
        print(
            f"{path.name}: {frames.shape[2]}x{frames.shape[1]}, {len(frames)} frames, "
            f"{damaged} corrupted frames over {len(args.severities)} severities",
            flush=True,
        )
    return versions


def collect_real(versions: Sequence[ClipVersion], reports: Path, columns: Columns) -> dict:
    """Add every version's detect.py rows to ``columns``; returns the model's decision card."""
    decision: dict[str, Any] = {}
    for version in versions:
        detected = report_columns(reports / f"{version.name}.mp4.json", version.n_frames)
        decision = detected["decision"] or decision
        columns.add(
            version.name, version.labels, version.groups(),
            np.full(version.n_frames, version.severity), version.area_ratio, detected,
            version.blockdetect,
        )  # fmt: skip
    return decision


def collect_hard_negatives(
    paths: Sequence[Path], root: Path, reports: Path, columns: Columns,
    blockdetect: Callable[..., np.ndarray | None],
) -> int:  # fmt: skip
    """Add the hard-negative clips' detect.py rows (all clean) to ``columns``; returns frames."""
    total = 0
    for path in paths:
        relative = path.relative_to(root)
        detected = report_columns(reports / f"{relative}.json")
        n = len(detected["score"])
        block = blockdetect([frame for _, frame in media_io.iter_video_frames(path)])
        if block is not None and len(block) != n:
            raise ValueError(f"{path}: detect.py analysed {n} frames, decoding gives {len(block)}")
        group = np.full(n, ALL_GROUPS.index(HARD_NEGATIVE_GROUP))
        columns.add(str(relative), np.zeros(n, np.int64), group, np.zeros(n, np.int64),
                    np.zeros(n), detected, block)  # fmt: skip
        total += n
    return total


def resolve_blockdetect_threshold(args: argparse.Namespace) -> dict[str, Any] | None:
    if args.no_blockdetect:
        return None
    if args.blockdetect_threshold is not None:
        return {"threshold": args.blockdetect_threshold, "source": "--blockdetect-threshold"}
    if not args.val_shards.is_dir():
        return {"threshold": None, "source": f"no val shards at {args.val_shards}: ROC AUC only"}
    cut, val_bal_acc = blockdetect_threshold(args.val_shards)
    return {
        "threshold": cut,
        "source": f"best balanced accuracy on the val split of {args.val_shards}",
        "val_bal_acc": val_bal_acc,
    }


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    started = time.perf_counter()
    blockdetect = frame_scorer(not args.no_blockdetect)
    versions = prepare_versions(args, work / "videos", blockdetect)
    prepared = time.perf_counter()
    run_detect(args.export, work / "videos", work / "reports", args.threads)
    hard_paths = list_videos(args.hard_negatives) if args.hard_negatives else []
    if hard_paths:
        run_detect(args.export, args.hard_negatives, work / "hard_reports", args.threads)
    detected_at = time.perf_counter()
    columns = Columns()
    decision = collect_real(versions, work / "reports", columns)
    hard_frames = collect_hard_negatives(
        hard_paths, args.hard_negatives, work / "hard_reports", columns, blockdetect
    )
    threshold = resolve_blockdetect_threshold(args)
    area_threshold = float(decision.get("area_threshold", 0.07))
    cut = threshold["threshold"] if threshold else None
    results = evaluate(columns.arrays(), area_threshold, cut, args.v2_thresholds)
    finished = time.perf_counter()
    return {
        "benchmark": "block corruption on real footage (codec_corruption: x264 + noise bsf)",
        "export": str(args.export),
        "decision_thresholds": decision,
        "settings": {
            "videos": str(args.videos),
            "hard_negatives": str(args.hard_negatives) if args.hard_negatives else None,
            "seconds": args.seconds,
            "max_height": args.max_height,
            "severities": list(args.severities),
            "seed": args.seed,
            "tiny_area": TINY_AREA,
            "detect": "detect.py decision=v2 (folder mode); v1 = area_ratio > area_threshold",
            "written_as": "libx264rgb CRF 0 mp4 (lossless)",
            "codec_label": args.codec_label,
        },
        "labels": label_summary(versions, hard_frames),
        "results": results,
        "blockdetect_threshold": threshold,
        "clips": [
            {
                "name": v.name,
                "source": v.source,
                "severity": v.severity,
                "size": list(v.size),
                "fps": v.fps,
                "frames": v.n_frames,
                "frames_corrupted": int(v.labels.sum()),
                "params": v.params,
            }
            for v in versions
        ],
        "hard_negative_clips": [str(p.relative_to(args.hard_negatives)) for p in hard_paths],
        "timing_s": {
            "prepare_and_blockdetect_real": round(prepared - started, 1),
            "detect_py": round(detected_at - prepared, 1),
            "collect_and_blockdetect_hard_negatives": round(finished - detected_at, 1),
        },
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=Path, required=True, help="folder of real clips")
    parser.add_argument("--export", type=Path, required=True, help="block_corruption export dir")
    parser.add_argument(
        "--hard-negatives",
        type=Path,
        default=None,
        help="folder of clean real clips: every alarm there is a false alarm",
    )
    parser.add_argument("--seconds", type=float, default=4.0, help="per clip, from its start")
    parser.add_argument("--max-height", type=int, default=720)
    parser.add_argument("--severities", type=int, nargs="+", default=[1, 3, 5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--codec-label",
        choices=CODEC_LABELS,
        default="visible",
        help="codec_corruption's label: blocks that show damage, or every block that differs",
    )
    parser.add_argument("--threads", type=int, default=None, help="detect.py threads")
    parser.add_argument(
        "--val-shards",
        type=Path,
        default=DEFAULT_VAL_SHARDS,
        help="block_corruption shards whose val split sets blockdetect's threshold",
    )
    parser.add_argument("--blockdetect-threshold", type=float, default=None)
    parser.add_argument(
        "--v2-thresholds", type=float, nargs="*", default=[],
        help="also report v2 cut at these thresholds (e.g. 0.5 beside the export's val threshold)",
    )  # fmt: skip
    parser.add_argument("--no-blockdetect", action="store_true", help="skip the ffmpeg baseline")
    parser.add_argument(
        "--work-dir",
        type=Path,
        default=None,
        help="keep the written videos and reports here (default: a temp dir)",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.max_height < 16:
        parser.error("--seconds must be > 0 and --max-height >= 16")
    if any(s not in range(1, 6) for s in args.severities):
        parser.error("--severities must be in 1..5")
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    result = run_and_write(run, args, "block_real_footage_")
    print(table(result["results"], result["labels"]))
    print(f"wrote {args.output}")
    return result


if __name__ == "__main__":
    main()
