"""Catalogue-scale detect.py (issue 10): folders and manifests, parallel workers, resume, JSONL."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile

from training.detect.catalogue import list_inputs
from training.detect.cli import run


def make_catalogue(folder: Path, audio: np.ndarray, files: int = 5) -> list[Path]:
    folder.mkdir(parents=True)
    paths = []
    for i in range(files):
        path = folder / f"-take {i} 'ü'.wav"
        soundfile.write(path, np.roll(audio, 3000 * i)[: 32000 * 2], 32000)
        paths.append(path)
    (folder / "broken.wav").write_text("not audio")
    return paths


def scan(compose_detect, checkpoint: Path, source: Path, out: Path, *extra: str) -> int:
    cfg = compose_detect([f"checkpoint={checkpoint}", f"input={source}", f"output={out}", *extra])
    return run(cfg)


def reports(out: Path) -> dict[str, dict]:
    found = {}
    for path in sorted(out.rglob("*.json")):
        if path.name != "index.json":
            payload = json.loads(path.read_text())
            payload.pop("timing_s", None)
            found[path.relative_to(out).as_posix()] = payload
    return found


def test_two_workers_write_the_reports_one_process_writes(
    trained_export: Path, programme_with_hum, compose_detect, tmp_path: Path
) -> None:
    audio, _ = programme_with_hum
    make_catalogue(tmp_path / "catalogue", audio)
    one, two = tmp_path / "one", tmp_path / "two"
    assert scan(compose_detect, trained_export, tmp_path / "catalogue", one) == 1  # broken.wav
    assert (
        scan(
            compose_detect,
            trained_export,
            tmp_path / "catalogue",
            two,
            "executor=processes",
            "executor.workers=2",
        )
        == 1
    )
    serial, parallel = reports(one), reports(two)
    assert len(serial) == 5
    for name, report in serial.items():
        assert parallel[name]["segments"] == report["segments"]
    index = json.loads((two / "index.json").read_text())
    assert index["counts"] == {"files": 6, "ok": 5, "skipped": 0, "error": 1}
    assert index["executor"]["kind"] == "processes"
    lines = [json.loads(line) for line in (two / "index.jsonl").read_text().splitlines()]
    assert sorted(line["input"] for line in lines) == sorted(e["input"] for e in index["files"])


def test_a_second_scan_skips_what_is_reported_and_does_the_rest(
    trained_export: Path, programme_with_hum, compose_detect, tmp_path: Path, capsys
) -> None:
    audio, _ = programme_with_hum
    paths = make_catalogue(tmp_path / "catalogue", audio)
    out = tmp_path / "reports"
    scan(compose_detect, trained_export, tmp_path / "catalogue", out)
    first = reports(out)
    (out / f"{paths[2].name}.json").unlink()  # as if the scan had died before this file
    capsys.readouterr()
    scan(compose_detect, trained_export, tmp_path / "catalogue", out)
    assert "resumed: 4 of 6 files already reported" in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert index["counts"]["skipped"] == 4 and index["counts"]["ok"] == 1
    assert reports(out).keys() == first.keys()


def test_manifests_name_reports_by_id_and_record_bad_rows(tmp_path: Path) -> None:
    media = tmp_path / "media"
    media.mkdir()
    (tmp_path / "list.jsonl").write_text(
        json.dumps({"path": "media/a.wav", "id": "show/ep1"})
        + "\n"
        + json.dumps({"path": "/abs/b.mp4"})
        + "\n"
        + json.dumps({"id": "no path"})
        + "\n"
        + "{broken\n"
    )
    inputs, problems = list_inputs(tmp_path / "list.jsonl")
    assert inputs == [
        (str(tmp_path / "media/a.wav"), "show/ep1", "media/a.wav"),
        ("/abs/b.mp4", "abs/b.mp4", "/abs/b.mp4"),
    ]
    assert [p["error"] for p in problems] == [
        "row has no 'path'",
        "invalid JSON (Expecting property name enclosed in double quotes)",
    ]
    (tmp_path / "list.txt").write_text("# comment\nmedia/a.wav\n\ns3://bucket/c.mkv\n")
    inputs, _ = list_inputs(tmp_path / "list.txt")
    assert [name for _, name, _ in inputs] == ["media/a.wav", "bucket/c.mkv"]


def test_reports_of_another_model_are_redone(
    trained_export: Path, programme_with_hum, compose_detect, tmp_path: Path, capsys
) -> None:
    import shutil

    audio, _ = programme_with_hum
    make_catalogue(tmp_path / "catalogue", audio, files=2)
    out = tmp_path / "reports"
    scan(compose_detect, trained_export, tmp_path / "catalogue", out)
    retrained = tmp_path / "retrained"
    shutil.copytree(trained_export, retrained)  # same detector, another export
    capsys.readouterr()
    scan(compose_detect, retrained, tmp_path / "catalogue", out)
    assert "resumed:" not in capsys.readouterr().out
    index = json.loads((out / "index.json").read_text())
    assert index["counts"]["skipped"] == 0 and index["counts"]["ok"] == 2
