"""Calibration point for build throughput: the one-process script people write by hand.

Decode each file (the same reader as the builder), cut 1-second segments, apply a random
audiomentations transform per segment, encode FLAC, write with ``webdataset.ShardWriter``. Its
ratio against the same decode floor as ``benchmarks.build_throughput`` shows what that number
means. Usage: ``python -m benchmarks.handwritten_baseline --sources DIR``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import random
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile
import webdataset as wds
from audiomentations import AddGaussianSNR, ClippingDistortion, GainTransition, OneOf

from impairments.media_io import MediaError, iter_media_files, read_audio

RATE = 32_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", required=True)
    parser.add_argument("--output", default="benchmarks/results/handwritten_baseline.json")
    args = parser.parse_args()
    files = list(iter_media_files(args.sources))
    random.seed(0)
    np.random.seed(0)
    augment = OneOf([AddGaussianSNR(p=1.0), ClippingDistortion(p=1.0), GainTransition(p=1.0)])

    started = time.perf_counter()
    audio_s = 0.0
    for file in files:
        with contextlib.suppress(MediaError):
            audio_s += read_audio(file, RATE, 1).shape[1] / RATE
    floor_s = time.perf_counter() - started

    started = time.perf_counter()
    samples = 0
    with (
        tempfile.TemporaryDirectory() as scratch,
        wds.ShardWriter(f"{scratch}/train-%06d.tar", maxcount=500, verbose=0) as sink,
    ):
        for file in files:
            try:
                audio = read_audio(file, RATE, 1)[0]
            except MediaError:
                continue
            for start in range(0, audio.size - RATE + 1, RATE):
                segment = audio[start : start + RATE]
                label = random.randrange(2)
                if label:
                    segment = augment(segment, sample_rate=RATE)
                buffer = io.BytesIO()
                soundfile.write(buffer, segment, RATE, format="FLAC", subtype="PCM_16")
                key = f"{file.stem.replace('.', '_')}_{start // RATE:06d}"
                sink.write(
                    {
                        "__key__": key,
                        "flac": buffer.getvalue(),
                        "json": json.dumps({"label": label}).encode(),
                    }
                )
                samples += 1
    build_s = time.perf_counter() - started
    report = {
        "sources": args.sources,
        "source_audio_s": round(audio_s, 1),
        "workers": 1,
        "decode_floor_s": round(floor_s, 2),
        "build_s": round(build_s, 2),
        "samples": samples,
        "build_vs_floor": round(floor_s / build_s, 3),
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
