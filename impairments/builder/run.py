"""A build: list sources, split, probe, plan, render shards in parallel, write a card."""

from __future__ import annotations

import inspect
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf
from tqdm import tqdm

from impairments import media_io
from impairments.builder import card as cards
from impairments.builder.executors import TaskError, TaskFailure, describe, make_executor
from impairments.builder.freeze_render import FreezeRenderSettings, render_freeze_shard
from impairments.builder.lip_sync_render import (
    LipSyncRenderSettings,
    fragments_done,
    lip_sync_summary,
    plan_fragments,
    probe_talking_face,
    render_lip_sync_shard,
)
from impairments.builder.plan import PlannedShard, make_plan, plan_digest
from impairments.builder.render import RenderSettings, ShardResult, render_shard
from impairments.builder.resume import build_fingerprint, claim_output, finished_shards
from impairments.builder.storage import ShardStore, clear_local_staging
from impairments.builder.video_render import VideoRenderSettings, render_video_shard
from impairments.screening import ScreeningSettings
from impairments.sources import SourceItem, assign_splits
from impairments.sources.video_item import probe_video

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


def worker_count(requested: int | None) -> int:
    if requested is not None:
        return max(0, int(requested))
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def parallel_map(
    function: Callable[[T], R], jobs: Sequence[T], workers: int, progress: Callable[[R], None]
) -> list[R]:
    """Results in job order whatever the completion order; ``workers=0`` runs in this process."""
    if workers == 0 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(function(job))
            progress(results[-1])
        return results
    ordered: list[R | None] = [None] * len(jobs)
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
        futures = {pool.submit(function, job): index for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            ordered[futures[future]] = result = future.result()
            progress(result)
    return ordered  # type: ignore[return-value]


def probe_duration(item: SourceItem) -> tuple[float | None, str | None]:
    """(duration in seconds, None) or (None, reason the item cannot be used)."""
    if item.generator is not None:
        return float(item.generator["duration_s"]), None
    try:
        info = media_io.probe(item.path or "")
    except media_io.MediaError as error:
        return None, error.reason
    if not info.audio:
        kinds = ", ".join(s.codec for s in info.video) or "none"
        return None, f"no audio stream (video: {kinds})"
    duration = info.audio[0].duration_s or info.duration_s
    return (duration, None) if duration and duration > 0 else (None, "unknown or zero duration")


def probe_video_duration(item: SourceItem) -> tuple[float | None, str | None]:
    """As :func:`probe_duration`, for the video stream of an item."""
    try:
        return probe_video(item).duration_s, None
    except media_io.MediaError as error:
        return None, error.reason


class BuildFailedError(RuntimeError):
    """Some shards failed after their retries; the others were built and the card says which."""


def _render(job: tuple[Any, Any]) -> ShardResult:
    shard, settings = job
    if isinstance(settings, FreezeRenderSettings):
        return render_freeze_shard(shard, settings)
    if isinstance(settings, LipSyncRenderSettings):
        return render_lip_sync_shard(shard, settings)
    if isinstance(settings, VideoRenderSettings):
        return render_video_shard(shard, settings)
    return render_shard(shard, settings)


def render_and_publish(job: tuple[PlannedShard, Any, ShardStore]) -> ShardResult:
    """One executor task: render a shard into the store's staging folder, then publish it.

    Errors come back as one line naming the shard and the source items it reads, so a failure on
    a worker of a remote cluster can be traced to a file without its logs.
    """
    shard, settings, store = job
    Path(settings.output_dir).mkdir(parents=True, exist_ok=True)
    try:
        result = _render((shard, settings))
    except Exception as error:
        raise TaskError(f"{shard.name}: {_failing_item(shard, error)}{describe(error)}") from error
    if store.remote:
        staged = Path(settings.output_dir)
        result = replace(result, path=store.path(f"{shard.name}.tar"))
        stats = staged / f"{shard.name}.stats.json"
        stats.write_text(json.dumps(result.__dict__, indent=2, sort_keys=True))
        store.publish(staged / f"{shard.name}.tar", stats)
    return result


def _failing_item(shard: PlannedShard, error: BaseException) -> str:
    """``"<source> (samples k1, k2): "`` for the item whose rendering raised, found by matching
    the traceback's local variables against the shard's items; empty when it cannot be told."""
    items = {id(planned): planned for planned in shard.items}
    traceback = error.__traceback__
    found = None
    while traceback is not None:
        for value in traceback.tb_frame.f_locals.values():
            if id(value) in items:
                found = items[id(value)]
        traceback = traceback.tb_next
    if found is None:
        return ""
    keys = ", ".join(sample.key for sample in found.samples[:6])
    more = ", ..." if len(found.samples) > 6 else ""
    return f"{found.item.describe()} (samples {keys}{more}): "


def executor_spec(cfg: DictConfig) -> dict[str, Any]:
    """The ``executor`` group, with the older top-level ``workers=`` as a shorthand for it
    (``workers=0`` = serial, ``workers=N`` = N processes or local Ray CPUs)."""
    spec: dict[str, Any] = dict(
        OmegaConf.to_container(cfg.executor, resolve=True) if cfg.get("executor") else {}  # type: ignore[arg-type]
    )
    spec.setdefault("kind", "processes")
    if cfg.get("workers") is not None:
        if int(cfg.workers) == 0:
            return {"kind": "serial", "retries": spec.get("retries", 1)}
        if spec["kind"] in ("processes", "ray") and spec.get("workers") is None:
            spec["workers"] = int(cfg.workers)
    return spec


def list_items(
    cfg: DictConfig, media: str = "audio"
) -> tuple[list[SourceItem], list[dict[str, str]], str | None]:
    """The configured source's items; ``media`` reaches sources that offer both (builtin)."""
    spec: dict[str, Any] = OmegaConf.to_container(cfg.sources, resolve=True)  # type: ignore[assignment]
    force_split = spec.pop("split", None)
    source_class = get_class(spec.pop("_target_"))
    if media != "audio" and "media" in inspect.signature(source_class).parameters:
        spec["media"] = media
        # A dataset may retune the built-in video catalogue to what it needs (the freeze build
        # wants moving pictures): its ``builtin_video`` keys override ``sources.video``.
        tuned = cfg.dataset.get("builtin_video")
        if tuned:
            spec["video"] = {**(spec.get("video") or {}), **OmegaConf.to_container(tuned)}  # type: ignore[dict-item]
    items, problems = source_class(**spec).items()
    return items, problems, force_split


def video_settings(cfg: DictConfig, output_dir: Path) -> VideoRenderSettings:
    data = cfg.dataset
    return VideoRenderSettings(
        dataset=str(data.kind),
        labels=tuple(data.labels),
        output_dir=str(output_dir),
        segment_s=float(data.segment_s),
        hop_s=float(data.hop_s),
        max_height=int(data.max_height),
        region=(int(data.region[0]), int(data.region[1])),
        crop=(int(data.crop[0]), int(data.crop[1])),
        frames_per_clip=int(data.frames_per_clip),
        positives=tuple(data.positives),
        hard_negatives=tuple(data.hard_negatives),
        hard_negative_share=float(data.hard_negative_share),
        redraws=int(data.redraws),
        png_compression=int(data.png_compression),
        impairment_ranges=OmegaConf.to_container(data.impairments, resolve=True) or {},  # type: ignore[arg-type]
    )


@dataclass
class DatasetPlan:
    """Everything decided before rendering: the items, which are usable, and the shard plan."""

    items: list[SourceItem]
    usable: list[tuple[SourceItem, str, float]]  # (item, split, duration_s)
    split_method: str
    split_seed: int  # salt of the item -> split hash (``split_seed``, default the master seed)
    manifest_rows: list[dict[str, Any]]
    skipped_items: list[dict[str, str]]
    shards: list[PlannedShard]


def plan_dataset(cfg: DictConfig) -> DatasetPlan:
    """List, split and probe the sources of ``cfg`` and plan every shard; decodes nothing.

    Deterministic for a config and seed: an evaluation can call it to find the samples of one
    split again (``impairments.builder.freeze_render.iter_planned_clips`` does).
    """
    data = cfg.dataset
    workers = worker_count(cfg.workers)
    media = str(data.get("media", "audio"))
    items, problems, force_split = list_items(cfg, media)
    # A dataset may carry its own split shares (freeze: bigger val/test for event metrics).
    shares = data.get("splits") or cfg.splits
    # The split salt is its own key (default: the master seed) so that builds of one catalogue
    # with different seeds (fresh impairment draws and procedural scenes for more training) can
    # keep every item in the split it had: otherwise a photo tested in one build trains in another.
    split_seed = int(cfg.get("split_seed", cfg.seed))
    splits, split_method = assign_splits(items, shares, salt=str(split_seed), force=force_split)
    log.info(
        "%d source items (%s split); probing with %d workers", len(items), split_method, workers
    )
    prober = {"video": probe_video_duration, "talking_face": probe_talking_face}.get(
        media, probe_duration
    )
    probes = parallel_map(prober, items, workers, lambda _: None)

    usable: list[tuple[SourceItem, str, float]] = []
    manifest_rows: list[dict[str, Any]] = []
    skipped_items = list(problems)
    # A dataset may use items shorter than a segment whole (lip sync: 3-s clips, 4-s fragments).
    shortest = float(data.get("min_duration_s") or data.segment_s)
    for item, (duration, reason) in zip(items, probes, strict=True):
        if reason is None and duration is not None and duration < shortest:
            reason = f"too short: {duration:.3f} s < {shortest} s"
        row = {**item.to_json(), "split": splits[item.id], "duration_s": duration}
        if reason is None:
            usable.append((item, splits[item.id], float(duration)))  # type: ignore[arg-type]
        else:
            skipped_items.append({"source": item.describe(), "reason": reason})
            row["skipped"] = reason
        manifest_rows.append(row)
    if not usable:
        raise media_io.MediaError(cfg.sources.get("path", "sources"), "no usable source items")

    if str(data.kind) == "lip_sync":
        shards = plan_fragments(
            usable,
            LipSyncRenderSettings.from_config(data, str(cfg.output_dir)),
            seed=int(cfg.seed),
            max_fragments_per_item=data.max_segments_per_item,
            samples_per_shard=int(data.samples_per_shard),
        )
    else:
        shards = make_plan(
            usable,
            list(data.labels),
            seed=int(cfg.seed),
            segment_s=float(data.segment_s),
            hop_s=float(data.hop_s),
            max_segments_per_item=data.max_segments_per_item,
            samples_per_shard=int(data.samples_per_shard),
            clean_label=str(data.labels[0]),
        )
    return DatasetPlan(
        items, usable, split_method, split_seed, manifest_rows, skipped_items, shards
    )


def build_dataset(cfg: DictConfig) -> dict[str, Any]:
    """Build shards and card for ``cfg`` (the composed ``conf/build.yaml``); returns the card."""
    started = time.perf_counter()
    data = cfg.dataset
    output_dir = Path(cfg.output_dir)
    manifest_dir = Path(cfg.manifest_dir)

    media = str(data.get("media", "audio"))
    plan = plan_dataset(cfg)
    items, usable, split_method = plan.items, plan.usable, plan.split_method
    manifest_rows, skipped_items, shards = plan.manifest_rows, plan.skipped_items, plan.shards
    planned = sum(shard.sample_count for shard in shards)
    settings: RenderSettings | VideoRenderSettings | FreezeRenderSettings | LipSyncRenderSettings
    lip_sync = str(data.kind) == "lip_sync"
    if str(data.kind) == "freeze":
        settings = FreezeRenderSettings.from_config(data, str(output_dir))
        format_info: dict[str, Any] = settings.card_info()
    elif lip_sync:
        settings = LipSyncRenderSettings.from_config(data, str(output_dir))
        format_info = settings.card_info()  # progress counts fragments (planned samples)
    elif media == "video":
        settings = video_settings(cfg, output_dir)
        planned *= settings.frames_per_clip  # progress counts written crops, not clip windows
        format_info = {
            "segment_s": settings.segment_s,
            "hop_s": settings.hop_s,
            "crop": list(settings.crop),
            "frames_per_clip": settings.frames_per_clip,
        }
    else:
        settings = _audio_settings(cfg, output_dir)
        format_info = {
            "sample_rate": settings.sample_rate,
            "channels": settings.channels,
            "segment_s": settings.segment_s,
            "hop_s": settings.hop_s,
        }
    store = ShardStore(str(cfg.output_dir), dict(cfg.get("storage_options") or {}))
    plan_sha256 = plan_digest(shards)
    fingerprint = build_fingerprint(plan_sha256, settings)
    resuming = claim_output(
        store,
        fingerprint,
        {"name": str(cfg.name), "dataset": str(data.kind), "plan_sha256": plan_sha256},
        overwrite=bool(cfg.get("overwrite", False)),
    )
    settings = replace(settings, output_dir=str(store.staging_dir(fingerprint)))
    finished, repaired = finished_shards(
        store, [s.name for s in shards], str(cfg.get("verify", "auto"))
    )
    for name, why in sorted(repaired.items()):
        log.warning("%s: rebuilding (%s)", name, why)
    if resuming or finished:
        print(f"resumed: {len(finished)} of {len(shards)} shards already done")
    cards.write_jsonl(manifest_dir / f"{cfg.name}.sources.jsonl", manifest_rows)

    executor = make_executor(executor_spec(cfg))
    todo = [s for s in shards if s.name not in finished]
    log.info(
        "rendering %d samples into %d shards in %s (%s executor, %d to do)",
        planned,
        len(shards),
        store.url,
        executor.name,
        len(todo),
    )
    bar = tqdm(total=planned, unit="sample", desc=f"build {cfg.name}", dynamic_ncols=True)
    done = [len(finished)]
    per_window = settings.frames_per_clip if media == "video" else 1
    bar.update(sum(s.sample_count for s in shards if s.name in finished) * per_window)

    def advance(outcome: ShardResult | TaskFailure) -> None:
        done[0] += 1
        if isinstance(outcome, ShardResult):
            written = fragments_done(outcome) if lip_sync else outcome.count
            bar.update(written + sum(outcome.skipped_segments.values()))
        bar.set_postfix(shards=f"{done[0]}/{len(shards)}")

    outcomes = executor.map(
        render_and_publish, [(s, settings, store) for s in todo], [s.name for s in todo], advance
    )
    bar.close()
    if store.remote:
        clear_local_staging(Path(settings.output_dir))
    failures = [o for o in outcomes if isinstance(o, TaskFailure)]
    results = sorted(
        [ShardResult(**stats) for stats in finished.values()]
        + [o for o in outcomes if isinstance(o, ShardResult)],
        key=lambda r: (r.split, r.name),
    )
    screened: list[dict[str, Any]] = []
    for result in results:  # an item split over two shards reports its failure twice
        skipped_items.extend(s for s in result.skipped_items if s not in skipped_items)
        screened.extend(result.screened_items)

    card = cards.finalise(
        {
            "name": str(cfg.name),
            "dataset": str(data.kind),
            "classes": list(data.labels),
            **format_info,
            "seed": int(cfg.seed),
            "plan_sha256": plan_sha256,
            "build_fingerprint": fingerprint,
            "sources": {
                "type": str(cfg.sources._target_),
                "items": len(items),
                "usable_items": len(usable),
                "split_method": split_method,
                "split_seed": plan.split_seed,
                "items_per_split": {
                    split: sum(1 for _, s, _ in usable if s == split)
                    for split in ("train", "val", "test")
                },
                "manifest": cards.display_path(manifest_dir / f"{cfg.name}.sources.jsonl"),
            },
            "splits": cards.split_summary(results, list(data.labels)),
            **({"lip_sync": lip_sync_summary(results, usable)} if lip_sync else {}),
            "failed_shards": [f.to_json() for f in failures],
            "skipped_items": skipped_items,
            "screened_items": sorted(screened, key=lambda row: row["id"]),
            "config": OmegaConf.to_container(cfg, resolve=True),
            "versions": cards.package_versions(),
            "git_commit": cards.git_commit(),
        }
    )
    card_path = manifest_dir / f"{cfg.name}.card.json"
    cards.write_json(card_path, card)
    seconds = time.perf_counter() - started
    samples = sum(r.count for r in results)
    cards.write_json(
        manifest_dir / f"{cfg.name}.build.json",
        {
            "card": cards.display_path(card_path),
            "seconds": round(seconds, 2),
            "executor": executor_spec(cfg),
            "resumed_shards": len(finished),
            "samples": samples,
            "samples_per_s": round(samples / max(seconds, 1e-9), 1),
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    _print_summary(card, card_path, seconds)
    if failures:
        lines = [f"  {f.task}: {f.error} (after {f.attempts} attempt(s))" for f in failures]
        raise BuildFailedError(
            f"{len(failures)} of {len(shards)} shards failed; the rest are built and the card "
            f"lists the failures; run the same command again to retry them:\n" + "\n".join(lines)
        )
    return card


def _audio_settings(cfg: DictConfig, output_dir: Path) -> RenderSettings:
    data = cfg.dataset
    return RenderSettings(
        dataset=str(data.kind),
        labels=tuple(data.labels),
        sample_rate=int(data.sample_rate),
        channels=int(data.channels),
        segment_s=float(data.segment_s),
        hop_s=float(data.hop_s),
        silence_dbfs=float(data.silence_dbfs),
        output_dir=str(output_dir),
        impairment_ranges=OmegaConf.to_container(data.impairments, resolve=True) or {},  # type: ignore[arg-type]
        screening=ScreeningSettings(**cfg.screening),
    )


def _print_summary(card: dict[str, Any], card_path: Path, seconds: float) -> None:
    lines = [f"dataset {card['name']} -> {card_path} ({seconds:.1f} s)"]
    for split, summary in card["splits"].items():
        classes = ", ".join(f"{k} {v}" for k, v in summary["per_class"].items())
        lines.append(
            f"  {split:5s} {summary['count']:6d} samples in {len(summary['shards'])} "
            f"shards ({classes})"
        )
    for split, summary in card.get("lip_sync", {}).get("splits", {}).items():
        speakers = ", ".join(summary["speakers"])
        lines.append(
            f"  {split:5s} {summary['fragments']} fragments ({summary['fragments_without_face']} "
            f"without a face), {summary['speaker_count']} speakers: {speakers}"
        )
    for row in card["screened_items"]:
        verdict = "excluded" if row["excluded"] else "kept (screening.exclude=false)"
        lines.append(f"  screened {verdict}: {row['source']}: {'; '.join(row['problems'])}")
    if card["skipped_items"]:
        lines.append(f"  skipped {len(card['skipped_items'])} source items (reasons in the card):")
        lines += [f"    {s['source']}: {s['reason']}" for s in card["skipped_items"][:10]]
    print("\n".join(lines))
