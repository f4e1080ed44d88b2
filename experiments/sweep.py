"""``make sweep SWEEP=experiments/sweeps/<detector>.yaml COUNT=n``: one spec, two engines.

With W&B credentials and a server (``WANDB_API_KEY`` set, ``WANDB_MODE`` not offline/disabled)
the spec goes to the server (``wandb sweep``) and ``wandb agent`` runs the trials; otherwise the
same spec runs here with the server's open-source engine (``experiments.local_sweep``).
``--route`` forces one. Extra ``key=value`` arguments are Hydra overrides added to every local
trial (e.g. ``paths.data_dir=...``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

from hydra.errors import HydraException

from experiments.local_sweep import run_local_sweep
from experiments.spec import SweepSpecError, check_keys_exist, load_spec
from experiments.trial import REPO


def wandb_server_available() -> bool:
    mode = os.environ.get("WANDB_MODE", "").lower()
    return bool(os.environ.get("WANDB_API_KEY")) and mode not in {"offline", "disabled", "dryrun"}


def run_on_wandb_server(spec_path: Path, count: int, project: str) -> int:
    """``wandb sweep`` registers the spec; ``wandb agent`` runs ``count`` trials from here."""
    created = subprocess.run(
        ["wandb", "sweep", "--project", project, str(spec_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    sys.stderr.write(created.stderr)
    found = re.search(r"wandb agent (\S+)", created.stdout + created.stderr)
    if created.returncode != 0 or not found:
        print(f"{spec_path}: wandb sweep failed (exit {created.returncode})", file=sys.stderr)
        return created.returncode or 1
    env = {**os.environ, "WANDB_MODE": "online"}  # train.py defaults to offline otherwise
    return subprocess.run(
        ["wandb", "agent", "--count", str(count), found.group(1)], cwd=REPO, env=env
    ).returncode


def compose_train_config(overrides: list[str]):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        return compose("train", overrides=overrides)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.sweep", description=__doc__)
    parser.add_argument("spec", type=Path, help="experiments/sweeps/<detector>.yaml")
    parser.add_argument("--count", type=int, default=8, help="number of trials")
    parser.add_argument("--route", choices=["auto", "wandb", "local"], default="auto")
    parser.add_argument("--seed", type=int, default=0, help="seeds the local engine")
    parser.add_argument("--project", default="synthdefects", help="W&B project (server route)")
    parser.add_argument("--results", type=Path, default=REPO / "experiments" / "results")
    parser.add_argument("--runs", type=Path, default=REPO / "logs" / "sweeps", help="trial dirs")
    parser.add_argument("--card", type=Path, help="dataset card whose checksum best.yaml records")
    parser.add_argument("--run-timeout", type=float, help="seconds before a trial counts failed")
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every local trial")
    args = parser.parse_intermixed_args(argv)
    os.environ.setdefault("PROJECT_ROOT", str(REPO))
    try:
        spec = load_spec(args.spec)
        route = args.route
        if route == "auto":
            route = "wandb" if wandb_server_available() else "local"
        if route == "wandb":
            return run_on_wandb_server(args.spec, args.count, args.project)
        constants = [f"{k}={v['value']}" for k, v in spec.parameters.items() if "value" in v]
        groups = [p.name for p in (REPO / "conf").iterdir() if p.is_dir()]
        check_keys_exist(spec, compose_train_config([*constants, *args.overrides]), groups)
    except SweepSpecError as error:
        print(error, file=sys.stderr)
        return 2
    except HydraException as error:  # an override the config refuses: every trial would fail
        print(f"{args.spec}: the trial config does not compose: {error}", file=sys.stderr)
        return 2
    out_dir = run_local_sweep(
        spec,
        args.count,
        results_root=args.results,
        runs_root=args.runs,
        extra_overrides=args.overrides,
        seed=args.seed,
        card_path=args.card,
        run_timeout_s=args.run_timeout,
    )
    print(f"results: {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
