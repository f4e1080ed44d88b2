"""Apply one registered impairment to a media file: test material made with the project's own code.

    python -m impairments.apply av_offset offset_ms=-200 input=a.mp4 output=b.mp4
    python -m impairments.apply hum severity=4 seed=7 input=talk.wav output=talk_hum.wav

Audio and A/V impairments run on the file's first audio track at its own rate and channel count;
the video stream is copied, never re-encoded, so the picture is bit-identical and only what the
impairment did differs. The annotation (drawn parameters, and for A/V ones the offset at every
video frame, positive = audio late) goes to ``annotation=`` (default: ``<output>.json``).

Arguments are ``key=value``: ``input``, ``output``, ``severity`` (1-5, default 3), ``seed``
(default 0), ``annotation``; any other key is the impairment's own — a range name fixed to one
value (``offset_ms=-200``) or given as ``[low, high]``, or a constructor choice
(``directions=[late]``). Bad input ends with one line naming the file and the problem.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from impairments import media_io, registry
from impairments.base import Annotation

CONTROL_KEYS = ("input", "output", "severity", "seed", "annotation")
# Audio codec for the re-timed track, by output container (the video stream is always copied).
AUDIO_CODECS = {
    ".mp4": ["-c:a", "aac", "-b:a", "192k"],
    ".m4v": ["-c:a", "aac", "-b:a", "192k"],
    ".mov": ["-c:a", "aac", "-b:a", "192k"],
    ".mkv": ["-c:a", "flac"],
    ".webm": ["-c:a", "libopus", "-b:a", "160k"],
    ".avi": ["-c:a", "pcm_s16le"],
    ".mpg": ["-c:a", "mp2", "-b:a", "192k"],
    ".mpeg": ["-c:a", "mp2", "-b:a", "192k"],
    ".ts": ["-c:a", "aac", "-b:a", "192k"],
}


class UsageError(ValueError):
    """A command line that cannot be run; the message says what to change."""


def parse_arguments(argv: Sequence[str]) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """``(impairment name, control values, impairment keywords)`` from ``name key=value ...``."""
    if not argv or "=" in argv[0]:
        raise UsageError(
            "usage: python -m impairments.apply NAME key=value ... input=IN output=OUT"
        )
    name, control, options = argv[0], {}, {}
    for argument in argv[1:]:
        key, sep, text = argument.partition("=")
        if not sep or not key:
            raise UsageError(f"expected key=value, got {argument!r}")
        if key in ("input", "output", "annotation"):
            control[key] = text  # paths stay text: "1.mp4" or "[a].wav" must not be parsed
            continue
        value = yaml.safe_load(text) if text else None
        if isinstance(value, list):
            value = [float(v) if isinstance(v, int | float) else v for v in value]
        (control if key in CONTROL_KEYS else options)[key] = value
    for required in ("input", "output"):
        if not control.get(required):
            raise UsageError(f"missing {required}=PATH")
    return name, control, options


def _impairment_options(options: dict[str, Any]) -> dict[str, Any]:
    """Lists of words are choices (tuples); single numbers are fixed ranges."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            out[key] = tuple(value)
        elif isinstance(value, str):
            out[key] = (value,)
        else:
            out[key] = value
    return out


def apply_to_file(
    name: str,
    source: Path,
    target: Path,
    severity: int = 3,
    seed: int = 0,
    **options: Any,
) -> Annotation:
    """Impair ``source`` into ``target``; returns the annotation (also what was drawn)."""
    impairment = registry.get(name, severity=severity, **_impairment_options(options))
    if impairment.media not in ("audio", "av"):
        raise UsageError(
            f"{name} is a {impairment.media} impairment: those run on decoded clips inside the "
            "dataset builder; apply handles audio and A/V impairments"
        )
    info = media_io.probe(source)
    if not info.audio:
        raise media_io.MediaError(source, "no audio stream to impair")
    audio_info = info.audio[0]
    samples = media_io.read_audio(source)
    if impairment.media == "av":
        if not info.video:
            raise media_io.MediaError(source, "an A/V impairment needs a video stream")
        video = info.video[0]
        fps = video.fps or 25.0
        duration = video.duration_s or info.duration_s or samples.shape[1] / audio_info.sample_rate
        frames = video.frame_count or int(round(duration * fps))
        out, annotation = impairment(
            samples, sample_rate=audio_info.sample_rate, fps=fps, n_frames=frames, seed=seed
        )
    else:
        out, annotation = impairment(samples, sample_rate=audio_info.sample_rate, seed=seed)
    if info.video:
        _remux(source, target, out, audio_info.sample_rate, audio_info.start_s or 0.0)
    else:
        media_io.write_audio(target, out, audio_info.sample_rate)
    return annotation


def _remux(source: Path, target: Path, audio: np.ndarray, sample_rate: int, start_s: float) -> None:
    """The source's video stream, copied, with ``audio`` as its only audio track.

    The new track starts where the old one did (``-itsoffset``): an mp4 whose video begins one
    frame after its audio must not gain a one-frame offset that nobody asked for.
    """
    codec = AUDIO_CODECS.get(target.suffix.lower())
    if codec is None:
        raise UsageError(
            f"{target}: no audio codec chosen for {target.suffix!r} outputs; "
            f"use one of {', '.join(sorted(AUDIO_CODECS))}"
        )
    with tempfile.TemporaryDirectory(prefix="impair-") as scratch:
        track = Path(scratch) / "audio.wav"
        media_io.write_audio(track, audio, sample_rate)
        media_io.run_ffmpeg(
            [
                "-i",
                str(source.resolve()),
                "-itsoffset",
                f"{start_s:.6f}",
                "-i",
                str(track),
                "-map",
                "0:v:0",
                "-map",
                "1:a:0",
                "-c:v",
                "copy",
                *codec,
                "-map_metadata",
                "0",
                str(target.resolve()),
            ],
            str(source),
        )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        name, control, options = parse_arguments(sys.argv[1:] if argv is None else argv)
        source, target = Path(control["input"]), Path(control["output"])
        if source.resolve() == target.resolve():
            raise UsageError(f"{target}: output would overwrite the input")
        annotation = apply_to_file(
            name,
            source,
            target,
            severity=int(control.get("severity") or 3),
            seed=int(control.get("seed") or 0),
            **options,
        )
    except (UsageError, KeyError, ValueError, media_io.MediaError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return 2
    record = {
        "impairment": name,
        "input": str(source),
        "output": str(target),
        "seed": int(control.get("seed") or 0),
        "annotation": annotation.to_json(),
    }
    sidecar = Path(control.get("annotation") or f"{target}.json")
    sidecar.write_text(json.dumps(record, indent=2) + "\n")
    summary = {k: v for k, v in annotation.to_json().items() if k in ("kind", "params")}
    print(f"{target}: {json.dumps(summary)} (annotation: {sidecar})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
