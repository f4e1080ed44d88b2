"""One LightningDataModule for every detector: WebDataset shards in, collated batches out.

What differs between detectors is only how a decoded sample becomes tensors (``sample_map``), the
decode handlers for their media, and an optional train-time ``train_transform``; shard discovery,
splitting across DDP ranks and loader workers, shuffling and epoch lengths are shared here.

Why the epoch length is computed, not guessed: a streaming dataset has no ``__len__``. The dataset
card gives samples per shard, and shards are dealt to ranks and workers deterministically
(``urls[rank::world][worker::workers]``), so the number of batches each worker yields is known
exactly. Lightning then shows real progress, schedulers get the right step count, and val/test are
never truncated. For DDP training, where shards may not divide evenly between ranks (which hangs
the gradient all-reduce), train shards are resampled with a fixed number of batches per worker.
"""

from __future__ import annotations

import glob
import logging
import math
import random
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
import webdataset as wds
from torch.utils.data import DataLoader, default_collate

from training.data.audio_decode import decode_audio
from training.data.card import DatasetCard

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


def _torch_seeded_shuffle(bufsize: int) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """A shuffle stage whose seed comes from torch's RNG at iteration time.

    Why not ``wds.shuffle``: it seeds from pid and clock (irreproducible) or from a fixed seed
    (same order every epoch). PyTorch reseeds each loader worker from the main RNG at every epoch,
    and ``seed_everything(workers=True)`` makes that reproducible, so drawing here gives a new,
    reproducible order per epoch and per worker.
    """

    def stage(source: Iterator[Any]) -> Iterator[Any]:
        rng = random.Random(int(torch.randint(0, 2**62, ()).item()))
        buffer: list[Any] = []
        for item in source:
            buffer.append(item)
            if len(buffer) >= bufsize:
                index = rng.randrange(len(buffer))
                buffer[index], buffer[-1] = buffer[-1], buffer[index]
                yield buffer.pop()
        rng.shuffle(buffer)
        yield from buffer

    return stage


def _rank_and_world() -> tuple[int, int]:
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


class WebDatasetDataModule(pl.LightningDataModule):
    """Shards ``<shard_dir>/<pattern>`` per split; counts from the dataset card at ``card_path``.

    Args:
        shard_dir: folder holding the shards (``${paths.data_dir}/shards/<dataset>``).
        card_path: dataset card JSON (epoch lengths, per-shard counts, checksum).
        sample_map: decoded sample dict -> dict of tensors/ints (detector-specific).
        splits: glob pattern per split, relative to ``shard_dir``.
        decoders: WebDataset decode handlers tried in order before the built-in ones (JSON...).
        train_transform: optional augmentation applied to mapped train samples.
        collate_fn: batch collation (default ``default_collate``; frames of mixed sizes need
            ``image_decode.letterbox_collate``).
        num_workers: loader processes per split (capped at the number of shards per rank).
        shuffle_buffer: samples held for the train shuffle (shards are shuffled too).
        ddp_resample: under DDP, resample train shards with equal batches per rank.
    """

    def __init__(
        self,
        shard_dir: str,
        card_path: str,
        sample_map: Callable[[dict[str, Any]], dict[str, Any]],
        splits: dict[str, str] | None = None,
        decoders: Sequence[Callable[[str, bytes], Any]] = (decode_audio,),
        train_transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        batch_size: int = 64,
        eval_batch_size: int | None = None,
        num_workers: int = 2,
        shuffle_buffer: int = 1000,
        pin_memory: bool = False,
        ddp_resample: bool = True,
    ) -> None:
        super().__init__()
        self.shard_dir = Path(shard_dir)
        self.card_path = Path(card_path)
        self.sample_map = sample_map
        self.split_patterns = dict(splits or {s: f"{s}-*.tar" for s in SPLITS})
        self.decoders = list(decoders)
        self.train_transform = train_transform
        self.collate_fn = collate_fn or default_collate
        self.batch_size = int(batch_size)
        self.eval_batch_size = int(eval_batch_size or batch_size)
        self.num_workers = int(num_workers)
        self.shuffle_buffer = int(shuffle_buffer)
        self.pin_memory = bool(pin_memory)
        self.ddp_resample = bool(ddp_resample)
        self.card: DatasetCard | None = None
        self.urls: dict[str, list[str]] = {}

    # -- discovery -------------------------------------------------------------------------------

    def setup(self, stage: str | None = None) -> None:
        """Read the card and find the shards of the splits this stage uses (so an evaluation-only
        build with just a test split is enough for ``train=false``)."""
        if self.card is None:
            self.card = DatasetCard.load(self.card_path)
        needed = {"fit": ("train", "val"), "validate": ("val",), "test": ("test",)}
        for split in needed.get(stage or "", tuple(self.split_patterns)):
            self._urls(split)

    def _urls(self, split: str) -> list[str]:
        if split in self.urls:
            return self.urls[split]
        pattern = self.shard_dir / self.split_patterns[split]
        urls = sorted(glob.glob(str(pattern)))
        if not urls:
            raise FileNotFoundError(
                f"no {split} shards match {pattern} "
                "(build the dataset first: `make dataset`, or set paths.data_dir)"
            )
        assert self.card is not None
        listed = self.card.splits.get(split)
        if (
            listed
            and listed.shard_counts
            and {Path(u).name for u in urls} != set(listed.shard_counts)
        ):
            log.warning(
                "%s shards on disk differ from the card %s; was the dataset rebuilt?",
                split,
                self.card_path,
            )
        self.urls[split] = urls
        return urls

    @property
    def card_sha256(self) -> str | None:
        if self.card is None:
            self.card = DatasetCard.load(self.card_path)
        return self.card.sha256

    # -- loaders ---------------------------------------------------------------------------------

    def _batches_per_worker(
        self, split: str, urls: list[str], workers: int, batch: int
    ) -> list[int]:
        assert self.card is not None
        counts = [self.card.shard_count(split, url) for url in urls]
        return [math.ceil(sum(counts[w::workers]) / batch) for w in range(workers)]

    def _loader(self, split: str) -> DataLoader:
        if self.card is None:
            self.card = DatasetCard.load(self.card_path)
        train = split == "train"
        batch = self.batch_size if train else self.eval_batch_size
        rank, world = _rank_and_world()
        urls = self._urls(split)
        resample = train and world > 1 and self.ddp_resample
        rank_urls = urls if resample else urls[rank::world]
        workers = max(0, min(self.num_workers, len(rank_urls)))

        if resample:
            assert self.card is not None
            total = self.card.splits[split].count if split in self.card.splits else 0
            per_worker = max(1, math.ceil(total / world / max(workers, 1) / batch))
            n_batches = per_worker * max(workers, 1)
            source: list[Any] = [wds.ResampledShards(urls)]
        else:
            n_batches = sum(self._batches_per_worker(split, rank_urls, max(workers, 1), batch))
            source = [wds.SimpleShardList(urls), wds.split_by_node, wds.split_by_worker]
            if train:
                source.append(_torch_seeded_shuffle(len(urls)))
        stages: list[Any] = [*source, wds.tarfile_to_samples()]
        if train:
            stages.append(_torch_seeded_shuffle(self.shuffle_buffer))
        stages += [wds.decode(*self.decoders), wds.map(self.sample_map)]
        if train and self.train_transform is not None:
            stages.append(wds.map(self.train_transform))
        stages.append(wds.batched(batch, collation_fn=self.collate_fn, partial=True))
        dataset = wds.DataPipeline(*stages)
        if resample:
            dataset = dataset.with_epoch(nbatches=n_batches // max(workers, 1))
        dataset = dataset.with_length(n_batches, silent=True)
        return DataLoader(
            dataset,
            batch_size=None,
            num_workers=workers,
            pin_memory=self.pin_memory,
            persistent_workers=workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
