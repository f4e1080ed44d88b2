"""Train a detector: ``python train.py detector=audio_artifact`` (see conf/train.yaml).

Compose -> seed -> instantiate data, network, Lightning module, loggers, callbacks, trainer ->
fit -> test the best checkpoint -> write metrics.json -> export -> return the optimised metric
(what a Hydra sweeper maximises). W&B is closed on every path out, errors included.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parent))
os.environ.setdefault("WANDB_MODE", "offline")

import hydra
import pytorch_lightning as pl
from omegaconf import DictConfig, OmegaConf

from training.checkpoints import warm_start
from training.export import export_checkpoint
from training.logging_utils import (
    finish_wandb,
    instantiate_callbacks,
    instantiate_loggers,
    log_hyperparameters,
)

log = logging.getLogger("train")


def detector_info(cfg: DictConfig) -> dict[str, Any]:
    keys = (
        "name",
        "classes",
        "groups",
        "sample_rate",
        "segment_s",
        "segment_samples",
        "detect",
        "feature_version",
    )
    info = {k: cfg.detector[k] for k in keys if k in cfg.detector}
    return OmegaConf.to_container(OmegaConf.create(info), resolve=True)  # type: ignore[return-value]


def train(cfg: DictConfig) -> dict[str, Any]:
    if cfg.get("init_from_required") and not cfg.get("init_from"):
        # (An experiment cannot say `init_from: ???`: Hydra's merge keeps train.yaml's null.)
        raise ValueError(
            "this experiment continues an earlier run: give init_from=<its checkpoint .ckpt>"
        )
    pl.seed_everything(cfg.seed, workers=True)
    output_dir = Path(cfg.paths.output_dir)
    datamodule = hydra.utils.instantiate(cfg.detector.data)
    _check_expected_data(cfg, datamodule)
    net = hydra.utils.instantiate(cfg.detector.model)
    if cfg.get("init_from"):
        source = warm_start(net, cfg.init_from)
        log.info(
            "warm start from %s (epoch %s, step %s)",
            source["checkpoint"],
            source["epoch"],
            source["global_step"],
        )
    module = hydra.utils.instantiate(
        cfg.detector.module,
        net=net,
        # JSON text, so Hydra does not instantiate it; the checkpoint needs it to rebuild the net.
        model_config=json.dumps(OmegaConf.to_container(cfg.detector.model, resolve=True)),
        detector=detector_info(cfg),
        dataset_card_sha256=datamodule.card_sha256,
        _convert_="all",  # plain lists/dicts in hparams: checkpoints load with weights_only=True
    )
    loggers = instantiate_loggers(cfg.get("logger"))
    callbacks = instantiate_callbacks(cfg.get("callbacks"), with_logger=bool(loggers))
    trainer: pl.Trainer = hydra.utils.instantiate(
        cfg.trainer, callbacks=callbacks, logger=loggers or False
    )
    log_hyperparameters(loggers, cfg, datamodule.card_sha256, module, datamodule.extra_train_cards)

    metrics: dict[str, Any] = {}
    best = cfg.get("ckpt_path")
    if cfg.train:
        trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.get("ckpt_path"))
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        best = trainer.checkpoint_callback.best_model_path if trainer.checkpoint_callback else None
        if not best:  # no checkpoint callback, or fast_dev_run: keep the weights we have
            best = str(output_dir / "checkpoints" / "final.ckpt")
            trainer.save_checkpoint(best)
    log.info("best checkpoint: %s", best)

    if cfg.test:
        trainer.test(module, datamodule=datamodule, ckpt_path=best, weights_only=True)
        metrics.update({k: float(v) for k, v in trainer.callback_metrics.items()})
        report = {
            **(module.test_report or {}),
            "checkpoint": best,
            "dataset_card_sha256": datamodule.card_sha256,
            "run_dir": str(output_dir),
        }
        # Under DDP every rank holds the same report (metric states are synced), one writes it.
        if trainer.is_global_zero:
            (output_dir / "metrics.json").write_text(json.dumps(report, indent=2) + "\n")
        metrics["test_report"] = report
        log.info(
            "test/bal_acc = %.4f (metrics: %s)", report["bal_acc"], output_dir / "metrics.json"
        )

    if cfg.export and best and trainer.is_global_zero:
        export_dir = Path(cfg.paths.export_dir) / cfg.detector.name / cfg.run_name
        export_checkpoint(best, export_dir, metrics=metrics.get("test_report"))
        metrics["export_dir"] = str(export_dir)
        log.info("exported to %s", export_dir)
    return metrics


def _check_expected_data(cfg: DictConfig, datamodule: Any) -> None:
    """Warn when the shards are not the ones an experiment's numbers were measured on.

    ``expected_content_sha256`` pins the shard bytes (stable across machines, executors and
    commits); ``expected_card_sha256`` pins the whole card (also config, versions, git commit).
    """
    content = cfg.get("expected_content_sha256")
    card = cfg.get("expected_card_sha256")
    if not (content or card):
        return
    from training.data.card import DatasetCard

    actual = DatasetCard.load(datamodule.card_path).content_sha256
    if content and content != actual:
        log.warning(
            "dataset shards %s are not the %s this experiment was measured on: expect other "
            "numbers",
            actual,
            content,
        )
    elif card and not content and card != datamodule.card_sha256:
        log.warning(
            "dataset card %s is not the %s this experiment was measured on: expect other numbers",
            datamodule.card_sha256,
            card,
        )


@hydra.main(
    version_base="1.3", config_path=str(Path(__file__).parent / "conf"), config_name="train"
)
def main(cfg: DictConfig) -> float | None:
    try:
        metrics = train(cfg)
    finally:
        finish_wandb()
    value = metrics.get(cfg.get("optimized_metric") or "")
    return float(value) if value is not None else None


if __name__ == "__main__":
    main()
