"""Lightning wrapper shared by segment classifiers: steps, loss, metrics, optimiser, fine-tuning.

The network is a plain ``nn.Module`` (``self.net``) passed in, so the same code trains any
backbone and the export never sees Lightning. What a checkpoint needs to be rebuilt without the
training config (the network's Hydra config, classes, sample rate, the dataset-card checksum)
travels in ``hparams``; optimiser and scheduler are ``functools.partial`` objects completed here
and deliberately left out of ``hparams`` so checkpoints load with ``weights_only=True``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch import nn

from training.metrics import ClassificationMetrics
from training.models.pann import SegmentScores

log = logging.getLogger(__name__)


class SegmentClassifierModule(pl.LightningModule):
    """Train/evaluate ``net`` (``batch[input_key] -> SegmentScores``) on ``batch["label"]``.

    Args:
        net: the exported network (frontend + backbone + classifier).
        classes: class names, index order = label index.
        optimizer: partial optimiser (``_partial_: true`` in Hydra), completed with parameters.
        scheduler: optional partial LR scheduler; ``total_steps``/``T_max`` are filled in from
            the trainer when the scheduler takes them; stepped every batch.
        freeze_backbone_epochs: train only the classifier for this many epochs first (backbone
            frozen, its BatchNorm statistics too), then everything: the usual fine-tuning
            schedule for pretrained weights. 0 trains everything from the start.
        label_smoothing: cross-entropy label smoothing.
        model_config: the network's Hydra config as JSON text, stored for export/detect.
        detector: name, sample rate, segment length... stored for the model card.
    """

    input_key = "waveform"

    def __init__(
        self,
        net: nn.Module,
        classes: Sequence[str],
        optimizer: Callable[..., torch.optim.Optimizer],
        scheduler: Callable[..., Any] | None = None,
        freeze_backbone_epochs: int = 0,
        label_smoothing: float = 0.0,
        model_config: str | None = None,
        detector: dict[str, Any] | None = None,
        dataset_card_sha256: str | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["net", "optimizer", "scheduler"], logger=False)
        self.net = net
        self.classes = list(classes)
        self.optimizer_factory = optimizer
        self.scheduler_factory = scheduler
        self.freeze_backbone_epochs = int(freeze_backbone_epochs)
        self.criterion = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        self.val_metrics = ClassificationMetrics(self.classes)
        self.test_metrics = ClassificationMetrics(self.classes)
        self.test_report: dict[str, Any] | None = None
        self._backbone_frozen = False

    # -- model -----------------------------------------------------------------------------------

    def forward(self, inputs: torch.Tensor) -> SegmentScores:
        return self.net(inputs)

    def _set_backbone_frozen(self, frozen: bool) -> None:
        backbone = getattr(self.net, "backbone", None)
        if backbone is None or frozen == self._backbone_frozen:
            return
        for parameter in backbone.parameters():
            parameter.requires_grad_(not frozen)
        self._backbone_frozen = frozen
        backbone.train(not frozen and self.training)
        log.info("backbone %s at epoch %d", "frozen" if frozen else "unfrozen", self.current_epoch)

    def train(self, mode: bool = True) -> SegmentClassifierModule:
        """Keep a frozen backbone's BatchNorm in eval mode: Lightning calls ``train()`` after
        every validation, which would otherwise let frozen statistics drift."""
        super().train(mode)
        if mode and self._backbone_frozen:
            self.net.backbone.eval()
        return self

    def on_train_epoch_start(self) -> None:
        self._set_backbone_frozen(self.current_epoch < self.freeze_backbone_epochs)

    # -- steps -----------------------------------------------------------------------------------

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        logits = self.net(batch[self.input_key]).logits
        loss = self.criterion(logits, batch["label"])
        accuracy = (logits.argmax(-1) == batch["label"]).float().mean()
        size = len(batch["label"])
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        self.log("train/acc", accuracy, on_step=False, on_epoch=True, batch_size=size)
        return loss

    def _eval_step(self, batch: dict[str, Any], metrics: ClassificationMetrics, stage: str) -> None:
        logits = self.net(batch[self.input_key]).logits
        loss = self.criterion(logits, batch["label"])
        metrics.update(logits, batch["label"], batch["severity"])
        # sync_dist: under DDP the epoch loss is the mean over every rank's samples (epoch-level
        # only, so ranks holding one batch more or less never wait on each other mid-epoch).
        size = len(batch["label"])
        self.log(f"{stage}/loss", loss, on_epoch=True, batch_size=size, sync_dist=True)

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._eval_step(batch, self.val_metrics, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._eval_step(batch, self.test_metrics, "test")

    def _log_epoch(self, metrics: ClassificationMetrics, stage: str) -> dict[str, Any]:
        result = metrics.compute()
        metrics.reset()
        scalars = {f"{stage}/{key}": value for key, value in result["scalars"].items()}
        headline = f"{stage}/bal_acc"
        # Synced metric state: the same numbers on every rank; sync_dist only makes that explicit.
        self.log(headline, scalars.pop(headline), prog_bar=True, sync_dist=True)
        self.log_dict(scalars, sync_dist=True)
        return result

    def on_validation_epoch_end(self) -> None:
        result = self._log_epoch(self.val_metrics, "val")
        if not self.trainer.sanity_checking:
            recall = ", ".join(
                f"{k}={v:.3f}" for k, v in result["report"]["per_class_recall"].items()
            )
            log.info(
                "epoch %d: val/bal_acc=%.4f (%s)",
                self.current_epoch,
                result["scalars"]["bal_acc"],
                recall,
            )

    def on_test_epoch_end(self) -> None:
        result = self._log_epoch(self.test_metrics, "test")
        self.test_report = result["report"]
        if self.trainer.is_global_zero and not self.trainer.sanity_checking:
            self._save_confusion(result["confusion"], "test")

    def _save_confusion(self, confusion: torch.Tensor, stage: str) -> None:
        from training.plots import save_confusion_matrix

        path = Path(self.trainer.default_root_dir) / "plots" / f"confusion_{stage}.png"
        save_confusion_matrix(confusion.numpy(), self.classes, path, title=f"{stage} confusion")
        self.test_report = {**(self.test_report or {}), "confusion_png": str(path)}
        for logger in self.loggers:
            if hasattr(logger, "log_image"):  # W&B
                logger.log_image(key=f"{stage}/confusion_matrix", images=[str(path)])

    # -- optimisation ----------------------------------------------------------------------------

    def configure_optimizers(self) -> Any:
        optimizer = self.optimizer_factory(params=self.parameters())
        if self.scheduler_factory is None:
            return optimizer
        factory = self.scheduler_factory
        target = factory.func if isinstance(factory, partial) else factory
        accepted = inspect.signature(target).parameters
        given = factory.keywords if isinstance(factory, partial) else {}
        steps = max(2, int(self.trainer.estimated_stepping_batches))
        extra = {k: steps for k in ("total_steps", "T_max") if k in accepted and k not in given}
        scheduler = factory(optimizer=optimizer, **extra)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    # -- checkpoint metadata ---------------------------------------------------------------------

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["detector"] = dict(self.hparams.get("detector") or {})
        checkpoint["model_config"] = self.hparams.get("model_config")
        checkpoint["dataset_card_sha256"] = self.hparams.get("dataset_card_sha256")
