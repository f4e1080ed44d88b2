"""Name -> class: a plain dict filled by a decorator (explicit, greppable, no metaclass)."""

from __future__ import annotations

from typing import Any, TypeVar

from impairments.base import Impairment

_REGISTRY: dict[str, type[Impairment]] = {}
MEDIA_KINDS = ("audio", "video", "av", "all")

T = TypeVar("T", bound=type[Impairment])


def register(cls: T) -> T:
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"impairment name {name!r} is already registered by {_REGISTRY[name]}")
    _REGISTRY[name] = cls
    return cls


def _load_builtin(kind: str = "audio") -> None:
    """Import the built-in impairments on first use, not on ``import impairments``.

    Reading media (``impairments.media_io``) must not pay for pedalboard and scipy.signal: that
    import time is a visible share of ``detect.py``'s start-up. Video impairments (OpenCV, x264
    through PyAV) load only when video ones are asked for, so audio builds do not pay for them.
    """
    import impairments.audio  # (its modules register themselves)

    if kind in ("video", "all"):
        import impairments.video
    if kind in ("av", "all"):
        import impairments.av  # noqa: F401


def names(kind: str = "audio") -> list[str]:
    """Registered impairment names of one media ``kind`` ("audio", "video", "av" or "all"), sorted.

    Audio stays the default so callers written before video existed see the same list.
    """
    if kind not in MEDIA_KINDS:
        raise ValueError(f"impairment kind must be one of {MEDIA_KINDS}, got {kind!r}")
    _load_builtin(kind)
    return sorted(name for name, cls in _REGISTRY.items() if kind in ("all", cls.media))


def get(name: str, **params: Any) -> Impairment:
    """Build a registered impairment: ``get("hum", severity=4, level_db=(-20, -10))``."""
    _load_builtin()
    if name not in _REGISTRY:
        _load_builtin("all")
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise KeyError(
            f"unknown impairment {name!r}; registered: {', '.join(names('all'))}"
        ) from None
    return cls(**params)
