"""One rank of the DDP data probe (run by ``test_ddp.py`` under ``torch.distributed.run``).

Each rank builds the shared ``WebDatasetDataModule`` on a tiny build, iterates the val and test
loaders as a DDP rank would, and writes ``<out>/rank<r>.json`` with the sample keys it saw, its
batch count next to the loader's announced length, and the test metrics computed with synced
state from predictions that depend only on the sample key (so a 1-process run must match).

Usage: ``python -m torch.distributed.run --nproc-per-node=2 ddp_rank_probe.py SHARDS CARD OUT``.
"""

from __future__ import annotations

import json
import sys
import zlib
from pathlib import Path
from typing import Any

import torch

from training.data.webdataset_module import WebDatasetDataModule
from training.metrics import ClassificationMetrics

CLASSES = ["none", "hum", "hiss", "distortion", "clicks"]


def key_label_severity(sample: dict[str, Any]) -> dict[str, Any]:
    """The probe's sample map: no audio decoding, only what the metrics and the test need."""
    meta = sample["json"]
    return {"key": sample["__key__"], "label": meta["label_index"], "severity": meta["severity"]}


def as_lists(batch: list[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [sample[name] for sample in batch] for name in batch[0]}


def key_logits(keys: list[str]) -> torch.Tensor:
    """Deterministic fake scores: the predicted class is a hash of the key."""
    predicted = torch.tensor([zlib.crc32(key.encode()) % len(CLASSES) for key in keys])
    return torch.nn.functional.one_hot(predicted, len(CLASSES)).float()


def probe(shard_dir: str, card_path: str, num_workers: int) -> dict[str, Any]:
    datamodule = WebDatasetDataModule(
        shard_dir,
        card_path,
        sample_map=key_label_severity,
        decoders=(),
        collate_fn=as_lists,
        eval_batch_size=4,
        num_workers=num_workers,
    )
    datamodule.setup()
    result: dict[str, Any] = {}
    metrics = ClassificationMetrics(CLASSES)
    for split, loader in (
        ("val", datamodule.val_dataloader()),
        ("test", datamodule.test_dataloader()),
    ):
        keys: list[str] = []
        batches = 0
        for batch in loader:
            batches += 1
            keys += batch["key"]
            if split == "test":
                metrics.update(
                    key_logits(batch["key"]),
                    torch.tensor(batch["label"]),
                    torch.tensor(batch["severity"]),
                )
        result[split] = {"keys": keys, "batches": batches, "announced_batches": len(loader)}
    report = metrics.compute()["report"]  # collective under DDP: every rank's samples
    result["test_report"] = report
    return result


def main() -> None:
    shard_dir, card_path, out = sys.argv[1:4]
    num_workers = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    torch.distributed.init_process_group("gloo")
    rank = torch.distributed.get_rank()
    result = probe(shard_dir, card_path, num_workers)
    result["world"] = torch.distributed.get_world_size()
    Path(out, f"rank{rank}.json").write_text(json.dumps(result))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
