"""Block-corruption build throughput against the decode floor of the same sources, same run.

The floor is what the build cannot beat: producing every frame of every usable source item
(decoding files, scaled to ``dataset.max_height`` as the build does; rendering recipes) with the
same number of processes. Both rates count source frames: the build's are the frames of the clip
windows it impairs. Usage::

    python -m benchmarks.video_build_throughput            # the default block_corruption build
    python -m benchmarks.video_build_throughput sources.video.items_per_kind=2
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from impairments.builder.run import build_dataset, list_items, parallel_map, worker_count
from impairments.media_io import MediaError
from impairments.sources import SourceItem
from impairments.sources.video_item import probe_video, read_window, render_generator

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def _decode(job: tuple[SourceItem, int]) -> int:
    """Frames of the whole item, produced exactly as the build produces them."""
    item, max_height = job
    try:
        probe = probe_video(item)
        if item.generator is not None:
            return len(render_generator(item))
        frames, _ = read_window(item, probe, 0.0, 1_000_000, max_height)
        return len(frames)
    except MediaError:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--output", default="benchmarks/results/video_build_throughput.json")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for the build")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        overrides = [
            "dataset=block_corruption",
            f"output_dir={scratch}/shards",
            f"manifest_dir={scratch}/manifests",
            *([f"workers={args.workers}"] if args.workers is not None else []),
            *args.overrides,
        ]
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = compose(config_name="build", overrides=overrides)
        workers = worker_count(cfg.workers)
        items, _, _ = list_items(cfg, "video")
        started = time.perf_counter()
        decoded = sum(
            parallel_map(
                _decode, [(i, int(cfg.dataset.max_height)) for i in items], workers, lambda _: None
            )
        )
        decode_s = time.perf_counter() - started
        started = time.perf_counter()
        card = build_dataset(cfg)
        build_s = time.perf_counter() - started
    clips = sum(v for s in card["splits"].values() for v in s["per_class"].values())
    clips //= int(cfg.dataset.frames_per_clip)
    window_frames = clips * round(float(cfg.dataset.segment_s) * float(cfg.sources.video.fps))
    report = {
        "workers": workers,
        "source_items": len(items),
        "decode_floor": {
            "frames": decoded,
            "seconds": round(decode_s, 2),
            "frames_per_s": round(decoded / decode_s, 1),
        },
        "build": {
            "samples": clips * int(cfg.dataset.frames_per_clip),
            "clip_windows": clips,
            "window_frames": window_frames,
            "seconds": round(build_s, 2),
            "window_frames_per_s": round(window_frames / build_s, 1),
            "samples_per_s": round(clips * int(cfg.dataset.frames_per_clip) / build_s, 1),
        },
    }
    report["build_vs_floor"] = round(
        report["build"]["window_frames_per_s"] / report["decode_floor"]["frames_per_s"], 3
    )
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
