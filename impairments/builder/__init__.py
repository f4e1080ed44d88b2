"""Dataset builder: source items -> plan -> impaired samples -> atomic WebDataset shards -> card.

The plan is computed up front from the config, the seed and the probed sources; each shard is
then rendered independently from its slice of the plan, so its bytes never depend on how many
workers ran or in which order they finished.

Evaluations that need a dataset's pictures (the shards of the ``freeze`` dataset hold features,
not frames) re-render planned samples: ``iter_planned_clips(["dataset=freeze"], "test")`` yields
every test clip at full resolution with its labels and JSON record, and ``render_freeze_clip``
re-creates one planned sample (both in :mod:`impairments.builder.freeze_render`).
"""

from typing import Any

_LAZY = {"iter_planned_clips", "render_freeze_clip"}


def __getattr__(name: str) -> Any:
    # Lazy: importing the builder package must not load the video stack for audio builds.
    if name in _LAZY:
        from impairments.builder import freeze_render

        return getattr(freeze_render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
