"""A user's catalogue as a manifest: JSONL or CSV rows naming files, with optional split/licence.

Columns: ``path`` (required; relative paths are taken from the manifest's folder; URLs such as
``s3://bucket/show.mp4`` are fetched once into a local cache), and optional
``id``, ``split`` (train/val/test), ``licence`` (or ``license``), ``group``, ``channel``. Other
columns are kept as metadata. A bad row is reported and skipped; the rest are used.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from impairments import media_io
from impairments.sources.item import SPLITS, SourceItem


class ManifestSource:
    def __init__(self, path: str) -> None:
        self.path = Path(path).expanduser()
        if not self.path.is_file():
            raise media_io.MediaError(self.path, "sources.path is not a manifest file")
        if self.path.suffix.lower() not in {".jsonl", ".csv"}:
            raise media_io.MediaError(self.path, "manifest must be .jsonl or .csv")

    def _rows(self) -> list[tuple[int, Any]]:
        text = self.path.read_text(encoding="utf-8-sig")
        if self.path.suffix.lower() == ".csv":
            return list(enumerate(csv.DictReader(text.splitlines()), start=2))
        rows: list[tuple[int, Any]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    rows.append((number, f"invalid JSON ({error.msg})"))
        return rows

    def items(self) -> tuple[list[SourceItem], list[dict[str, str]]]:
        items: list[SourceItem] = []
        problems: list[dict[str, str]] = []
        seen: set[str] = set()
        for number, row in self._rows():
            where = f"{self.path}:{number}"
            try:
                item = self._item(row)
            except ValueError as error:
                problems.append({"source": where, "reason": str(error)})
                continue
            if item.id in seen:
                problems.append({"source": where, "reason": f"duplicate id {item.id!r}"})
                continue
            seen.add(item.id)
            items.append(item)
        if not items:
            raise media_io.MediaError(self.path, "manifest lists no usable rows")
        return items, problems

    def _item(self, row: Any) -> SourceItem:
        if isinstance(row, str):
            raise ValueError(row)
        if not isinstance(row, dict) or not str(row.get("path") or "").strip():
            raise ValueError("row has no 'path'")
        row = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        text = str(row.pop("path")).strip()
        if "://" in text:  # an object-store or web URL: fetched on first read (media_io)
            return self._item_at(text, text, row)
        file = Path(text).expanduser()
        file = file if file.is_absolute() else (self.path.parent / file)
        return self._item_at(str(file.resolve()), file.as_posix(), row)

    def _item_at(self, location: str, default_id: str, row: dict[str, Any]) -> SourceItem:
        split = (str(row.pop("split", "") or "").strip().lower()) or None
        if split is not None and split not in SPLITS:
            raise ValueError(f"split {split!r} is not one of {SPLITS}")
        channel = row.pop("channel", None)
        licence = row.pop("licence", None) or row.pop("license", None)
        return SourceItem(
            id=str(row.pop("id", "") or "").strip() or default_id,
            path=location,
            channel=int(channel) if channel not in (None, "") else None,
            group=str(row.pop("group", "") or "").strip() or None,
            split=split,
            licence=str(licence) if licence else None,
            meta={k: v for k, v in row.items() if v not in (None, "")},
        )
