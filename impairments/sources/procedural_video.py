"""Clean video rendered from a recipe: real photos animated like camera work, and synthetic scenes.

The block-corruption detector must not learn "busy texture", "many small objects" or "fast
motion" as corruption, so the clean class needs plenty of each; real footage shipped with the
dependencies is only three short clips. Everything here is a pure function of the recipe (kind,
seed, frame count, size, fps): the same spec renders the same bytes in any process.

Photos come from scikit-image's bundled ``skimage.data`` (those that need no download).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

# skimage.data names shipped in the wheel (others download on first use; this build is offline).
PHOTOS = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "cat",
    "hubble_deep_field",
    "immunohistochemistry",
    "retina",
    "colorwheel",
    "camera",
    "brick",
    "grass",
    "gravel",
    "coins",
    "moon",
    "clock",
)


def _scikit_learn_sample(file: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return np.asarray(load_sample_image(file))

    return load


def _motorcycle_left_view() -> np.ndarray:
    import skimage.data

    return np.asarray(skimage.data.stereo_motorcycle()[0])


# More real photos shipped in installed wheels, named in ``sources.video.photos`` to use them. They
# are not in the default list: every default build would gain items and change its bytes. The
# three are busy real scenes (trees and roofs, petals, machinery) the default photos lack: the
# detector's false alarms on real footage are foliage and crowds, and the default photos with
# foliage-like texture (grass) hash to the val split.
_EXTRA_PHOTO_LOADERS: dict[str, Callable[[], np.ndarray]] = {
    "china": _scikit_learn_sample("china.jpg"),
    "flower": _scikit_learn_sample("flower.jpg"),
    "motorcycle": _motorcycle_left_view,
}
EXTRA_PHOTOS = tuple(_EXTRA_PHOTO_LOADERS)
KNOWN_PHOTOS = PHOTOS + EXTRA_PHOTOS
PHOTO_LICENCES = {
    "china": "CC BY 2.0, danielbuechele on Flickr (scikit-learn sample image china.jpg)",
    "flower": "CC BY 2.0, vultilion on Flickr (scikit-learn sample image flower.jpg)",
}
DEFAULT_PHOTO_LICENCE = "scikit-image data"


def load_photo(name: str) -> np.ndarray:
    """A bundled photo as RGB uint8 ``(H, W, 3)``; grey ones are replicated to three channels."""
    if name not in KNOWN_PHOTOS:
        raise ValueError(f"unknown photo {name!r}; known: {list(KNOWN_PHOTOS)}")
    if name in _EXTRA_PHOTO_LOADERS:
        image = _EXTRA_PHOTO_LOADERS[name]()
    else:
        import skimage.data

        image = np.asarray(getattr(skimage.data, name)())
    if image.ndim == 2:
        image = np.repeat(image[..., np.newaxis], 3, axis=2)
    return np.ascontiguousarray(image[..., :3].astype(np.uint8))


def _camera_path(
    rng: np.random.Generator, frames: int, source_hw: tuple[int, int], out_hw: tuple[int, int]
) -> list[np.ndarray]:
    """One 2x3 affine matrix per frame: pans and zooms, with 0-2 hard cuts to a new framing."""
    src_h, src_w = source_hw
    out_h, out_w = out_hw
    cover = max(out_h / src_h, out_w / src_w)  # the smallest zoom that fills the output
    cut_count = min(frames - 1, int(rng.integers(0, 3)))
    cuts = sorted(rng.choice(np.arange(1, frames), size=cut_count, replace=False).tolist())
    bounds = [0, *cuts, frames]
    matrices: list[np.ndarray] = []
    for start, stop in itertools.pairwise(bounds):
        zoom_a, zoom_b = cover * rng.uniform(1.0, 2.2, size=2)
        centre_a, centre_b = rng.uniform(0.0, 1.0, size=(2, 2))
        length = max(1, stop - start - 1)
        for offset in range(stop - start):
            u = offset / length
            ease = 0.5 - 0.5 * math.cos(math.pi * u)  # camera moves start and stop smoothly
            zoom = zoom_a + (zoom_b - zoom_a) * ease
            centre = centre_a + (centre_b - centre_a) * ease
            view_h, view_w = out_h / zoom, out_w / zoom
            top = centre[0] * max(0.0, src_h - view_h)
            left = centre[1] * max(0.0, src_w - view_w)
            matrices.append(np.array([[zoom, 0.0, -left * zoom], [0.0, zoom, -top * zoom]]))
    return matrices


def render_photo(spec: dict[str, Any]) -> np.ndarray:
    """A photo filmed by a moving camera: ``(frames, height, width, 3)`` uint8.

    ``sensor_noise`` (optional, gaussian sigma in levels) adds fresh noise to every frame, as a
    real camera does. Real near-static shots (a talking head, a locked-off wide shot) change
    from frame to frame mostly by that noise; without it a slow take's eased stop is smoother
    than any real picture, and "the noise stopped" is a cue that only real freezes carry.
    """
    rng = np.random.default_rng(int(spec["seed"]))
    photo = load_photo(str(spec["photo"]))
    height, width, frames = int(spec["height"]), int(spec["width"]), int(spec["frames"])
    sigma = float(spec.get("sensor_noise") or 0.0)
    # Its own stream: the camera path is the same with or without noise.
    noise_rng = np.random.default_rng([int(spec["seed"]), 1])
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for index, matrix in enumerate(_camera_path(rng, frames, photo.shape[:2], (height, width))):
        out[index] = cv2.warpAffine(
            photo, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
        if sigma > 0:
            noise = noise_rng.standard_normal(out[index].shape, dtype=np.float32) * sigma
            out[index] = np.clip(out[index] + noise + 0.5, 0, 255).astype(np.uint8)
    return out


def _smooth_noise(rng: np.random.Generator, height: int, width: int, scale: int) -> np.ndarray:
    """Low-frequency noise in [0, 1]: upsampled random cells, a cheap natural-looking field."""
    cells = rng.random((max(2, height // scale + 2), max(2, width // scale + 2)), dtype=np.float32)
    field = cv2.resize(
        cells, (width + 2 * scale, height + 2 * scale), interpolation=cv2.INTER_CUBIC
    )
    return np.clip(field, 0.0, 1.0)


def _palette(rng: np.random.Generator, count: int) -> np.ndarray:
    hsv = np.stack(
        [rng.integers(0, 180, count), rng.integers(60, 256, count), rng.integers(60, 256, count)],
        axis=1,
    ).astype(np.uint8)
    return cv2.cvtColor(hsv[np.newaxis], cv2.COLOR_HSV2RGB)[0].astype(np.int32)


def render_texture(spec: dict[str, Any]) -> np.ndarray:
    """Drifting fine texture (foliage/gravel-like) over a colour field: busy but uncorrupted."""
    rng = np.random.default_rng(int(spec["seed"]))
    height, width, frames = int(spec["height"]), int(spec["width"]), int(spec["frames"])
    margin = 64
    fine = rng.random((height + 2 * margin, width + 2 * margin), dtype=np.float32)
    fine = cv2.GaussianBlur(fine, (0, 0), rng.uniform(0.6, 2.0))
    fine = (fine - fine.mean()) / max(1e-6, float(fine.std()))
    colours = _palette(rng, 2).astype(np.float32)
    blend = _smooth_noise(rng, height + 2 * margin, width + 2 * margin, 48)
    blend = blend[: height + 2 * margin, : width + 2 * margin, np.newaxis]
    base = colours[0] * blend + colours[1] * (1.0 - blend)
    scene = np.clip(base + 40.0 * fine[..., np.newaxis], 0, 255).astype(np.uint8)
    velocity = rng.uniform(-3.0, 3.0, size=2)
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for index in range(frames):
        dy, dx = (margin + velocity * index) % (2 * margin)
        matrix = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]])
        out[index] = cv2.warpAffine(
            scene, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP
        )
    return out


def _moving_objects(
    spec: dict[str, Any], count: tuple[int, int], size: tuple[int, int], speed: tuple[float, float]
) -> np.ndarray:
    """Objects (discs and boxes) crossing a soft background, each with its own velocity."""
    rng = np.random.default_rng(int(spec["seed"]))
    height, width, frames = int(spec["height"]), int(spec["width"]), int(spec["frames"])
    background = _smooth_noise(rng, height, width, 64)[:height, :width, np.newaxis]
    tint = _palette(rng, 2).astype(np.float32)
    scene = (tint[0] * background + tint[1] * (1.0 - background)).astype(np.uint8)
    n = int(rng.integers(*count))
    position = rng.uniform((0, 0), (height, width), size=(n, 2))
    angle = rng.uniform(0, 2 * math.pi, n)
    velocity = rng.uniform(*speed, size=n)[:, np.newaxis] * np.stack(
        [np.sin(angle), np.cos(angle)], axis=1
    )
    radius = rng.integers(*size, size=n)
    colour = _palette(rng, n)
    is_box = rng.random(n) < 0.5
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for index in range(frames):
        frame = scene.copy()
        where = (position + velocity * index) % (height, width)
        for (y, x), r, c, box in zip(where.astype(int), radius, colour, is_box, strict=True):
            rgb = tuple(int(v) for v in c)
            if box:
                cv2.rectangle(frame, (x - r, y - r), (x + r, y + r), rgb, thickness=-1)
            else:
                cv2.circle(frame, (x, y), int(r), rgb, thickness=-1, lineType=cv2.LINE_AA)
        out[index] = frame
    return out


def render_crowd(spec: dict[str, Any]) -> np.ndarray:
    """Many small independently moving objects: local motion everywhere, a classic false alarm."""
    return _moving_objects(spec, count=(150, 400), size=(2, 7), speed=(0.5, 4.0))


def render_fast_motion(spec: dict[str, Any]) -> np.ndarray:
    """A few large objects moving tens of pixels per frame: abrupt change that is not damage."""
    return _moving_objects(spec, count=(4, 12), size=(16, 60), speed=(12.0, 40.0))


def render_gradient(spec: dict[str, Any]) -> np.ndarray:
    """Smooth slowly shifting gradients: large flat areas, the look-alike of flat-block errors."""
    rng = np.random.default_rng(int(spec["seed"]))
    height, width, frames = int(spec["height"]), int(spec["width"]), int(spec["frames"])
    colours = _palette(rng, 3).astype(np.float32)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    phase = rng.uniform(0, 2 * math.pi, 2)
    speed = rng.uniform(0.02, 0.08, 2)
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for index in range(frames):
        a = 0.5 + 0.5 * np.sin(xx / width * math.pi + phase[0] + speed[0] * index)
        b = 0.5 + 0.5 * np.cos(yy / height * math.pi + phase[1] + speed[1] * index)
        mix = (
            colours[0] * a[..., None]
            + colours[1] * b[..., None]
            + colours[2] * (1 - a * b)[..., None]
        )
        out[index] = np.clip(mix / 2.0, 0, 255).astype(np.uint8)
    return out


KINDS: dict[str, Callable[[dict[str, Any]], np.ndarray]] = {
    "texture": render_texture,
    "crowd": render_crowd,
    "fast_motion": render_fast_motion,
    "gradient": render_gradient,
}


def render(spec: dict[str, Any]) -> np.ndarray:
    """Render a recipe (``kind`` one of :data:`KINDS` or ``"photo"``) to ``(T, H, W, 3)`` uint8."""
    kind = spec.get("kind")
    if kind == "photo":
        return render_photo(spec)
    if kind not in KINDS:
        raise ValueError(f"unknown procedural video kind {kind!r}; known: photo, {list(KINDS)}")
    return KINDS[str(kind)](spec)
