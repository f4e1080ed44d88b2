"""Block-corruption detector: frames -> corruption map (v1 decision) + learned frame decision (v2).

What is shared with the segment classifiers comes from ``SegmentClassifierModule``: optimiser and
scheduler completion, backbone freezing for pretrained fine-tuning, checkpoint metadata. This
class adds what is specific: the joint loss, the map and frame metrics, and the test figures.

Loss = ``map_loss_weight`` x BCE(map, pooled mask) + ``frame_loss_weight`` x BCE(v2 logit, label).
The map target is, by default, the **soft** fraction of corrupted pixels in each 32x32 cell
(``map_target=soft``): BCE with soft targets is minimised by predicting that fraction, so the map
is a calibrated per-cell corruption estimate, a cell with one corrupted macroblock out of four
still pulls its output up (a hard ``> 0.5`` target would call it clean and teach the trunk to
ignore small damage, which v2 needs to see), and the v1 area ratio stays an estimate of the true
corrupted area. ``majority`` (>= 0.5) and ``any`` (> 0) are there for comparison.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from training.detectors.segment_classifier import SegmentClassifierModule
from training.metrics import BINARY_CLASSES, BlockCorruptionMetrics
from training.models.block_map import BlockMapOutputs, pool_mask_to_map

log = logging.getLogger(__name__)

MAP_TARGETS = ("soft", "majority", "any")


class OverlayCollector:
    """A few test samples per kind (corrupted, hard negative, clean) for the overlay figure."""

    def __init__(self, per_kind: int) -> None:
        self.per_kind = int(per_kind)
        self.rows: dict[str, list[dict[str, Any]]] = {
            "corrupted": [],
            "hard negative": [],
            "clean": [],
        }

    def add(
        self,
        batch: dict[str, Any],
        outputs: BlockMapOutputs,
        v1: Any,
        v2: Any,
        groups: Sequence[str],
    ) -> None:
        for i in range(len(batch["label"])):
            if int(batch["label"][i]):
                kind = "corrupted"
            elif bool(batch["hard_negative"][i]):
                kind = "hard negative"
            else:
                kind = "clean"
            if len(self.rows[kind]) >= self.per_kind:
                continue
            self.rows[kind].append(
                {
                    "frame": batch["frames"][i].cpu().numpy(),
                    "mask": batch["mask"][i].cpu().numpy(),
                    # float(): bf16 under mixed precision, which numpy cannot hold
                    "map": outputs.corruption_map[i].detach().float().cpu().numpy(),
                    "title": (
                        f"{groups[int(batch['group'][i])]}"
                        f" | true {BINARY_CLASSES[int(batch['label'][i])]}"
                        f" | v1 {'C' if v1[i] else '-'} area {float(outputs.area_ratio[i]):.2f}"
                        f" | v2 {'C' if v2[i] else '-'} p {float(outputs.frame_score[i]):.2f}"
                    ),
                }
            )

    def samples(self) -> list[dict[str, Any]]:
        return [row for rows in self.rows.values() for row in rows]


class BlockCorruptionDetector(SegmentClassifierModule):
    """Train/evaluate a ``BlockMapModel`` on ``batch["frames"]``, ``["mask"]`` and ``["label"]``.

    Args (beyond ``SegmentClassifierModule``'s):
        groups: evaluation group names (impairments, hard negatives, ``clean``, ``other``), the
            same list the sample map indexes.
        map_target: ``soft`` | ``majority`` | ``any`` (see the module docstring).
        map_loss_weight, frame_loss_weight: the joint loss's weights.
        overlay_samples: test samples drawn in the overlay figure per kind (0: none).
    """

    input_key = "frames"

    def __init__(
        self,
        *args: Any,
        classes: Sequence[str] = BINARY_CLASSES,
        groups: Sequence[str] = ("clean", "other"),
        map_target: str = "soft",
        map_loss_weight: float = 1.0,
        frame_loss_weight: float = 1.0,
        overlay_samples: int = 4,
        **kwargs: Any,
    ) -> None:
        if list(classes) != list(BINARY_CLASSES):
            raise ValueError(f"classes must be {list(BINARY_CLASSES)}, got {list(classes)}")
        if map_target not in MAP_TARGETS:
            raise ValueError(f"map_target must be one of {MAP_TARGETS}, got {map_target!r}")
        super().__init__(*args, classes=classes, **kwargs)
        self.groups = list(groups)
        self.map_target = map_target
        self.map_loss_weight = float(map_loss_weight)
        self.frame_loss_weight = float(frame_loss_weight)
        self.overlay_samples = int(overlay_samples)
        self.val_metrics = BlockCorruptionMetrics(self.groups)
        self.test_metrics = BlockCorruptionMetrics(self.groups)
        self._overlays: OverlayCollector | None = None

    # -- loss ------------------------------------------------------------------------------------

    def map_targets(self, mask: torch.Tensor, map_shape: tuple[int, int]) -> torch.Tensor:
        fraction = pool_mask_to_map(mask, map_shape)
        if self.map_target == "majority":
            return (fraction >= 0.5).to(fraction.dtype)
        if self.map_target == "any":
            return (fraction > 0).to(fraction.dtype)
        return fraction

    def _forward_and_loss(
        self, batch: dict[str, Any]
    ) -> tuple[BlockMapOutputs, torch.Tensor, dict[str, torch.Tensor]]:
        outputs: BlockMapOutputs = self.net(batch["frames"])
        map_shape = tuple(outputs.corruption_map_logits.shape[-2:])
        target = self.map_targets(batch["mask"], map_shape)  # type: ignore[arg-type]
        map_loss = F.binary_cross_entropy_with_logits(outputs.corruption_map_logits, target)
        frame_loss = F.binary_cross_entropy_with_logits(
            outputs.frame_logit, batch["label"].to(outputs.frame_logit.dtype)
        )
        loss = self.map_loss_weight * map_loss + self.frame_loss_weight * frame_loss
        return outputs, loss, {"map_loss": map_loss, "frame_loss": frame_loss}

    # -- steps -----------------------------------------------------------------------------------

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        outputs, loss, parts = self._forward_and_loss(batch)
        size = len(batch["label"])
        _, v2 = self.net.decisions(outputs)
        accuracy = (v2.long() == batch["label"]).float().mean()
        self.log("train/loss", loss, prog_bar=True, batch_size=size)
        for name, value in parts.items():
            self.log(f"train/{name}", value, on_step=False, on_epoch=True, batch_size=size)
        self.log("train/acc", accuracy, on_step=False, on_epoch=True, batch_size=size)
        return loss

    def _eval_step(self, batch: dict[str, Any], metrics: Any, stage: str) -> None:  # type: ignore[override]
        outputs, loss, parts = self._forward_and_loss(batch)
        v1, v2 = self.net.decisions(outputs)
        threshold = float(self.net.map_threshold)
        fraction = pool_mask_to_map(batch["mask"], tuple(outputs.corruption_map.shape[-2:]))
        metrics.update(
            v1=v1,
            v2=v2,
            score=outputs.frame_score,
            label=batch["label"],
            group=batch["group"],
            hard_negative=batch["hard_negative"],
            severity=batch["severity"],
            area_predicted=outputs.area_ratio,
            area_true=batch["mask"].float().mean(dim=(1, 2)),
            map_predicted=outputs.corruption_map > threshold,
            map_true=fraction >= threshold,
        )
        size = len(batch["label"])
        # sync_dist: the epoch means over every rank's samples (see SegmentClassifierModule).
        self.log(f"{stage}/loss", loss, on_epoch=True, batch_size=size, sync_dist=True)
        for name, value in parts.items():
            self.log(f"{stage}/{name}", value, on_epoch=True, batch_size=size, sync_dist=True)
        if stage == "test" and self._overlays is not None:
            self._overlays.add(batch, outputs, v1, v2, self.groups)

    def _log_epoch(self, metrics: Any, stage: str) -> dict[str, Any]:  # type: ignore[override]
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
            report = result["report"]
            log.info(
                "epoch %d: val/bal_acc=%.4f (v1 %.4f, map IoU %.3f, area MAE %.4f)",
                self.current_epoch,
                report["bal_acc"],
                report["v1"]["bal_acc"],
                report["map"]["iou"],
                report["area_ratio_mae"],
            )

    def on_test_epoch_start(self) -> None:
        self._overlays = OverlayCollector(self.overlay_samples) if self.overlay_samples else None

    def on_test_epoch_end(self) -> None:
        result = self._log_epoch(self.test_metrics, "test")
        self.test_report = result["report"]
        if self.trainer.is_global_zero and not self.trainer.sanity_checking:
            self._save_test_figures()

    # -- figures ---------------------------------------------------------------------------------

    def _save_test_figures(self) -> None:
        from training.plots import save_confusion_matrix, save_map_overlays

        assert self.test_report is not None
        plots = Path(self.trainer.default_root_dir) / "plots"
        images: dict[str, str] = {}
        for decision in ("v1", "v2"):
            matrix = self.test_report[decision]["confusion_matrix"]["rows_true_cols_pred"]
            path = plots / f"confusion_test_{decision}.png"
            title = f"test confusion, {decision}"
            save_confusion_matrix(torch.tensor(matrix).numpy(), BINARY_CLASSES, path, title=title)
            self.test_report[decision]["confusion_png"] = str(path)
            images[f"test/confusion_matrix_{decision}"] = str(path)
        samples = self._overlays.samples() if self._overlays else []
        if samples:
            path = save_map_overlays(samples, plots / "overlays_test.png")
            self.test_report["overlays_png"] = str(path)
            images["test/overlays"] = str(path)
        for logger in self.loggers:
            if hasattr(logger, "log_image"):  # W&B
                for key, path in images.items():
                    logger.log_image(key=key, images=[path])
