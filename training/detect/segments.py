"""Cut a track into fixed-length segments, score them in large batches, summarise.

The track arrives as blocks (``media_io.iter_audio_blocks``) decoded one step ahead in a thread
(:func:`decode_ahead`), so an hour-long programme never sits in memory and decoding overlaps
inference.

Segments start every ``hop`` samples; the last one is aligned to the end of the track rather than
zero-padded (padding would be silence the model never saw in that position), so every sample is
covered by real audio. Tracks shorter than one segment are zero-padded once.

Summary seconds: each segment owns the time from its start to the next segment's start (the last
owns up to the end), so with overlapping segments nothing is counted twice and the per-class
seconds add up to the track's duration.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from queue import Empty, Queue
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


def segment_starts(n_samples: int, segment: int, hop: int) -> np.ndarray:
    if segment <= 0 or hop <= 0:
        raise ValueError(f"segment and hop must be positive, got {segment}, {hop}")
    if n_samples <= segment:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, n_samples - segment + 1, hop, dtype=np.int64)
    if starts[-1] + segment < n_samples:
        starts = np.append(starts, n_samples - segment)
    return starts


def iter_segment_batches(
    blocks: Iterable[np.ndarray], segment: int, hop: int, batch_size: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(starts, batch (k, segment))`` from a mono track arriving in blocks of any length.

    The segments are exactly those :func:`segment_starts` gives for the whole track (the last
    one aligned to the end, a too-short track padded once), found without holding the track:
    only the samples a future segment can still need are kept between blocks.
    """
    if segment <= 0 or hop <= 0 or batch_size <= 0:
        raise ValueError(f"segment, hop, batch_size must be > 0: {segment}, {hop}, {batch_size}")
    buffer = np.zeros(0, np.float32)
    buffer_start = next_start = total = 0
    starts: list[int] = []
    rows: list[np.ndarray] = []
    for block in blocks:
        buffer = np.concatenate([buffer, np.asarray(block, np.float32)])
        total += len(block)
        while next_start + segment <= total:
            offset = next_start - buffer_start
            starts.append(next_start)
            rows.append(buffer[offset : offset + segment])
            next_start += hop
            if len(rows) == batch_size:
                yield np.asarray(starts), np.stack(rows)
                starts, rows = [], []
        keep = max(buffer_start, min(next_start, total - segment))
        buffer, buffer_start = buffer[keep - buffer_start :], keep
    if total < segment:
        starts, rows = [0], [np.pad(buffer, (0, segment - len(buffer)))]
    elif next_start - hop + segment < total:  # the tail after the last hop: align to the end
        starts.append(total - segment)
        rows.append(buffer[total - segment - buffer_start :])
    if rows:
        yield np.asarray(starts), np.stack(rows)


def decode_ahead(blocks: Iterable[T], depth: int = 2) -> Iterator[T]:
    """Iterate ``blocks`` in a background thread, ``depth`` items ahead of the consumer.

    Decoding (libav, soxr) and inference (ONNX Runtime, PyTorch) both release the GIL, so the
    next block decodes while the model scores this one: a long programme costs about the larger
    of the two instead of their sum. An exception in the producer is re-raised here, in order.
    """
    queue: Queue[tuple[str, Any]] = Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in blocks:
                if stop.is_set():
                    return
                queue.put(("item", item))
            queue.put(("done", None))
        except BaseException as error:  # handed to the consumer, which raises it
            queue.put(("error", error))

    thread = threading.Thread(target=produce, name="decode-ahead", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = queue.get()
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            try:
                queue.get_nowait()
            except Empty:
                thread.join(timeout=0.05)


def summarise(
    starts_s: np.ndarray, labels: Sequence[str], duration_s: float, classes: Sequence[str]
) -> dict[str, float]:
    owned_until = np.append(starts_s[1:], max(duration_s, float(starts_s[-1])))
    seconds = dict.fromkeys(classes, 0.0)
    for start, end, label in zip(starts_s, owned_until, labels, strict=True):
        seconds[label] += max(0.0, float(end) - float(start))
    return {name: round(value, 3) for name, value in seconds.items()}


@dataclass
class Stopwatch:
    """Where detection time went: waiting for decoded audio, and inside the model."""

    waiting_for_audio: float = 0.0
    inference: float = 0.0

    def blocks(self, blocks: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        iterator = iter(blocks)
        while True:
            started = time.perf_counter()
            block = next(iterator, None)
            self.waiting_for_audio += time.perf_counter() - started
            if block is None:
                return
            yield block

    def model(self, model: Callable[[np.ndarray], np.ndarray], batch: np.ndarray) -> np.ndarray:
        started = time.perf_counter()
        out = model(batch)
        self.inference += time.perf_counter() - started
        return out


def segment_report(
    blocks: Iterable[np.ndarray],
    model: Any,
    hop_s: float,
    batch_size: int,
    stopwatch: Stopwatch | None = None,
) -> dict[str, Any]:
    """Segments and summary for one mono track given as blocks; ``model`` is a
    ``runtime.SegmentModel`` (its card gives rate, segment length and classes)."""
    rate, segment, classes = model.sample_rate, model.segment_samples, model.classes
    hop = max(1, int(round(hop_s * rate)))
    watch = stopwatch or Stopwatch()
    counted = _Counted(watch.blocks(blocks))
    scored = [
        (starts, watch.model(model, batch))
        for starts, batch in iter_segment_batches(counted, segment, hop, batch_size)
    ]
    starts = np.concatenate([s for s, _ in scored])
    probabilities = np.concatenate([p for _, p in scored], axis=0)
    duration_s = counted.samples / rate
    starts_s = starts / rate
    best = probabilities.argmax(axis=1)
    labels = [classes[i] for i in best]
    segments = [
        {
            "start": round(float(start), 3),
            "end": round(min(float(start) + segment / rate, max(duration_s, segment / rate)), 3),
            "label": label,
            "scores": {name: round(float(p), 5) for name, p in zip(classes, row, strict=True)},
        }
        for start, label, row in zip(starts_s, labels, probabilities, strict=True)
    ]
    if duration_s < segment / rate and segments:
        segments[0]["end"] = round(duration_s, 3)
    return {
        "duration_s": round(duration_s, 3),
        "segment_s": segment / rate,
        "hop_s": hop / rate,
        "segments": segments,
        "summary": summarise(starts_s, labels, duration_s, classes),
    }


class _Counted:
    """Pass blocks through, counting samples (the track's duration is known only at the end)."""

    def __init__(self, blocks: Iterable[np.ndarray]) -> None:
        self.blocks = blocks
        self.samples = 0

    def __iter__(self) -> Iterator[np.ndarray]:
        for block in self.blocks:
            self.samples += len(block)
            yield block
