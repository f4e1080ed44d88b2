"""Dataset-build throughput as a ratio against the decode floor of the same sources, same run.

The floor is what a build cannot beat: decoding every source item to the dataset's sample rate
and layout with the same reader and the same number of processes. The build is measured on the
same items with every segment used (``max_segments_per_item=null``), so both numbers count the
same seconds of source audio. Usage::

    python -m benchmarks.build_throughput                       # the built-in default sources
    python -m benchmarks.build_throughput --sources ~/catalogue # a folder of your own media
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir

from impairments.builder.run import list_items, parallel_map, probe_duration, worker_count
from impairments.media_io import MediaError
from impairments.sources import SourceItem, load_audio

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")


def _decode(job: tuple[SourceItem, int, int]) -> float:
    item, rate, channels = job
    try:
        return load_audio(item, rate, channels).shape[1] / rate
    except MediaError:
        return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", help="a folder of media (default: the built-in sources)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: cores)")
    parser.add_argument("--output", default="benchmarks/results/build_throughput.json")
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for the build")
    args = parser.parse_args()

    from impairments.builder.run import build_dataset

    with tempfile.TemporaryDirectory() as scratch:
        overrides = [
            f"output_dir={scratch}/shards",
            f"manifest_dir={scratch}/manifests",
            "dataset.max_segments_per_item=null",
            f"workers={args.workers}",
            *(["sources=folder", f"sources.path={args.sources}"] if args.sources else []),
            *args.overrides,
        ]
        overrides = [o for o in overrides if o != "workers=None"]
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            cfg = compose(config_name="build", overrides=overrides)
        workers = worker_count(cfg.workers)
        items, _, _ = list_items(cfg)
        items = [i for i in items if probe_duration(i)[1] is None]
        rate, channels = int(cfg.dataset.sample_rate), int(cfg.dataset.channels)

        jobs = [(i, rate, channels) for i in items]
        floor_runs = []
        for _ in range(3):  # the best of three: the floor is what decoding can do at its fastest
            started = time.perf_counter()
            audio_s = sum(parallel_map(_decode, jobs, workers, lambda _: None))
            floor_runs.append(time.perf_counter() - started)
        floor_s = min(floor_runs)

        started = time.perf_counter()
        card = build_dataset(cfg)
        build_s = time.perf_counter() - started

    samples = sum(split["count"] for split in card["splits"].values())
    report = {
        "sources": args.sources or "builtin",
        "items": len(items),
        "source_audio_s": round(audio_s, 1),
        "workers": workers,
        "decode_floor_s": round(floor_s, 2),
        "decode_floor_x_realtime": round(audio_s / floor_s, 1),
        "build_s": round(build_s, 2),
        "build_x_realtime": round(audio_s / build_s, 1),
        "samples": samples,
        "samples_per_s": round(samples / build_s, 1),
        "build_vs_floor": round(floor_s / build_s, 3),
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
