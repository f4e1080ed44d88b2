"""A user's catalogue as a folder: every media file under it, recursively."""

from __future__ import annotations

from pathlib import Path

from impairments import media_io
from impairments.sources.item import SourceItem


class FolderSource:
    """Items are the media files under ``path``; ids are paths relative to it (stable, readable)."""

    def __init__(self, path: str, licence: str | None = None) -> None:
        self.root = Path(path).expanduser()
        if not self.root.is_dir():
            raise media_io.MediaError(self.root, "sources.path is not a folder")
        self.licence = licence

    def items(self) -> tuple[list[SourceItem], list[dict[str, str]]]:
        found = [
            SourceItem(
                id=file.relative_to(self.root).as_posix(),
                path=str(file.resolve()),
                licence=self.licence,
            )
            for file in media_io.iter_media_files(self.root)
        ]
        if not found:
            raise media_io.MediaError(
                self.root, f"no media files found (extensions: {sorted(media_io.MEDIA_EXTENSIONS)})"
            )
        return found, []
