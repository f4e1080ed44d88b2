"""Sweep specs: every committed spec passes W&B's schema and names keys train.py has; bad specs
fail before any trial starts, with the file and the problem in the message."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from experiments import import_engine
from experiments.spec import (
    SweepSpecError,
    check_keys_exist,
    load_spec,
    overrides,
    run_values,
    schema_violations,
)

from .conftest import REPO, spec_dict

SPECS = sorted((REPO / "experiments" / "sweeps").glob("*.yaml"))
CONFIG_GROUPS = [p.name for p in (REPO / "conf").iterdir() if p.is_dir()]


def compose_with(overrides_: list[str]):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("train", overrides=overrides_)


def test_there_is_a_spec_per_detector() -> None:
    detectors = {p.stem for p in (REPO / "conf" / "detector").glob("*.yaml")}
    assert {p.stem for p in SPECS} == detectors


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_validates_against_wandb_schema(path: Path) -> None:
    spec = load_spec(path)
    assert schema_violations(spec.config) == []
    assert spec.config["method"] == "bayes"
    assert spec.config["early_terminate"]["type"] == "hyperband"
    assert spec.metric_name == "val/bal_acc" and spec.maximize
    assert len(spec.searched_keys) >= 4


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_spec_keys_exist_in_the_train_config(path: Path) -> None:
    """What a trial would do: compose train.py's config with a suggestion's overrides."""
    sweeps = import_engine()

    spec = load_spec(path)
    suggestion = sweeps.next_run(spec.config, [], validate=True)
    cfg = compose_with(overrides(run_values(suggestion.config)))
    check_keys_exist(spec, cfg, CONFIG_GROUPS)
    assert cfg.detector.name == path.stem


def test_flow_list_command_is_refused(tmp_path: Path) -> None:
    """`[${env}, ...]` parses as mappings in YAML: the spec names the file and the fix."""
    path = tmp_path / "flow.yaml"
    path.write_text(
        "program: train.py\ncommand: [${env}, ${interpreter}, ${program}, ${args_no_hyphens}]\n"
        "method: random\nmetric: {name: val/bal_acc, goal: maximize}\n"
        "parameters: {seed: {values: [1, 2]}}\n"
    )
    with pytest.raises(SweepSpecError, match=r"(?s)flow\.yaml: not valid YAML.*block list"):
        load_spec(path)


def test_schema_errors_name_the_file(write_spec) -> None:
    bad = spec_dict({"+detector.model.dropout": {"values": [0.1]}}, method="annealing")
    with pytest.raises(SweepSpecError, match=r"bad\.yaml: invalid sweep spec") as caught:
        load_spec(write_spec("bad", bad))
    assert "annealing" in str(caught.value)
    assert "+detector.model.dropout" in str(caught.value)


def test_missing_and_non_mapping_specs(tmp_path: Path) -> None:
    with pytest.raises(SweepSpecError, match=r"nowhere\.yaml: cannot read"):
        load_spec(tmp_path / "nowhere.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(SweepSpecError, match=r"list\.yaml: a sweep spec is a mapping"):
        load_spec(tmp_path / "list.yaml")


def test_unknown_key_is_caught_before_any_trial(write_spec) -> None:
    spec = load_spec(write_spec("typo", spec_dict({"detector.model.dropuot": {"values": [0.1]}})))
    with pytest.raises(SweepSpecError, match=r"typo\.yaml: parameters not in .*dropuot"):
        check_keys_exist(spec, compose_with([]), CONFIG_GROUPS)


def test_overrides_are_what_the_wandb_agent_passes() -> None:
    import numpy as np

    values = run_values({"a.lr": {"value": np.float64(0.001)}, "b": {"value": [1, 2]}})
    assert overrides(values) == ["a.lr=0.001", "b=[1, 2]"]
    assert type(values["a.lr"]) is float
