"""Fixtures for the sweep tests: W&B offline and silent, spec files written to tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("WANDB_SILENT", "true")
REPO = Path(__file__).resolve().parents[2]
os.environ.setdefault("PROJECT_ROOT", str(REPO))
FAKE_TRAIN = Path(__file__).with_name("fake_train.py")
COMMAND = ["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"]


def spec_dict(parameters: dict[str, Any], method: str = "grid", **extra: Any) -> dict[str, Any]:
    return {
        "program": "train.py",
        "command": COMMAND,
        "method": method,
        "metric": {"name": "val/bal_acc", "goal": "maximize"},
        "parameters": parameters,
        **extra,
    }


@pytest.fixture
def write_spec(tmp_path: Path):
    def write(name: str, config: dict[str, Any]) -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    return write
