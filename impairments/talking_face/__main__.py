"""Face tracks of a video file, 4-second fragment by fragment.

    python -m impairments.talking_face input=clip.mp4 output=tracks.json [strip=tracks.png]
        [shots=transnetv2|content] [faces=mtcnn|haar] [hop_s=4.0] [max_s=...]

``output`` gets, per fragment, its start, the shots and every track (id, frames, boxes, face
size, detection scores); ``strip`` a PNG with one row of lower-face crops per track (every 5th
frame). Bad input ends with one line naming the file and the problem.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from impairments.media_io import MediaError
from impairments.talking_face.crops import TrackCrops
from impairments.talking_face.faces import FACE_METHODS, make_face_detector
from impairments.talking_face.fragments import (
    FPS,
    FRAGMENT_S,
    check_talking_media,
    fragment_starts,
    read_fragment,
)
from impairments.talking_face.pipeline import PipelineConfig, process_fragment
from impairments.talking_face.shots import SHOT_METHODS

KEYS = ("input", "output", "strip", "shots", "faces", "hop_s", "max_s")
STRIP_EVERY = 5


def parse(argv: Sequence[str]) -> dict[str, str]:
    values = {}
    for argument in argv:
        key, sep, value = argument.partition("=")
        if not sep or key not in KEYS:
            raise ValueError(f"unknown argument {argument!r}; keys: {', '.join(KEYS)}")
        values[key] = value
    for required in ("input", "output"):
        if required not in values:
            raise ValueError(f"missing {required}=...; usage: input=VIDEO output=JSON [strip=PNG]")
    if values.get("shots", "transnetv2") not in SHOT_METHODS:
        raise ValueError(f"shots= must be one of {SHOT_METHODS}")
    if values.get("faces", "mtcnn") not in FACE_METHODS:
        raise ValueError(f"faces= must be one of {FACE_METHODS}")
    return values


def strip_image(tracks: list[TrackCrops]) -> np.ndarray | None:
    rows = [np.concatenate(list(t.crops[::STRIP_EVERY]), axis=1) for t in tracks]
    if not rows:
        return None
    width = max(r.shape[1] for r in rows)
    return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0))) for r in rows])


def run(values: dict[str, str]) -> dict:
    path = Path(values["input"])
    info = check_talking_media(path)
    config = PipelineConfig(
        shots=values.get("shots", "transnetv2"), faces=values.get("faces", "mtcnn")
    )
    detector = make_face_detector(config.faces, max_side=config.detect_side)
    duration = info.duration_s or info.video[0].duration_s or FRAGMENT_S
    if "max_s" in values:
        duration = min(duration, float(values["max_s"]))
    hop = float(values.get("hop_s", FRAGMENT_S))
    fragments, all_crops = [], []
    for start in fragment_starts(duration, FRAGMENT_S, hop):
        result = process_fragment(read_fragment(path, start, max_side=960), config, detector)
        offset = len(all_crops)
        all_crops.extend(result.tracks)
        fragments.append(
            {
                "start_s": round(result.fragment.start_s, 3),
                "frames": result.fragment.num_frames,
                "shots": [list(s) for s in result.shots],
                "tracks": [
                    dict(t.track.to_json(FPS), id=offset + i) for i, t in enumerate(result.tracks)
                ],
                "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
            }
        )
    report = {
        "input": str(path),
        "fps": FPS,
        "shots": config.shots,
        "faces": config.faces,
        "fragments": fragments,
    }
    Path(values["output"]).write_text(json.dumps(report, indent=1))
    if "strip" in values:
        image = strip_image(all_crops)
        if image is not None:
            cv2.imwrite(values["strip"], cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    try:
        values = parse(sys.argv[1:] if argv is None else argv)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        report = run(values)
    except MediaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    tracks = sum(len(f["tracks"]) for f in report["fragments"])
    count = len(report["fragments"])
    print(f"{values['input']}: {count} fragments, {tracks} face tracks -> {values['output']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
