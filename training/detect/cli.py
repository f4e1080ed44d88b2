"""``detect.py``: run an exported detector over a file or a folder and write JSON reports.

File mode: ``input=<file> output=<report.json>`` (``output`` omitted: the report goes to stdout).
Catalogue mode: ``input=<folder or manifest> output=<folder>``: every media file gets
``<output>/<relative path>.json``, in parallel with ``executor=``, resuming where an earlier scan
stopped; ``index.jsonl``/``index.json`` list every file with its status, so one bad file is
recorded and the rest go on (training/detect/catalogue.py).

A bad input never ends in a traceback: one line ``error: <path>: <reason>`` on stderr and a
non-zero exit (file mode), or an ``error`` entry in the index and exit status 1 (folder mode).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from training.detect.runtime import ModelLoadError, SegmentModel, load_segment_model
from training.detect.segments import Stopwatch, decode_ahead, segment_report

EXIT_OK, EXIT_BAD_INPUT, EXIT_BAD_MODEL = 0, 1, 2
# Seconds of audio per decoded block: large enough that per-block overheads vanish, small
# enough that memory stays flat (30 s of 48 kHz 5.1 is 35 MB as float32).
DECODE_BLOCK_S = 30.0

# (media file, where its report will be written or None for stdout) -> report
Analyse = Callable[[Path, Path | None], dict[str, Any]]


def _media_io() -> Any:
    from impairments import media_io

    return media_io


def analyse_file(
    path: Path, report_path: Path | None, model: SegmentModel, hop_s: float, batch_size: int
) -> dict[str, Any]:
    """Stream the track (mono, at the model's rate) through the model, build the report.

    Decoding runs a block ahead in a thread, so ``timing_s`` splits the wall time into waiting
    for audio (what decoding cost beyond what inference hid) and inference.
    """
    media_io = _media_io()
    started = time.perf_counter()
    blocks = media_io.iter_audio_blocks(
        path, sample_rate=model.sample_rate, channels=1, block_s=DECODE_BLOCK_S
    )
    watch = Stopwatch()
    mono = (block[0] for block in decode_ahead(blocks))
    body = segment_report(mono, model, hop_s, batch_size, watch)
    return {
        "input": str(path),
        "detector": model.card.get("detector"),
        "model": {**model.card, "runtime": model.runtime, "path": model.path},
        **body,
        "timing_s": {
            "total": round(time.perf_counter() - started, 3),
            "waiting_for_audio": round(watch.waiting_for_audio, 3),
            "inference": round(watch.inference, 3),
        },
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".part")
    temporary.write_text(json.dumps(payload, indent=1) + "\n")
    temporary.replace(path)


def _error(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)


def run_file(path: Path, output: Path | None, analyse: Analyse) -> int:
    media_io = _media_io()
    try:
        report = analyse(path, output)
    except media_io.MediaError as error:
        _error(str(error))
        return EXIT_BAD_INPUT
    except Exception as error:
        _error(f"{path}: {type(error).__name__}: {error}")
        return EXIT_BAD_INPUT
    if output is None:
        print(json.dumps(report, indent=1))
    else:
        write_json(output, report)
    return EXIT_OK


def make_analyser(cfg: Any) -> tuple[Analyse, Any] | str:
    """``(analyse(media, report_path) -> report, model)`` for the configured detector, or the
    reason its model cannot be used (one line). Catalogue workers call this once each."""
    kind = (cfg.detector.get("detect") or {}).get("kind") if "detector" in cfg else None
    if kind == "frames":
        from training.detect.frame_cli import frame_analyser

        return frame_analyser(cfg)
    if kind == "clips":
        from training.detect.clips import clip_analyser

        return clip_analyser(cfg)
    if kind == "lip_sync":
        from training.detect.lip_sync import lip_sync_analyser

        return lip_sync_analyser(cfg)
    try:
        model = load_segment_model(cfg.checkpoint, cfg.get("runtime", "auto"), cfg.get("threads"))
    except ModelLoadError as error:
        return str(error)
    expected = cfg.detector.name if "detector" in cfg else None
    if expected and model.card.get("detector") not in (None, expected):
        return f"{cfg.checkpoint}: is a {model.card.get('detector')} model, not {expected}"
    defaults = model.card.get("detect") or {}
    hop_s = float(cfg.get("hop_s") or defaults.get("hop_s") or model.card["segment_s"])
    batch = int(cfg.get("batch_size") or defaults.get("batch_size") or 256)
    return partial(analyse_file, model=model, hop_s=hop_s, batch_size=batch), model


def run(cfg: Any) -> int:
    """Entry used by ``detect.py`` with the composed ``conf/detect.yaml``; returns the exit code."""
    from training.detect.catalogue import is_manifest, run_catalogue

    source = Path(str(cfg.input)).expanduser()
    output = Path(str(cfg.output)).expanduser() if cfg.get("output") else None
    if not source.exists():
        _error(f"{source}: no such file or folder")
        return EXIT_BAD_INPUT
    if source.is_dir() or is_manifest(source):
        if output is None:
            _error(f"{source}: a folder or manifest input needs output=<folder> for the reports")
            return EXIT_BAD_INPUT
        return run_catalogue(cfg, source, output)
    made = make_analyser(cfg)
    if isinstance(made, str):
        _error(made)
        return EXIT_BAD_MODEL
    return run_file(source, output, made[0])
