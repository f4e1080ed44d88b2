"""Where shard tasks run: in this process, in a process pool, or as Ray tasks on a cluster.

The unit of work is a shard, and a shard's bytes depend only on its plan entry, so the executor
decides speed and nothing else: the same config gives byte-identical shards with any executor
and any worker count (tests/builder/test_executors.py checks it). Every executor returns the
results in job order whatever the completion order, reports each finished task to one
``progress`` callback (one progress bar, whatever the executor), retries a task that raised or
whose worker died, and hands back a :class:`TaskFailure` for a task that kept failing instead
of losing the other shards.
"""

from __future__ import annotations

import logging
import os
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class TaskFailure:
    """A task that failed on every attempt: which one, why (one line), after how many tries."""

    task: str
    error: str
    attempts: int

    def to_json(self) -> dict[str, Any]:
        return {"task": self.task, "error": self.error, "attempts": self.attempts}


class TaskError(RuntimeError):
    """Raised inside a task with the context a user needs: which sample, from which file."""


def describe(error: BaseException) -> str:
    """One line: the error's own text, plus where it was raised when it is not a TaskError."""
    text = f"{type(error).__name__}: {error}".strip()
    if isinstance(error, TaskError):
        return str(error)
    frames = traceback.extract_tb(error.__traceback__)
    if frames:
        last = frames[-1]
        text += f" (at {os.path.basename(last.filename)}:{last.lineno} in {last.name})"
    return text.replace("\n", " | ")


def core_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Executor(Protocol, Generic[T, R]):
    name: str

    def map(
        self,
        function: Callable[[T], R],
        jobs: Sequence[T],
        names: Sequence[str],
        progress: Callable[[R | TaskFailure], None],
    ) -> list[R | TaskFailure]: ...


@dataclass
class SerialExecutor:
    """Everything in this process, in plan order: the reference the others must equal."""

    retries: int = 1
    name: str = "serial"

    def map(self, function, jobs, names, progress):  # type: ignore[no-untyped-def]
        results = []
        for job, task in zip(jobs, names, strict=True):
            outcome: Any = None
            for attempt in range(1, self.retries + 2):
                try:
                    outcome = function(job)
                    break
                except Exception as error:  # a task failure is data here
                    outcome = TaskFailure(task, describe(error), attempt)
                    log.warning("%s failed (attempt %d): %s", task, attempt, outcome.error)
            results.append(outcome)
            progress(outcome)
        return results


@dataclass
class ProcessExecutor:
    """A local process pool (``workers`` processes, default every core).

    A worker killed from outside (OOM killer, ``kill -9``) breaks the whole pool in
    ``concurrent.futures``: the pool is rebuilt and every unfinished task resubmitted, at most
    ``retries`` times per build; after that the unfinished tasks are reported as failures.
    """

    workers: int | None = None
    retries: int = 1
    name: str = "processes"

    def map(self, function, jobs, names, progress):  # type: ignore[no-untyped-def]
        workers = self.workers if self.workers is not None else core_count()
        if workers <= 1 or len(jobs) <= 1:
            return SerialExecutor(self.retries).map(function, jobs, names, progress)
        results: list[Any] = [None] * len(jobs)
        attempts = [0] * len(jobs)
        pending = list(range(len(jobs)))
        restarts = 0
        while pending:
            batch, pending = pending, []
            try:
                with ProcessPoolExecutor(max_workers=min(workers, len(batch))) as pool:
                    futures = {pool.submit(function, jobs[i]): i for i in batch}
                    for future in as_completed(futures):
                        index = futures[future]
                        try:
                            results[index] = future.result()
                        except BrokenProcessPool:
                            raise
                        except Exception as error:  # a task failure is data
                            attempts[index] += 1
                            log.warning(
                                "%s failed (attempt %d): %s",
                                names[index],
                                attempts[index],
                                describe(error),
                            )
                            if attempts[index] <= self.retries:
                                pending.append(index)
                                continue
                            results[index] = TaskFailure(
                                names[index], describe(error), attempts[index]
                            )
                        progress(results[index])
            except BrokenProcessPool:
                restarts += 1
                unfinished = [i for i in batch if results[i] is None and i not in pending]
                log.warning("a worker process died; %d unfinished task(s)", len(unfinished))
                if restarts <= self.retries:
                    pending.extend(unfinished)
                else:
                    for index in unfinished:
                        results[index] = TaskFailure(
                            names[index],
                            "worker process died (killed or out of memory)",
                            restarts,
                        )
                        progress(results[index])
            pending.sort()
        return results


@dataclass
class RayExecutor:
    """One Ray task per shard: a local Ray (``address=None``) or a cluster (``auto``/host:port).

    Ray retries tasks whose worker died (``max_retries``) and, with ``retry_exceptions``, tasks
    that raised. The function and its jobs are pickled to the cluster, so every node needs the
    project importable (same checkout or installed package) and the sources reachable (shared
    folder or object storage URLs).
    """

    address: str | None = None
    cpus_per_task: float = 1.0
    workers: int | None = None  # local Ray only: CPUs it may use (default every core)
    retries: int = 1
    name: str = "ray"

    def map(self, function, jobs, names, progress):  # type: ignore[no-untyped-def]
        import ray

        started_here = not ray.is_initialized()
        if started_here:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                options["address"] = self.address
            else:
                options["num_cpus"] = self.workers if self.workers is not None else core_count()
            # The project must be importable on the workers: ship this checkout's modules.
            ray.init(**options, runtime_env=_runtime_env(self.address))
        try:
            remote = ray.remote(
                num_cpus=self.cpus_per_task, max_retries=self.retries, retry_exceptions=True
            )(function)
            refs = {remote.remote(job): index for index, job in enumerate(jobs)}
            results: list[Any] = [None] * len(jobs)
            remaining = list(refs)
            while remaining:
                done, remaining = ray.wait(remaining, num_returns=1)
                index = refs[done[0]]
                try:
                    results[index] = ray.get(done[0])
                except Exception as error:
                    cause = getattr(error, "cause", None) or error
                    results[index] = TaskFailure(names[index], describe(cause), self.retries + 1)
                progress(results[index])
            return results
        finally:
            if started_here:
                ray.shutdown()


def _runtime_env(address: str | None) -> dict[str, Any] | None:
    """Local Ray workers start in this directory with this interpreter: nothing to ship. A remote
    cluster gets the working directory's Python packages (``working_dir``) unless told not to."""
    if not address or os.environ.get("SYNTHDEFECTS_RAY_NO_WORKING_DIR"):
        return None
    return {"working_dir": os.getcwd(), "excludes": ["data/", "logs/", "exports/", ".venv/"]}


def make_executor(spec: dict[str, Any] | None) -> SerialExecutor | ProcessExecutor | RayExecutor:
    """The executor a config asks for: ``{"kind": "serial"|"processes"|"ray", ...options}``."""
    spec = dict(spec or {"kind": "processes"})
    kind = spec.pop("kind", "processes")
    classes = {"serial": SerialExecutor, "processes": ProcessExecutor, "ray": RayExecutor}
    if kind not in classes:
        raise ValueError(f"executor.kind must be one of {sorted(classes)}, got {kind!r}")
    known = set(classes[kind].__dataclass_fields__) - {"name"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise ValueError(f"executor {kind}: unknown option(s) {unknown}; known: {sorted(known)}")
    return classes[kind](**spec)
