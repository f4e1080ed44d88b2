"""Route choice of ``make sweep``: a W&B server when credentials say so, else the local engine.
The server route is exercised against a stand-in ``wandb`` executable (no network)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from experiments.sweep import main, wandb_server_available

from .conftest import REPO

FAKE_WANDB = """#!/bin/sh
echo "$@" >> "{log}"
[ "$1" = "sweep" ] && echo "wandb: Run sweep agent with: wandb agent me/synthdefects/abc123" >&2
exit 0
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"WANDB_API_KEY": "k"}, True),
        ({"WANDB_API_KEY": "k", "WANDB_MODE": "offline"}, False),
        ({"WANDB_API_KEY": "k", "WANDB_MODE": "disabled"}, False),
    ],
)
def test_server_route_needs_credentials_and_online_mode(monkeypatch, env, expected) -> None:
    for key in ("WANDB_API_KEY", "WANDB_MODE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert wandb_server_available() is expected


def test_server_route_registers_the_spec_and_runs_an_agent(monkeypatch, tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    fake = tmp_path / "bin" / "wandb"
    fake.parent.mkdir()
    fake.write_text(FAKE_WANDB.format(log=log))
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    spec = REPO / "experiments" / "sweeps" / "audio_artifact.yaml"
    assert main([str(spec), "--count", "3", "--route", "wandb"]) == 0
    calls = log.read_text().splitlines()
    assert calls == [
        f"sweep --project synthdefects {spec}",
        "agent --count 3 me/synthdefects/abc123",
    ]


def test_bad_spec_exits_2_with_one_line(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "missing.yaml"), "--route", "local"]) == 2
    assert "missing.yaml: cannot read" in capsys.readouterr().err


def test_override_the_config_refuses_exits_2(capsys) -> None:
    spec = REPO / "experiments" / "sweeps" / "audio_artifact.yaml"
    assert main([str(spec), "--route", "local", "trainer.no_such_key=1"]) == 2
    assert "does not compose" in capsys.readouterr().err
