"""Name -> class: a plain dict filled by a decorator (explicit, greppable, no metaclass)."""

from __future__ import annotations

from typing import Any, TypeVar

from impairments.base import Impairment

_REGISTRY: dict[str, type[Impairment]] = {}

T = TypeVar("T", bound=type[Impairment])


def register(cls: T) -> T:
    name = cls.name
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"impairment name {name!r} is already registered by {_REGISTRY[name]}")
    _REGISTRY[name] = cls
    return cls


def _load_builtin() -> None:
    """Import the built-in impairments on first use, not on ``import impairments``.

    Reading media (``impairments.media_io``) must not pay for pedalboard and scipy.signal: that
    import time is a visible share of ``detect.py``'s start-up.
    """
    import impairments.audio  # noqa: F401  (its modules register themselves)


def names() -> list[str]:
    """Registered impairment names, sorted."""
    _load_builtin()
    return sorted(_REGISTRY)


def get(name: str, **params: Any) -> Impairment:
    """Build a registered impairment: ``get("hum", severity=4, level_db=(-20, -10))``."""
    _load_builtin()
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown impairment {name!r}; registered: {', '.join(names())}") from None
    return cls(**params)
