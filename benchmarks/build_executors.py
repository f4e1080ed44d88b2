"""Build throughput per executor (``make bench-build``), next to the decode floor, same run.

Builds the same dataset (the default audio build unless overrides say otherwise) with ``serial``,
``processes`` at 1 and 2 workers and a local ``ray``, times each, checks that every executor wrote
the same shard bytes, and measures the floor: decoding the same source items with the same reader
in 2 processes (best of three). Writes ``experiments/results/bench_build.json``::

    python -m benchmarks.build_executors [hydra overrides for the build ...]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from hydra import compose, initialize_config_dir

from benchmarks.build_throughput import _decode
from impairments.builder.run import build_dataset, list_items, parallel_map, probe_duration

CONF_DIR = str(Path(__file__).resolve().parent.parent / "conf")
EXECUTORS = {
    "serial": ["executor=serial"],
    "processes x1": ["executor=processes", "executor.workers=1"],
    "processes x2": ["executor=processes", "executor.workers=2"],
    "ray local x2": ["executor=ray", "executor.workers=2"],
}


def _compose(overrides: list[str]) -> Any:
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        return compose(config_name="build", overrides=overrides)


def _digests(card: dict[str, Any]) -> list[str]:
    return [s["sha256"] for v in card["splits"].values() for s in v["shards"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="experiments/results/bench_build.json")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for the build")
    args = parser.parse_args()
    rows: dict[str, Any] = {}
    reference: list[str] | None = None
    with tempfile.TemporaryDirectory() as scratch:
        base = [f"manifest_dir={scratch}/manifests", *args.overrides]
        cfg = _compose([f"output_dir={scratch}/floor", *base])
        items = [i for i in list_items(cfg)[0] if probe_duration(i)[1] is None]
        rate, channels = int(cfg.dataset.sample_rate), int(cfg.dataset.channels)
        jobs = [(i, rate, channels) for i in items]
        floor_s = float("inf")
        for _ in range(3):
            started = time.perf_counter()
            audio_s = sum(parallel_map(_decode, jobs, 2, lambda _: None))
            floor_s = min(floor_s, time.perf_counter() - started)
        for name, executor in EXECUTORS.items():
            out = f"{scratch}/{name.replace(' ', '_')}"
            started = time.perf_counter()
            card = build_dataset(_compose([f"output_dir={out}", *base, *executor]))
            seconds = time.perf_counter() - started
            samples = sum(split["count"] for split in card["splits"].values())
            digests = _digests(card)
            reference = reference or digests
            rows[name] = {
                "seconds": round(seconds, 2),
                "samples": samples,
                "samples_per_s": round(samples / seconds, 1),
                "same_shards_as_serial": digests == reference,
            }
    report = {
        "dataset": str(cfg.dataset.kind),
        "items": len(items),
        "source_audio_s": round(audio_s, 1),
        "decode_floor_2_processes_s": round(floor_s, 2),
        "executors": rows,
        "note": "ray local includes starting the local cluster; seconds include planning",
    }
    path = Path(args.output)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"decode floor (2 processes): {floor_s:.1f} s for {audio_s:.0f} s of audio")
    for name, row in rows.items():
        print(
            f"{name:14s} {row['seconds']:7.1f} s  {row['samples_per_s']:7.1f} samples/s  "
            f"floor/build {floor_s / row['seconds']:.2f}  same: {row['same_shards_as_serial']}"
        )


if __name__ == "__main__":
    main()
