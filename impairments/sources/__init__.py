"""Pristine sources: where clean content comes from (built-in, a folder, or a manifest).

Each source class offers ``items() -> (items, problems)``; problems are rows or entries that
could not become items, reported in the dataset card rather than stopping the build.
"""

from impairments.sources.builtin import BuiltinSource
from impairments.sources.folder import FolderSource
from impairments.sources.item import SPLITS, SourceItem, load_audio
from impairments.sources.manifest import ManifestSource
from impairments.sources.splits import assign_splits, unit_hash

__all__ = [
    "SPLITS",
    "BuiltinSource",
    "FolderSource",
    "ManifestSource",
    "SourceItem",
    "assign_splits",
    "load_audio",
    "unit_hash",
]
