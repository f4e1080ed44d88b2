"""Stands in for train.py in the runner's fast tests: the same command line, the same files.

Reads ``key=value`` overrides; writes ``<hydra.run.dir>/csv/metrics.csv`` one epoch at a time
(``val/bal_acc`` = ``quality`` - 0.1 / epoch) and a W&B-like ``wandb/offline-run-<name>`` dir.
``crash=True`` raises after the first epoch, as a broken trial would. Stdlib only: starts fast.
"""

import sys
import time
from pathlib import Path

args = dict(a.split("=", 1) for a in sys.argv[1:] if "=" in a)
run_dir = Path(args["hydra.run.dir"])
(run_dir / "wandb" / f"offline-run-{args['run_name']}").mkdir(parents=True)
epochs = int(args.get("epochs", 3))
quality = float(args.get("quality", 0.5))
delay = float(args.get("delay", 0.0))
metrics = run_dir / "csv" / "metrics.csv"
metrics.parent.mkdir(parents=True, exist_ok=True)
rows = ["epoch,step,train/loss,val/bal_acc"]
for epoch in range(epochs):
    rows.append(f"{epoch},{epoch * 10},1.0,")
    rows.append(f"{epoch},{epoch * 10},,{quality - 0.1 / (epoch + 1):.4f}")
    metrics.write_text("\n".join(rows) + "\n")
    if args.get("crash") == "True":
        raise RuntimeError("boom: this trial crashed on purpose")
    time.sleep(delay)
