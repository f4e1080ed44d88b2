"""The shared WebDataset datamodule (exact epochs, worker splitting) and the metrics."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from training.data.audio_decode import AudioSegmentSample, WaveformAugment
from training.data.card import DatasetCard
from training.data.webdataset_module import WebDatasetDataModule, find_shards
from training.metrics import ClassificationMetrics


def datamodule(build: Path, workers: int, **kwargs: object) -> WebDatasetDataModule:
    return WebDatasetDataModule(
        shard_dir=str(build / "data" / "shards" / "audio_artifact"),
        card_path=str(build / "data_manifests" / "audio_artifact.card.json"),
        sample_map=AudioSegmentSample(),
        batch_size=16,
        eval_batch_size=16,
        num_workers=workers,
        shuffle_buffer=8,
        **kwargs,
    )


@pytest.mark.parametrize("workers", [0, 2])
def test_epoch_is_exact_and_complete(tiny_build: Path, workers: int) -> None:
    """Every sample once per epoch, and len(loader) = batches actually yielded (shards are
    dealt to workers, each worker ends with its own partial batch)."""
    data = datamodule(tiny_build, workers, train_transform=WaveformAugment())
    data.setup()
    for split, loader in (("train", data.train_dataloader()), ("val", data.val_dataloader())):
        batches = list(loader)
        assert len(batches) == len(loader), split
        keys = [key for batch in batches for key in batch["key"]]
        assert len(keys) == len(set(keys)) == 40, split
        first = batches[0]
        assert first["waveform"].dtype == torch.float32 and first["waveform"].shape[1] == 32000
        assert set(first["label"].tolist()) <= set(range(5))
        assert all(0 <= s <= 5 for s in first["severity"].tolist())


def test_train_order_changes_between_epochs(tiny_build: Path) -> None:
    data = datamodule(tiny_build, 0)
    torch.manual_seed(0)
    epoch1 = [k for b in data.train_dataloader() for k in b["key"]]
    epoch2 = [k for b in data.train_dataloader() for k in b["key"]]
    assert sorted(epoch1) == sorted(epoch2) and epoch1 != epoch2


def test_card_and_missing_shards(tiny_build: Path, tmp_path: Path) -> None:
    card = DatasetCard.load(tiny_build / "data_manifests" / "audio_artifact.card.json")
    assert card.classes[0] == "none" and card.splits["train"].count == 40 and card.sha256
    data = datamodule(tiny_build, 0)
    data.shard_dir = tmp_path
    with pytest.raises(FileNotFoundError, match="make dataset"):
        data.setup()
    with pytest.raises(FileNotFoundError, match="make dataset"):
        DatasetCard.load(tmp_path / "missing.card.json")


def test_augmentation_never_boosts() -> None:
    torch.manual_seed(0)
    augment = WaveformAugment(max_attenuation_db=6.0)
    x = torch.full((100,), 0.5)
    for _ in range(20):
        y = augment({"waveform": x})["waveform"]
        assert 0.5 * 10 ** (-6 / 20) - 1e-6 <= y.abs().max() <= 0.5 + 1e-6


def test_metrics_balanced_accuracy_and_severity() -> None:
    metrics = ClassificationMetrics(["none", "hum", "hiss"])
    target = torch.tensor([0, 0, 0, 0, 1, 1, 2, 2])
    preds = torch.tensor([0, 0, 0, 0, 1, 0, 2, 2])
    severity = torch.tensor([0, 0, 0, 0, 1, 5, 5, 1])
    metrics.update(torch.nn.functional.one_hot(preds, 3).float(), target, severity)
    result = metrics.compute()
    assert result["scalars"]["bal_acc"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert result["scalars"]["acc"] == pytest.approx(7 / 8)
    report = result["report"]
    assert report["per_class_recall"] == {"none": 1.0, "hum": 0.5, "hiss": 1.0}
    assert report["per_severity_accuracy"]["5"] == {"accuracy": 0.5, "count": 2}
    assert report["per_severity_accuracy"]["1"] == {"accuracy": 1.0, "count": 2}
    assert report["per_class_severity_accuracy"]["hum"]["5"] == {"accuracy": 0.0, "count": 1}
    assert report["confusion_matrix"]["rows_true_cols_pred"][1] == [1, 1, 0]


def test_extra_train_builds_join_the_train_split_only(tiny_build: Path, tmp_path: Path) -> None:
    """A second build's train shards (here the same build, repeated twice) join the epoch with
    their own card's counts; val stays the main build's; a malformed entry is refused."""
    extra = {
        "shard_dir": str(tiny_build / "data" / "shards" / "audio_artifact"),
        "card_path": str(tiny_build / "data_manifests" / "audio_artifact.card.json"),
        "repeats": 2,
    }
    data = datamodule(tiny_build, 2, extra_train=[extra])
    data.setup()
    train = data.train_dataloader()
    keys = [key for batch in train for key in batch["key"]]
    assert len(keys) == 120 and len(set(keys)) == 40
    assert len(list(train)) == len(train)
    assert sum(len(batch["key"]) for batch in data.val_dataloader()) == 40
    assert list(data.extra_train_cards.values()) == [data.card_sha256]
    with pytest.raises(ValueError, match="shard_dir and card_path"):
        datamodule(tiny_build, 0, extra_train=[{"shard_dir": extra["shard_dir"]}])
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        datamodule(tiny_build, 0, extra_train=[{**extra, "repeats": 0}])
    missing = datamodule(tiny_build, 0, extra_train=[{**extra, "shard_dir": str(tmp_path)}])
    missing.setup()
    with pytest.raises(FileNotFoundError, match="extra_train: no train shards"):
        missing.train_dataloader()


def test_find_shards_warns_when_the_disk_and_the_card_disagree(
    tiny_build: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    card = DatasetCard.load(tiny_build / "data_manifests" / "audio_artifact.card.json")
    for name in card.splits["train"].shard_counts:
        (tmp_path / name).touch()
    assert len(find_shards(tmp_path / "train-*.tar", "train", card)) == len(
        card.splits["train"].shard_counts
    )
    assert "differ from the card" not in caplog.text
    (tmp_path / "train-999999.tar").touch()
    find_shards(tmp_path / "train-*.tar", "train", card)
    assert "train shards on disk differ from the card" in caplog.text
    with pytest.raises(FileNotFoundError, match="extra_train: no val shards"):
        find_shards(tmp_path / "val-*.tar", "val", card, what="extra_train: ")
