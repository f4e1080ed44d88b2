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


def names() -> list[str]:
    """Registered impairment names, sorted."""
    return sorted(_REGISTRY)


def get(name: str, **params: Any) -> Impairment:
    """Build a registered impairment: ``get("hum", severity=4, level_db=(-20, -10))``."""
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown impairment {name!r}; registered: {', '.join(names())}") from None
    return cls(**params)
