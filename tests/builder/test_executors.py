"""Executors, atomic resumable shards and object-store output (issue 10): same bytes whatever ran
the build, crashes resumed, failures contained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from omegaconf import DictConfig

from impairments.builder.executors import (
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    TaskFailure,
    make_executor,
)
from impairments.builder.resume import BuildConflictError
from impairments.builder.run import BuildFailedError, build_dataset

REPO = Path(__file__).resolve().parents[2]
TINY = (
    "sources=folder",
    "dataset.samples_per_shard=5",
    "splits={train: 0.5, val: 0.25, test: 0.25}",
)


def digests(card: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (Path(s["path"]).name, s["sha256"]) for v in card["splits"].values() for s in v["shards"]
    ]


# -- executors on toy tasks (module-level functions: they must pickle) ----------------------------
def square_or_fail(job: tuple[int, str]) -> int:
    value, marker = job
    if value == 3:
        raise ValueError("three is not allowed")
    if value == 5:  # fails once: the marker file remembers the first attempt across processes
        first = not Path(marker).exists()
        Path(marker).write_text("tried")
        if first:
            raise RuntimeError("flaky")
    return value * value


def die_on_seven(job: tuple[int, str]) -> int:
    if job[0] == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return job[0]


@pytest.mark.parametrize(
    "executor",
    [SerialExecutor(retries=1), ProcessExecutor(workers=2, retries=1)],
    ids=["serial", "processes"],
)
def test_executors_keep_job_order_retry_and_contain_failures(executor: Any, tmp_path: Path) -> None:
    jobs = [(i, str(tmp_path / "flaky")) for i in range(8)]
    seen: list[Any] = []
    results = executor.map(square_or_fail, jobs, [f"task{i}" for i in range(8)], seen.append)
    assert [r for i, r in enumerate(results) if i != 3] == [i * i for i in range(8) if i != 3]
    failure = results[3]
    assert isinstance(failure, TaskFailure) and failure.task == "task3"
    assert "three is not allowed" in failure.error and failure.attempts == 2
    assert len(seen) == 8  # one progress report per task, failures included


def test_a_killed_worker_costs_a_retry_not_the_build() -> None:
    results = ProcessExecutor(workers=2, retries=1).map(
        die_on_seven, [(i, "") for i in range(10)], [f"t{i}" for i in range(10)], lambda _: None
    )
    assert [r for r in results if not isinstance(r, TaskFailure)] == [0, 1, 2, 3, 4, 5, 6, 8, 9]
    assert isinstance(results[7], TaskFailure) and "died" in results[7].error


def test_make_executor_validates_its_options() -> None:
    assert isinstance(make_executor({"kind": "ray", "address": "auto"}), RayExecutor)
    with pytest.raises(ValueError, match="unknown option"):
        make_executor({"kind": "processes", "adress": "x"})
    with pytest.raises(ValueError, match=r"executor\.kind"):
        make_executor({"kind": "spark"})


# -- whole builds -------------------------------------------------------------------------------
@pytest.fixture
def tiny(build_config: Callable[..., DictConfig], catalogue: Path) -> Callable[..., DictConfig]:
    def make(*overrides: str, out: str = "build") -> DictConfig:
        return build_config(*TINY, f"sources.path={catalogue}", "name=tiny", *overrides, out=out)

    return make


def test_serial_and_processes_write_the_same_bytes(tiny: Callable[..., DictConfig]) -> None:
    serial = build_dataset(tiny("executor=serial", out="serial"))
    processes = build_dataset(tiny("executor=processes", "executor.workers=2", out="processes"))
    assert len(digests(serial)) >= 4
    assert digests(processes) == digests(serial)


@pytest.mark.slow  # a local Ray cluster starts and imports the project in each worker: ~1-2 min
def test_local_ray_writes_the_same_bytes_as_serial(tiny: Callable[..., DictConfig]) -> None:
    serial = build_dataset(tiny("executor=serial", out="serial"))
    ray = build_dataset(tiny("executor=ray", "executor.workers=2", out="ray"))
    assert digests(ray) == digests(serial)


def test_resume_skips_done_shards_and_repairs_damaged_ones(
    tiny: Callable[..., DictConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tiny("workers=0")
    first = build_dataset(cfg)
    shards = Path(cfg.output_dir)
    names = sorted(p.name for p in shards.glob("*.tar"))
    victim, dropped = shards / names[0], shards / names[1]
    victim.write_bytes(victim.read_bytes()[:-1024])  # truncated after it was finished
    (shards / f"{dropped.stem}.stats.json").unlink()  # died before its stats were written
    (shards / "train-000099.tar.tmp").write_bytes(b"half a shard")
    capsys.readouterr()
    again = build_dataset(cfg)
    assert (
        f"resumed: {len(names) - 2} of {len(names)} shards already done" in capsys.readouterr().out
    )
    assert digests(again) == digests(first)
    assert not list(shards.glob("*.tmp"))


def test_a_different_build_into_the_same_folder_is_refused(tiny: Callable[..., DictConfig]) -> None:
    build_dataset(tiny("workers=0"))
    with pytest.raises(BuildConflictError, match="overwrite=true"):
        build_dataset(tiny("workers=0", "seed=7"))
    replaced = build_dataset(tiny("workers=0", "seed=7", "overwrite=true"))
    assert replaced["seed"] == 7


def test_a_failing_shard_is_recorded_and_the_others_are_built(
    tiny: Callable[..., DictConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    from impairments.builder import run

    real = run._render

    def broken(job: Any) -> Any:
        if job[0].name == "train-000001":
            planned = job[0].items[0]  # a local naming the item, as every renderer's loop has
            raise OSError(f"disk on fire under {len(planned.samples)} samples")
        return real(job)

    monkeypatch.setattr(run, "_render", broken)
    cfg = tiny("workers=0")
    with pytest.raises(BuildFailedError, match="train-000001") as raised:
        build_dataset(cfg)
    message = str(raised.value)
    assert "disk on fire" in message and "after 2 attempt(s)" in message
    assert "(samples " in message and str(cfg.sources.path) in message  # which file, which keys
    card = json.loads((Path(cfg.manifest_dir) / "tiny.card.json").read_text())
    assert [f["task"] for f in card["failed_shards"]] == ["train-000001"]
    assert "train-000000.tar" in {Path(s["path"]).name for s in card["splits"]["train"]["shards"]}
    monkeypatch.setattr(run, "_render", real)
    assert not build_dataset(cfg)["failed_shards"]  # the same command finishes the job


def test_kill_9_mid_build_then_the_same_command_gives_identical_shards(
    tiny: Callable[..., DictConfig], tmp_path: Path
) -> None:
    reference = build_dataset(tiny("workers=0", out="reference"))
    cfg = tiny(out="killed")
    shards = Path(cfg.output_dir)
    command = [
        sys.executable,
        "-m",
        "impairments.build",
        *TINY,
        f"sources.path={cfg.sources.path}",
        "name=tiny",
        f"output_dir={shards}",
        f"manifest_dir={cfg.manifest_dir}",
        "executor=processes",
        "executor.workers=2",
    ]
    process = subprocess.Popen(
        command, cwd=REPO, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 120
    while not list(shards.glob("*.stats.json")) and time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"build ended before it could be killed: {process.stdout.read()!r}")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = len(list(shards.glob("*.stats.json")))
    assert 1 <= finished_before < len(digests(reference)), "kill came too late to test resume"
    rerun = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=True)
    assert "resumed:" in rerun.stdout
    card = json.loads((Path(cfg.manifest_dir) / "tiny.card.json").read_text())
    assert digests(card) == digests(reference)
    assert not list(shards.glob("*.tmp"))


@pytest.fixture
def s3_bucket() -> Any:
    """A local S3-compatible server (moto) on loopback, and fsspec options that reach it."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": {"endpoint_url": f"http://{host}:{port}", "region_name": "us-east-1"},
    }
    import boto3

    boto3.client(
        "s3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        **options["client_kwargs"],
    ).create_bucket(Bucket="datasets")
    yield options
    server.stop()


def test_object_store_output_round_trip_and_resume(
    tiny: Callable[..., DictConfig], s3_bucket: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    import fsspec

    local = build_dataset(tiny("workers=0", out="local"))
    options = json.dumps(s3_bucket).replace('"', "")
    url = "s3://datasets/tiny"
    remote = build_dataset(
        tiny(
            "executor=processes",
            "executor.workers=2",
            f"output_dir={url}",
            f"+storage_options={options}",
            out="remote",
        )
    )
    assert digests(remote) == digests(local)
    fs = fsspec.filesystem("s3", **s3_bucket)
    names = sorted(p.rsplit("/", 1)[-1] for p in fs.ls("datasets/tiny"))
    assert "_build.json" in names and not [n for n in names if n.endswith(".tmp")]
    first = remote["splits"]["train"]["shards"][0]["path"]
    assert first.startswith("s3://datasets/tiny/")
    with fs.open(first, "rb") as handle, tarfile.open(fileobj=handle) as tar:
        keys = {member.name.split(".", 1)[0] for member in tar.getmembers()}
    assert len(keys) == remote["splits"]["train"]["shards"][0]["count"]
    capsys.readouterr()
    build_dataset(
        tiny("workers=0", f"output_dir={url}", f"+storage_options={options}", out="remote")
    )
    total = len(digests(local))
    assert f"resumed: {total} of {total} shards already done" in capsys.readouterr().out


def test_content_digest_names_the_data_not_the_build(tiny: Callable[..., DictConfig]) -> None:
    serial = build_dataset(tiny("executor=serial", out="a"))
    other_workers = build_dataset(tiny("workers=2", out="b"))
    assert serial["card_sha256"] != other_workers["card_sha256"]  # the config differs...
    assert serial["content_sha256"] == other_workers["content_sha256"]  # ...the data does not


def test_a_manifest_of_object_store_urls_builds_like_local_files(
    build_config: Callable[..., DictConfig],
    catalogue: Path,
    s3_bucket: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fsspec

    fs = fsspec.filesystem("s3", **s3_bucket)
    files = sorted(p for p in catalogue.iterdir() if p.suffix in {".wav", ".flac"})[:4]
    local_rows, remote_rows = [], []
    for file in files:
        fs.put_file(str(file), f"datasets/catalogue/{file.name}")
        local_rows.append({"path": str(file), "id": file.name})
        remote_rows.append({"path": f"s3://datasets/catalogue/{file.name}", "id": file.name})
    manifests = {}
    for name, rows in (("local", local_rows), ("remote", remote_rows)):
        manifests[name] = tmp_path / f"{name}.jsonl"
        manifests[name].write_text("".join(json.dumps(r) + "\n" for r in rows))
    # sources read through fsspec's own configuration (what FSSPEC_S3_* variables set)
    monkeypatch.setitem(
        fsspec.config.conf,
        "s3",
        {"key": "testing", "secret": "testing", "client_kwargs": s3_bucket["client_kwargs"]},
    )
    monkeypatch.setenv("SYNTHDEFECTS_CACHE", str(tmp_path / "cache"))
    cards = {
        name: build_dataset(
            build_config(
                "sources=manifest",
                f"sources.path={path}",
                "name=m",
                "workers=0",
                "dataset.samples_per_shard=5",
                out=name,
            )
        )
        for name, path in manifests.items()
    }
    assert (
        cards["remote"]["sources"]["usable_items"] == cards["local"]["sources"]["usable_items"] > 0
    )
    local_counts = {k: v["count"] for k, v in cards["local"]["splits"].items()}
    assert {k: v["count"] for k, v in cards["remote"]["splits"].items()} == local_counts
    assert len(list((tmp_path / "cache").iterdir())) == len(files)  # each object fetched once
