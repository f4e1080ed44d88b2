"""``detect.py detector=block_corruption``: build the per-file analysis for frame-map detectors.

``training.detect.cli`` owns files, folders, reports and errors for every detector; this module
only turns the config (``fps``, ``batch_size``, ``decision``, ``contact_sheet``) and the model
card's defaults into the function that analyses one video.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from training.detect.frame_runtime import FrameMapModel, load_frame_model
from training.detect.frames import analyse_video
from training.detect.runtime import ModelLoadError, report_sidecar


def frame_analyser(
    cfg: Any,
) -> tuple[Callable[[Path, Path | None], dict[str, Any]], FrameMapModel] | str:
    """``(analyse(media, report_path) -> report, model)``, or an error message for a model that
    cannot be loaded or is not this detector."""
    try:
        model = load_frame_model(cfg.checkpoint, cfg.get("runtime", "auto"), cfg.get("threads"))
    except ModelLoadError as error:
        return str(error)
    expected = cfg.detector.name
    if model.card.get("detector") not in (None, expected):
        return f"{cfg.checkpoint}: is a {model.card.get('detector')} model, not {expected}"
    defaults = model.card.get("detect") or {}
    fps = cfg.get("fps") or defaults.get("fps")
    batch = int(cfg.get("batch_size") or defaults.get("batch_size") or 4)
    rule = str(cfg.get("decision") or defaults.get("decision") or "v2")
    sheet = bool(cfg.get("contact_sheet"))

    def analyse(path: Path, report_path: Path | None) -> dict[str, Any]:
        report = analyse_video(
            path,
            model,
            fps=float(fps) if fps else None,
            batch_size=batch,
            rule=rule,
            contact_sheet=report_sidecar(path, report_path, "contact") if sheet else None,
        )
        return {
            "input": str(path),
            "detector": model.card.get("detector"),
            "model": {**model.card, "runtime": model.runtime, "path": model.path},
            **report,
        }

    return analyse, model
