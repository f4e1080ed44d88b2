"""Detection streams a track: same segments as the whole-track rule, decoding one block ahead."""

from __future__ import annotations

import numpy as np
import pytest

from training.detect.segments import decode_ahead, iter_segment_batches, segment_starts


def split_randomly(track: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    cuts = np.sort(rng.integers(0, len(track), size=int(rng.integers(0, 6))))
    return np.split(track, cuts)


@pytest.mark.parametrize("n", [10, 100, 101, 250, 999])
@pytest.mark.parametrize("segment, hop", [(100, 100), (100, 50), (100, 30)])
def test_blocks_of_any_size_give_the_whole_track_segments(n: int, segment: int, hop: int) -> None:
    rng = np.random.default_rng(n * segment + hop)
    track = rng.standard_normal(n).astype(np.float32)
    for _ in range(3):
        batches = list(iter_segment_batches(split_randomly(track, rng), segment, hop, 4))
        starts = np.concatenate([s for s, _ in batches])
        rows = np.concatenate([b for _, b in batches])
        assert starts.tolist() == segment_starts(n, segment, hop).tolist()
        assert all(len(s) <= 4 for s, _ in batches)
        padded = np.pad(track, (0, max(0, segment - n)))
        for start, row in zip(starts, rows, strict=True):
            assert np.array_equal(row, padded[start : start + segment])


def test_decode_ahead_keeps_order_and_raises_the_producers_error_in_place() -> None:
    assert list(decode_ahead(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("corrupt audio at 2.00 s")

    seen = []
    with pytest.raises(ValueError, match="corrupt audio"):
        for item in decode_ahead(failing()):
            seen.append(item)
    assert seen == [1, 2]


def test_a_consumer_that_stops_early_does_not_hang_the_producer() -> None:
    endless = iter(range(10**9))
    for item in decode_ahead(endless, depth=1):
        if item == 3:
            break
