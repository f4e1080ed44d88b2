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

Evaluation under DDP must score every sample exactly once, so it cannot resample, and dealing
whole shards to ranks leaves ranks idle (and their metric sync waiting forever) when a split has
fewer shards than ranks x workers: a small val split is often one shard. So eval splits samples,
not shards: every rank deals *all* shards to its loader workers the same way, and keeps the
samples whose index in its worker's stream is ``rank (mod world)``. Ranks skip the others before
decoding (reading tar bytes is cheap next to decoding them). Each rank then holds a disjoint part
of the split, the parts cover it, and their sizes differ by at most one sample per worker. Batch
counts may differ by one between ranks; evaluation has no per-step collective, only the metric
sync at epoch end, which every rank reaches (a split with fewer samples than ranks is refused).
"""

from __future__ import annotations

import glob
import logging
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
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


def _every_nth_sample(rank: int, world: int) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """Keep samples ``rank, rank + world, ...`` of a stream: this rank's share of an eval split.

    Disjoint and complete across ranks because every rank sees the same stream per loader worker
    (same shard list, same dealing to workers, no shuffling in eval).
    """

    def stage(source: Iterator[Any]) -> Iterator[Any]:
        for index, sample in enumerate(source):
            if index % world == rank:
                yield sample

    return stage


def find_shards(pattern: Path, split: str, card: DatasetCard, what: str = "") -> list[str]:
    """Shards of ``split`` matching ``pattern``, sorted; a clear error when there are none, a
    warning when they are not the ones ``card`` lists (the build was redone without its card).
    ``what`` prefixes the error (which build of several is missing)."""
    urls = sorted(glob.glob(str(pattern)))
    if not urls:
        raise FileNotFoundError(
            f"{what}no {split} shards match {pattern} "
            "(build the dataset first: `make dataset`, or set paths.data_dir)"
        )
    listed = card.splits.get(split)
    if listed and listed.shard_counts and {Path(u).name for u in urls} != set(listed.shard_counts):
        log.warning(
            "%s shards on disk differ from the card %s; was the dataset rebuilt?", split, card.path
        )
    return urls


@dataclass(frozen=True)
class ExtraTrainBuild:
    """Another build whose train split joins the main one's (val and test stay the main build's).

    Why: a user's own catalogue is small next to the built-in content, and both are wanted; each
    build keeps its own card (sample counts, checksum) and ``repeats`` weights a small one up
    (each pass draws new crops and augmentations of the same stored samples).
    """

    shard_dir: Path
    card: DatasetCard
    repeats: int = 1

    @classmethod
    def from_config(cls, entry: Mapping[str, Any]) -> ExtraTrainBuild:
        unknown = set(entry) - {"shard_dir", "card_path", "repeats"}
        if unknown or not {"shard_dir", "card_path"} <= set(entry):
            raise ValueError(
                "each extra_train entry needs shard_dir and card_path (and optionally repeats), "
                f"got keys {sorted(entry)}"
            )
        repeats = int(entry.get("repeats", 1))
        if repeats < 1:
            raise ValueError(
                f"extra_train repeats must be >= 1, got {repeats} ({entry['shard_dir']})"
            )
        return cls(Path(entry["shard_dir"]), DatasetCard.load(entry["card_path"]), repeats)


def eval_samples_per_worker(
    counts: Sequence[int], workers: int, rank: int, world: int
) -> list[int]:
    """Samples each loader worker of ``rank`` yields from shards with ``counts`` samples, when
    shards are dealt ``[worker::workers]`` and each worker's stream split by ``_every_nth_sample``.
    """
    streams = [sum(counts[w::workers]) for w in range(workers)]
    return [len(range(rank, n, world)) for n in streams]


class WebDatasetDataModule(pl.LightningDataModule):
    """Shards ``<shard_dir>/<pattern>`` per split; counts from the dataset card at ``card_path``.

    Args:
        shard_dir: folder holding the shards (``${paths.data_dir}/shards/<dataset>``).
        card_path: dataset card JSON (epoch lengths, per-shard counts, checksum).
        sample_map: decoded sample dict -> dict of tensors/ints (detector-specific).
        splits: glob pattern per split, relative to ``shard_dir``.
        decoders: WebDataset decode handlers tried in order before the built-in ones (JSON...).
        train_transform: optional augmentation applied to mapped train samples.
        eval_transform: optional transform of mapped val/test samples (a detector that trains
            on excerpts but is judged on whole items, e.g. lip sync).
        collate_fn: batch collation (default ``default_collate``; frames of mixed sizes need
            ``image_decode.letterbox_collate``).
        eval_collate_fn: collation of val/test batches (default: ``collate_fn``).
        repeats: passes over the train shards per epoch, for datasets so small that one pass is
            a batch or two (each pass draws new excerpts and augmentations).
        extra_train: more builds trained on beside this one (``shard_dir``, ``card_path``,
            ``repeats``): their train splits join this build's (e.g. the user's catalogue beside
            the built-in content); val and test are this build's alone.
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
        eval_transform: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        collate_fn: Callable[[list[Any]], Any] | None = None,
        eval_collate_fn: Callable[[list[Any]], Any] | None = None,
        repeats: int = 1,
        extra_train: Sequence[Mapping[str, Any]] = (),
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
        self.eval_transform = eval_transform
        self.collate_fn = collate_fn or default_collate
        self.eval_collate_fn = eval_collate_fn or self.collate_fn
        if int(repeats) < 1:
            raise ValueError(f"repeats must be >= 1, got {repeats}")
        self.repeats = int(repeats)
        self.extra_train = [ExtraTrainBuild.from_config(entry) for entry in extra_train]
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
        if split not in self.urls:
            assert self.card is not None
            pattern = self.shard_dir / self.split_patterns[split]
            self.urls[split] = find_shards(pattern, split, self.card)
        return self.urls[split]

    @property
    def card_sha256(self) -> str | None:
        if self.card is None:
            self.card = DatasetCard.load(self.card_path)
        return self.card.sha256

    @property
    def extra_train_cards(self) -> dict[str, str | None]:
        """Card path -> card sha256 of each ``extra_train`` build (logged with the run)."""
        return {str(extra.card.path): extra.card.sha256 for extra in self.extra_train}

    def _train_shards(self) -> tuple[list[str], list[int]]:
        """Train shard URLs of this build and every ``extra_train`` build, each repeated, with
        the sample count of each from its own card."""
        assert self.card is not None
        urls = self._urls("train") * self.repeats
        counts = [self.card.shard_count("train", url) for url in urls]
        for extra in self.extra_train:
            pattern = extra.shard_dir / self.split_patterns["train"]
            found = find_shards(pattern, "train", extra.card, what="extra_train: ")
            urls += found * extra.repeats
            counts += [extra.card.shard_count("train", url) for url in found] * extra.repeats
        return urls, counts

    # -- loaders ---------------------------------------------------------------------------------

    def _loader(self, split: str) -> DataLoader:
        if self.card is None:
            self.card = DatasetCard.load(self.card_path)
        train = split == "train"
        batch = self.batch_size if train else self.eval_batch_size
        rank, world = _rank_and_world()
        if train:
            urls, counts = self._train_shards()
        else:
            urls = self._urls(split)
            counts = [self.card.shard_count(split, url) for url in urls]
        resample = train and world > 1 and self.ddp_resample
        split_samples = not train and world > 1
        rank_urls = urls if resample or split_samples else urls[rank::world]
        workers = max(0, min(self.num_workers, len(rank_urls)))
        streams = max(workers, 1)  # sample streams: one per loader worker, or the main process

        if resample:
            per_stream = max(1, math.ceil(sum(counts) / world / streams / batch))
            n_batches = per_stream * streams
            source: list[Any] = [wds.ResampledShards(urls), wds.tarfile_to_samples()]
        elif split_samples:
            self._check_every_rank_has_samples(split, counts, streams, world)
            per_worker = eval_samples_per_worker(counts, streams, rank, world)
            n_batches = sum(math.ceil(n / batch) for n in per_worker)
            source = [
                wds.SimpleShardList(urls),
                wds.split_by_worker,
                wds.tarfile_to_samples(),
                _every_nth_sample(rank, world),
            ]
        else:
            rank_counts = counts[rank::world]
            n_batches = sum(math.ceil(sum(rank_counts[w::streams]) / batch) for w in range(streams))
            source = [wds.SimpleShardList(urls), wds.split_by_node, wds.split_by_worker]
            if train:
                source.append(_torch_seeded_shuffle(len(urls)))
            source.append(wds.tarfile_to_samples())
        stages: list[Any] = list(source)
        if train:
            stages.append(_torch_seeded_shuffle(self.shuffle_buffer))
        stages += [wds.decode(*self.decoders), wds.map(self.sample_map)]
        if train and self.train_transform is not None:
            stages.append(wds.map(self.train_transform))
        if not train and self.eval_transform is not None:
            stages.append(wds.map(self.eval_transform))
        collate = self.collate_fn if train else self.eval_collate_fn
        stages.append(wds.batched(batch, collation_fn=collate, partial=True))
        dataset = wds.DataPipeline(*stages)
        if resample:
            dataset = dataset.with_epoch(nbatches=n_batches // streams)
        dataset = dataset.with_length(n_batches, silent=True)
        return DataLoader(
            dataset,
            batch_size=None,
            num_workers=workers,
            pin_memory=self.pin_memory,
            persistent_workers=workers > 0,
        )

    def _check_every_rank_has_samples(
        self, split: str, counts: list[int], streams: int, world: int
    ) -> None:
        """A rank with no eval batch would skip the epoch-end metric sync the others wait in.
        Every rank computes all ranks' shares, so all of them raise, none hangs."""
        shares = [sum(eval_samples_per_worker(counts, streams, r, world)) for r in range(world)]
        if min(shares) == 0:
            raise ValueError(
                f"the {split} split in {self.shard_dir} has {sum(counts)} samples in "
                f"{len(counts)} shards; dealt to {streams} loader workers and split across "
                f"{world} ranks, they get {shares} samples, and every rank needs at least one "
                "(use fewer devices or loader workers)"
            )

    def train_dataloader(self) -> DataLoader:
        return self._loader("train")

    def val_dataloader(self) -> DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> DataLoader:
        return self._loader("test")
