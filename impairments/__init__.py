"""Impairment library: seeded, severity-graded defects that return their own ground truth.

Usage::

    import impairments
    impaired, annotation = impairments.get("hum", severity=3)(audio, sample_rate=32000, seed=7)
"""

from impairments.base import Annotation, Impairment
from impairments.registry import get, names, register

__all__ = ["Annotation", "Impairment", "get", "names", "register"]
