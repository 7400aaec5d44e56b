"""Per-queue work on this machine or on a Dask cluster, with the same answers either way.

A planner with hundreds of queues (skills × languages × channels × sites) runs the same pure
function once per queue: fit, forecast, staff. :func:`run_per_queue` runs it in this process
(the default: small jobs gain nothing from a cluster), on a ``LocalCluster`` of worker processes
(``scheduler="local"``), or on an existing cluster (``scheduler="tcp://host:8786"``, or the
``CAPPLAN_DASK_SCHEDULER`` variable). Each task gets exactly the inputs the sequential run
would, so the results are identical; a queue that fails is reported by name with its reason
and the other queues' results are kept; a task whose worker dies is retried by Dask.

Nothing here logs to MLflow: the caller gathers the results on the client and logs once.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from forecasting.common.errors import InputError

log = logging.getLogger("capplan")

SCHEDULER_VARIABLE = "CAPPLAN_DASK_SCHEDULER"
IN_PROCESS = ("", "none", "sync", "in-process")
LOCAL = "local"
CONNECT_SECONDS = 10  # an address with no scheduler behind it is said after this long
RETRIES = 2  # a task whose worker died is run again this many times before its queue is reported
PROGRESS_SECONDS = 10.0


class PanelError(RuntimeError):
    """Some queues could not be done; the message names them (the others' results are kept)."""

    def __init__(self, what: str, outcome: PanelOutcome):
        self.outcome = outcome
        self.partial = None  # what the caller made of the queues done, kept apart
        names = ", ".join(list(outcome.failures)[:10]) + (" …" if len(outcome.failures) > 10 else "")
        first = next(iter(outcome.failures.values()))
        super().__init__(
            f"{what}: {len(outcome.failures)} of {outcome.total} queues not done ({names}); first reason: {first}"
        )


@dataclass
class PanelOutcome:
    """Each queue's result (in the order the queues were given) and why the others failed."""

    results: dict[str, Any] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    total: int = 0

    def complete(self, what: str) -> dict[str, Any]:
        """The results, or a :class:`PanelError` naming every queue not done."""
        if self.failures:
            raise PanelError(what, self)
        return self.results


def scheduler_from(option: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """The scheduler a command uses: its option, else ``CAPPLAN_DASK_SCHEDULER``, else none
    (in this process)."""
    env = os.environ if env is None else env
    chosen = (option if option is not None else env.get(SCHEDULER_VARIABLE, "")).strip()
    return None if chosen.lower() in IN_PROCESS else chosen


def run_per_queue(
    task: Callable[..., Any],
    inputs: Mapping[str, tuple],
    scheduler: str | None = None,
    *,
    what: str = "queues",
    workers: int | None = None,
) -> PanelOutcome:
    """``task(*inputs[queue])`` for every queue, here or on the scheduler's workers.

    ``task`` must be a module-level function of pure inputs (it is pickled to the workers);
    an exception in one queue becomes that queue's failure, not the run's."""
    outcome = PanelOutcome(total=len(inputs))
    if scheduler is None:
        for done, (queue, args) in enumerate(inputs.items(), 1):
            _record(outcome, queue, _guarded(task, *args))
            _progress(what, done, len(inputs))
        return outcome
    with dask_client(scheduler, workers) as client:
        from distributed import as_completed

        futures = {
            client.submit(
                _guarded, task, *args, key=f"capplan-{what}-{i}-{queue}", retries=RETRIES, pure=False
            ): queue
            for i, (queue, args) in enumerate(inputs.items())
        }
        found: dict[str, tuple[str, Any]] = {}
        last = time.monotonic()
        for future in as_completed(futures):
            queue = futures[future]
            try:
                found[queue] = future.result()
            except Exception as exc:  # the worker died more than RETRIES times, or the task could not run
                found[queue] = ("error", f"{type(exc).__name__}: {exc}")
            if time.monotonic() - last > PROGRESS_SECONDS:
                log.info("%s: %d of %d queues done on %s", what, len(found), len(inputs), scheduler)
                last = time.monotonic()
        for queue in inputs:  # in the order given, not the order they finished
            _record(outcome, queue, found[queue])
    return outcome


def _guarded(task: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    try:
        return "ok", task(*args)
    except Exception as exc:  # one queue's failure, said by name; the others go on
        return "error", (str(exc) if _is_input_error(exc) else f"{type(exc).__name__}: {exc}")


def _is_input_error(exc: Exception) -> bool:
    return isinstance(exc, InputError)


def _record(outcome: PanelOutcome, queue: str, done: tuple[str, Any]) -> None:
    status, value = done
    if status == "ok":
        outcome.results[queue] = value
    else:
        outcome.failures[queue] = value


def _progress(what: str, done: int, total: int) -> None:
    if total >= 20 and done % max(1, total // 10) == 0:
        log.info("%s: %d of %d queues done", what, done, total)


@contextmanager
def dask_client(scheduler: str, workers: int | None = None) -> Iterator[Any]:
    """A client of an existing cluster (an address), or of a ``LocalCluster`` of worker
    processes (``local``: one per core, one thread each, since every fit is single-threaded)
    started for this job and stopped after it."""
    from distributed import Client, LocalCluster

    if scheduler != LOCAL:
        try:
            client = Client(scheduler, set_as_default=True, timeout=CONNECT_SECONDS)
        except (OSError, TimeoutError, ValueError) as exc:  # no scheduler there, or not an address
            raise InputError(
                f"no Dask scheduler answers at {scheduler} ({type(exc).__name__})",
                option="scheduler",
                expected="local, or the address of a running scheduler (tcp://host:8786)",
                found=scheduler,
            ) from None
        with client:
            yield client
        return
    n = workers or max(1, os.cpu_count() or 1)
    logging.getLogger("distributed").setLevel(logging.WARNING)
    with (
        LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        ) as cluster,
        Client(cluster, set_as_default=True) as client,
    ):
        yield client
