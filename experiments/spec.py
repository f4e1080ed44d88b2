"""Load and check a W&B sweep spec, and turn a suggested run into ``train.py`` overrides.

The spec is W&B's own format so the very same file drives a W&B server and the local engine; the
checks here catch, before any run starts, what would otherwise fail in every run of a sweep: a
schema error, a program other than ``train.py``, or a parameter key the Hydra config lacks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REQUIRED_COMMAND = ["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"]


class SweepSpecError(ValueError):
    """A sweep spec that cannot run; the message names the file and the problem."""


@dataclass(frozen=True)
class SweepSpec:
    path: Path
    config: dict[str, Any]

    @property
    def name(self) -> str:
        """The results folder name: the file stem (``audio_artifact``)."""
        return self.path.stem

    @property
    def metric_name(self) -> str:
        return str(self.config["metric"]["name"])

    @property
    def maximize(self) -> bool:
        return self.config["metric"].get("goal", "minimize") == "maximize"

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return self.config.get("parameters", {})

    @property
    def searched_keys(self) -> list[str]:
        """Parameters the engine chooses (constants, ``{value: x}``, are fixed settings)."""
        return [k for k, v in self.parameters.items() if "value" not in v]


def schema_violations(config: Mapping[str, Any]) -> list[str]:
    """W&B's own schema check (the one ``wandb sweep`` runs), plus what ``train.py`` needs."""
    from experiments import import_engine

    problems = list(import_engine().schema_violations_from_proposed_config(dict(config)))
    if Path(str(config.get("program", ""))).name != "train.py":
        problems.append(f"program must be train.py, got {config.get('program')!r}")
    if config.get("command") != REQUIRED_COMMAND:
        problems.append(
            f"command must be the block list {REQUIRED_COMMAND} (Hydra overrides), "
            f"got {config.get('command')!r}"
        )
    for key in config.get("parameters", {}):
        if key.startswith("-") or " " in key:
            problems.append(f"parameter {key!r} is not a dotted Hydra key")
    return problems


def load_spec(path: str | Path) -> SweepSpec:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as error:
        raise SweepSpecError(f"{path}: cannot read the sweep spec ({error.strerror})") from error
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        hint = (
            "; write `command:` as a block list (`- ${env}` lines): in a flow list `[...]` "
            "YAML reads `${` as a mapping"
            if "${" in text
            else ""
        )
        raise SweepSpecError(f"{path}: not valid YAML ({error}){hint}") from error
    if not isinstance(config, dict):
        raise SweepSpecError(f"{path}: a sweep spec is a mapping, got {type(config).__name__}")
    problems = schema_violations(config)
    if problems:
        raise SweepSpecError(f"{path}: invalid sweep spec: " + "; ".join(problems))
    return SweepSpec(path=path, config=config)


def plain(value: Any) -> Any:
    """numpy scalars from the engine -> Python numbers, so overrides and CSV read naturally."""
    return value.item() if hasattr(value, "item") else value


def run_values(run_config: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``{key: {"value": v}}`` (a W&B run config) -> ``{key: v}``."""
    return {key: plain(entry["value"]) for key, entry in run_config.items()}


def overrides(values: Mapping[str, Any]) -> list[str]:
    """What W&B's agent puts in ``${args_no_hyphens}``: ``key=str(value)``, same order."""
    return [f"{key}={value}" for key, value in values.items()]


def check_keys_exist(spec: SweepSpec, config: Any, config_groups: Iterable[str] = ()) -> None:
    """Fail fast if a parameter names a key the composed Hydra config does not have.

    Config group choices (``experiment``, ``trainer``) are not keys of the composed config and
    are skipped, as are keys starting with ``+`` (they add entries).
    """
    from omegaconf import OmegaConf

    groups = set(config_groups)
    missing = [
        key
        for key in spec.parameters
        if key not in groups
        and not key.startswith("+")
        and OmegaConf.select(config, key.lstrip("~"), default=KeyError) is KeyError
    ]
    if missing:
        raise SweepSpecError(
            f"{spec.path}: parameters not in the train.py config: {', '.join(missing)}"
        )
