"""``detect.py`` over a catalogue: a folder or a manifest of media files, in parallel, resumable.

    python detect.py detector=audio_artifact checkpoint=... input=catalogue/ output=reports/
    python detect.py ... input=catalogue.jsonl output=reports/ executor=processes executor.workers=4

Every file gets ``<output>/<name>.json`` (``name`` = its path below the folder, or the manifest
row's ``id``/path), written atomically. A file whose report already exists from the same model
is skipped (``resume=false`` redoes everything), so a scan stopped at file 9,000 of 10,000 goes
on from there. ``index.jsonl`` gets one line per file as it finishes (ok / error / skipped), and
``index.json`` the whole list, sorted, at the end. Files are dealt to the build executors
(``serial``, ``processes``, ``ray``) in chunks; each worker loads the model once and gives its
inference ``threads = cores / workers`` unless ``threads=`` says otherwise.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import Any

from omegaconf import DictConfig, OmegaConf

EXIT_OK, EXIT_BAD_INPUT = 0, 1
MANIFEST_SUFFIXES = {".jsonl", ".csv", ".txt"}
CHUNKS_PER_WORKER = 4  # small chunks balance files of different lengths across workers

_ANALYSERS: dict[str, Any] = {}  # one loaded model per worker process and config


def is_manifest(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in MANIFEST_SUFFIXES


def list_inputs(source: Path) -> tuple[list[tuple[str, str, str]], list[dict[str, Any]]]:
    """``([(media path, report name, name in the index)], problems)`` for a folder or manifest.

    Manifest rows: JSONL/CSV with ``path`` (relative to the manifest's folder) and optional
    ``id``; ``.txt``: one path per line. A row without a path is a problem entry, not a crash.
    """
    from impairments import media_io

    if source.is_dir():
        found = [(p, p.relative_to(source).as_posix()) for p in media_io.iter_media_files(source)]
        return [(str(p), name, name) for p, name in found], []
    rows: list[tuple[int, dict[str, Any]]] = []
    text = source.read_text(encoding="utf-8-sig")
    suffix = source.suffix.lower()
    if suffix == ".csv":
        rows = list(enumerate(csv.DictReader(text.splitlines()), start=2))
    elif suffix == ".txt":
        rows = [
            (n, {"path": line.strip()})
            for n, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    rows.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    rows.append((number, {"error": f"invalid JSON ({error.msg})"}))
    inputs: list[tuple[str, str, str]] = []
    problems: list[dict[str, Any]] = []
    for number, row in rows:
        where = f"{source}:{number}"
        path = str(row.get("path") or "").strip() if isinstance(row, dict) else ""
        if not path:
            reason = row.get("error", "row has no 'path'") if isinstance(row, dict) else "bad row"
            problems.append({"input": where, "status": "error", "error": reason})
            continue
        given = path
        if "://" not in path and not Path(path).is_absolute():
            path = str(source.parent / path)
        inputs.append((path, _report_name(str(row.get("id") or "").strip() or given), given))
    return inputs, problems


def _report_name(name: str) -> str:
    """A relative, safe report name: URLs and absolute paths keep their structure below output."""
    name = name.split("://", 1)[-1]
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", "..", ".")]
    return "/".join(parts) or "unnamed"


def _already_reported(report: Path, detector: str | None, model_path: str) -> bool:
    """A report counts as done only if the same model wrote it: a scan with a retrained export
    into the same folder must redo every file, not keep the old model's verdicts."""
    try:
        payload = json.loads(report.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(payload, dict) or payload.get("detector") not in (None, detector):
        return False
    written_by = (payload.get("model") or {}).get("path")
    return written_by is None or str(Path(written_by).resolve()) == str(Path(model_path).resolve())


def analyse_chunk(
    job: tuple[dict[str, Any], str, list[tuple[str, str, str]]],
) -> list[dict[str, Any]]:
    """Executor task: analyse files with this process's (cached) analyser; one entry per file."""
    from impairments import media_io
    from training.detect.cli import make_analyser, write_json

    container, output, files = job
    key = json.dumps(container, sort_keys=True, default=str)
    if key not in _ANALYSERS:
        made = make_analyser(OmegaConf.create(container))
        if isinstance(made, str):
            raise RuntimeError(made)
        _ANALYSERS[key] = made[0]
    analyse: Callable[[Path, Path | None], dict[str, Any]] = _ANALYSERS[key]
    entries = []
    for path, name, shown in files:
        report_path = Path(output) / f"{name}.json"
        entry: dict[str, Any] = {"input": shown, "path": path, "report": f"{name}.json"}
        try:
            report = analyse(media_io.local_path(path), report_path)
        except media_io.MediaError as error:
            entries.append({**entry, "status": "error", "error": error.reason, "report": None})
            continue
        except Exception as error:  # one bad file is an entry, never the end of the scan
            reason = f"{type(error).__name__}: {error}"
            entries.append({**entry, "status": "error", "error": reason, "report": None})
            continue
        write_json(report_path, report)
        entries.append(
            {
                **entry,
                "status": "ok",
                "duration_s": report.get("duration_s"),
                "summary": report.get("summary"),
            }
        )
    return entries


def run_catalogue(cfg: DictConfig, source: Path, output: Path) -> int:
    """Scan ``source`` (folder or manifest) into ``output``; exit 1 when any file failed."""
    from tqdm import tqdm

    from impairments.builder.executors import TaskFailure, core_count, make_executor
    from training.detect.cli import make_analyser, write_json

    started = time.perf_counter()
    inputs, problems = list_inputs(source)
    spec = dict(OmegaConf.to_container(cfg.executor, resolve=True) if cfg.get("executor") else {})
    spec.setdefault("kind", "serial")
    workers = 1 if spec["kind"] == "serial" else int(spec.get("workers") or core_count())
    container: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    container.pop("executor", None)
    if container.get("threads") is None and workers > 1:
        container["threads"] = max(1, core_count() // workers)
    made = make_analyser(OmegaConf.create(container))  # fail fast on a bad model, in this process
    if isinstance(made, str):
        print(f"error: {made}", file=sys.stderr)
        return 2
    detector = made[1].card.get("detector")

    output.mkdir(parents=True, exist_ok=True)
    resume = bool(cfg.get("resume", True))
    todo, skipped = [], []
    for path, name, shown in inputs:
        if resume and _already_reported(output / f"{name}.json", detector, str(made[1].path)):
            skipped.append({"input": shown, "status": "skipped", "report": f"{name}.json"})
        else:
            todo.append((path, name, shown))
    if skipped:
        print(f"resumed: {len(skipped)} of {len(inputs)} files already reported")
    size = max(1, -(-len(todo) // (workers * CHUNKS_PER_WORKER)))
    chunks = [todo[i : i + size] for i in range(0, len(todo), size)]
    jobs = [(container, str(output), chunk) for chunk in chunks]
    if spec["kind"] == "serial":
        _ANALYSERS[json.dumps(container, sort_keys=True, default=str)] = made[0]
    index_lines = output / "index.jsonl"
    bar = tqdm(total=len(todo), unit="file", desc="detect", dynamic_ncols=True, disable=None)
    with open(index_lines, "a", encoding="utf-8") as log:
        for entry in problems + skipped:
            log.write(json.dumps(entry) + "\n")

        def progress(outcome: list[dict[str, Any]] | TaskFailure) -> None:
            rows = outcome if isinstance(outcome, list) else []
            for row in rows:
                log.write(json.dumps(row) + "\n")
                if row["status"] == "error":
                    tqdm.write(
                        f"error: {row.get('path', row['input'])}: {row['error']}", file=sys.stderr
                    )
            log.flush()
            bar.update(len(rows))

        executor = make_executor(spec)
        outcomes = executor.map(
            analyse_chunk, jobs, [f"chunk{i}" for i in range(len(jobs))], progress
        )
    bar.close()
    entries = problems + skipped
    for chunk, outcome in zip(chunks, outcomes, strict=True):
        if isinstance(outcome, TaskFailure):  # a worker died: every file of its chunk is an error
            entries += [
                {"input": shown, "status": "error", "error": outcome.error, "report": None}
                for _, _, shown in chunk
            ]
        else:
            entries += outcome
    entries.sort(key=lambda e: str(e["input"]))
    failed = sum(e["status"] == "error" for e in entries)
    write_json(
        output / "index.json",
        {
            "input": str(source),
            "detector": detector,
            "model": {"path": made[1].path, "runtime": made[1].runtime},
            "executor": {**spec, "workers": workers},
            "counts": {
                "files": len(entries),
                "ok": sum(e["status"] == "ok" for e in entries),
                "skipped": len(skipped),
                "error": failed,
            },
            "elapsed_s": round(time.perf_counter() - started, 3),
            "files": entries,
        },
    )
    return EXIT_BAD_INPUT if failed else EXIT_OK
