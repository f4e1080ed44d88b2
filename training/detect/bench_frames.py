"""Frame-detector speed, start-up included: generate a clip, time ``detect.py`` on it.

    python -m training.detect.bench_frames checkpoint=exports/block_corruption/<run>
        [size=1280x720] [seconds=10] [fps=25] [batch_size=N] [runtime=auto] [keep=false]

Prints one JSON line: frames, wall seconds of the whole ``python detect.py`` process, frames/s
over that wall time and over the model's own time, and the report's decode/inference split.
The clip is a panning, textured picture so the decoder and the model do real work.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def write_clip(path: Path, seconds: float, fps: float, height: int, width: int) -> int:
    """Write the clip (H.264, CRF 18); return its frame count."""
    from impairments import media_io

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([(x / 5) % 255, (y / 3) % 255, ((x + y) / 8) % 255], axis=-1)
    base = (base + rng.normal(0, 6, base.shape)).clip(0, 255).astype(np.uint8)
    count = max(1, int(seconds * fps))
    media_io.write_video(path, np.stack([np.roll(base, 6 * i, axis=1) for i in range(count)]), fps)
    return count


def main(argv: list[str]) -> dict[str, float | str]:
    options = dict(arg.split("=", 1) for arg in argv)
    if "checkpoint" not in options:
        raise SystemExit("usage: python -m training.detect.bench_frames checkpoint=<export> ...")
    seconds, fps = float(options.get("seconds", 10)), float(options.get("fps", 25))
    width, height = (int(v) for v in options.get("size", "1280x720").split("x"))
    folder = Path(options.get("dir") or tempfile.mkdtemp(prefix="detect-bench-"))
    media = folder / f"clip_{width}x{height}_{seconds:g}s.mp4"
    count = write_clip(media, seconds, fps, height, width)
    report = folder / "report.json"
    command = [
        sys.executable,
        str(REPO / "detect.py"),
        f"detector={options.get('detector', 'block_corruption')}",
        f"checkpoint={options['checkpoint']}",
        f"input={media}",
        f"output={report}",
        f"runtime={options.get('runtime', 'auto')}",
    ]
    if "batch_size" in options:
        command.append(f"batch_size={options['batch_size']}")
    started = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO)
    wall = time.perf_counter() - started
    timing = json.loads(report.read_text())["timing_s"]
    result = {
        "input": str(media),
        "frames": count,
        "size": f"{width}x{height}",
        "wall_s": round(wall, 2),
        "frames_per_s": round(count / wall, 2),
        "model_frames_per_s": round(count / max(timing["inference"], 1e-9), 2),
        "decode_s": timing["decode"],
        "inference_s": timing["inference"],
        "startup_and_writing_s": round(wall - timing["decode"] - timing["inference"], 2),
    }
    print(json.dumps(result))
    if options.get("keep", "false") != "true" and "dir" not in options:
        media.unlink()
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
