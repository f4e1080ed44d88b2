"""Hyperparameter sweeps for every detector: one W&B sweep spec, three ways to run it.

``experiments/sweeps/<detector>.yaml`` is a W&B sweep spec in W&B's own format. It runs on a W&B
server (``wandb sweep`` + ``wandb agent``), or locally with the same open-source engine the server
uses (``python -m experiments.sweep``), and Hydra's Optuna sweeper covers the same search from
``conf/hparams_search/``. Every route leaves the same results files (``experiments.results``).
"""

import warnings
from types import ModuleType


def import_engine() -> ModuleType:
    """W&B's sweep engine (``sweeps``), imported lazily: it is installed by ``make sweep-engine``
    and pulls in scikit-learn. Its pydantic-v1 config key, renamed in pydantic 2, warns on import:
    harmless noise, silenced here only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Valid config keys have changed in V2")
        import sweeps
    return sweeps
