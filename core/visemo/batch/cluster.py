"""Where a batch runs: a Dask ``LocalCluster`` sized to this machine, or an existing cluster's scheduler.

Workers are processes with one thread each: the pipeline holds the GIL and
bpy is not thread-safe.  On the local cluster a worker that dies while
running a row fails that row at once (``allowed-failures`` 0) and each worker
holds one row at a time (``worker-saturation`` 1.0), so only the row it was
running is blamed; the client then runs that row once more
(:func:`visemo.batch.command.run_batch`).  Start an external scheduler with
the same two settings for the same behaviour (see the README).
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from typing import Iterator

from ..errors import DependencyError

SCHEDULER_SETTINGS = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
}
"""Scheduler settings of the local cluster (an external scheduler: DASK_DISTRIBUTED__SCHEDULER__... variables)."""


def require_dask():
    """``distributed``, or a DependencyError that says what to install."""
    try:
        import distributed
    except ImportError:
        raise DependencyError('visemo batch runs on Dask: pip install "visemo[batch]" '
                              '(or pip install "dask[distributed]" tqdm)') from None
    return distributed


def default_workers() -> int:
    """One worker per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def batch_client(workers: int | None = None, scheduler: str | None = None,
                 dashboard_address: str | None = ":8787") -> Iterator[object]:
    """A ``distributed.Client``: to ``scheduler`` (``tcp://HOST:8786``), else to a new LocalCluster.

    ``workers``: local worker processes (default: one per CPU).  The local
    cluster is closed on exit; an external one is left running.
    """
    distributed = require_dask()
    import dask

    if scheduler:
        with distributed.Client(scheduler, timeout="30s") as client:
            yield client
        return
    n = workers or default_workers()
    with dask.config.set(SCHEDULER_SETTINGS), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")  # it takes another; we print it
        cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                           dashboard_address=dashboard_address, silence_logs=logging.CRITICAL)
    try:
        with distributed.Client(cluster) as client:
            yield client
    finally:
        cluster.close()


def dashboard(client) -> str | None:
    """The Dask dashboard's address, when the scheduler serves one."""
    import importlib.util

    if importlib.util.find_spec("bokeh") is None and getattr(client, "cluster", None) is not None:
        return None  # a local cluster serves no dashboard without bokeh
    try:
        return client.dashboard_link or None
    except Exception:  # noqa: BLE001 - no dashboard is not an error
        return None


def worker_count(client) -> int:
    """Worker threads the scheduler has now."""
    try:
        return sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
    except Exception:  # noqa: BLE001
        return 0
