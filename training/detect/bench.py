"""Detection speed, start-up included: generate a long programme, time ``detect.py`` on it.

    python -m training.detect.bench checkpoint=exports/audio_artifact/<run> [minutes=60]
        [rate=32000] [channels=1] [format=flac] [runtime=auto] [keep=false]

Prints one JSON line: audio seconds, wall seconds of the whole ``python detect.py`` process,
the real-time factor, and the report's own split: analysis (decode overlapped with inference),
the part of it spent waiting for decoded audio, inference; start-up and writing are the rest.
The generated file is music-like (notes and noise) so decoders and the model do real work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

REPO = Path(__file__).resolve().parents[2]


def write_programme(path: Path, seconds: int, rate: int, channels: int, seed: int = 0) -> None:
    """Write in 10-second blocks so an hour never sits in memory as float64."""
    rng = np.random.default_rng(seed)
    block = 10 * rate
    t = np.arange(block) / rate
    with soundfile.SoundFile(path, "w", rate, channels, subtype="PCM_16") as sink:
        for _ in range(seconds // 10):
            notes = rng.uniform(80, 2000, size=4)
            audio = sum(0.1 * np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in notes)
            audio = audio + 0.01 * rng.standard_normal(block)
            sink.write(np.repeat(audio[:, None], channels, axis=1).astype(np.float32))


def main(argv: list[str]) -> dict[str, float | str]:
    options = dict(arg.split("=", 1) for arg in argv)
    if "checkpoint" not in options:
        raise SystemExit("usage: python -m training.detect.bench checkpoint=<export dir> ...")
    minutes = float(options.get("minutes", 60))
    rate, channels = int(options.get("rate", 32000)), int(options.get("channels", 1))
    suffix = options.get("format", "flac")
    folder = Path(options.get("dir") or tempfile.mkdtemp(prefix="detect-bench-"))
    media = folder / f"programme_{int(minutes)}min_{rate}Hz_{channels}ch.{suffix}"
    if not media.exists():
        write_programme(media, int(minutes * 60), rate, channels)
    report = folder / "report.json"
    command = [
        sys.executable,
        str(REPO / "detect.py"),
        f"checkpoint={options['checkpoint']}",
        f"input={media}",
        f"output={report}",
        f"runtime={options.get('runtime', 'auto')}",
    ]
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO)
    wall = time.perf_counter() - started
    timing = json.loads(report.read_text())["timing_s"]
    result = {
        "input": str(media),
        "audio_s": minutes * 60,
        "wall_s": round(wall, 2),
        "realtime_factor": round(minutes * 60 / wall, 1),
        "analysis_s": timing["total"],
        "waiting_for_audio_s": timing["waiting_for_audio"],
        "inference_s": timing["inference"],
        "startup_and_writing_s": round(wall - timing["total"], 2),
    }
    print(json.dumps(result))
    if options.get("keep", "false") != "true" and "dir" not in options:
        media.unlink()
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
