"""Batches of dialogue lines: the CSV row reader and report every batch path shares, and ``visemo batch`` on Dask.

- :mod:`visemo.batch.rows`: the one CSV reader (:func:`read_rows`, :class:`Row`),
  output naming, a row's cells parsed.
- :mod:`visemo.batch.report`: :class:`Result`, the summary table, the report
  file (CSV or JSON lines), the exit status.
- :mod:`visemo.batch.command`: ``visemo batch`` (:func:`run_batch`,
  :func:`main_batch`, :func:`add_batch_arguments`) — one Dask task per row,
  resumable through :mod:`visemo.batch.manifest`; rows run in
  :mod:`visemo.batch.work`.

Importing this package imports neither Dask nor bpy (the Blender batch
script uses the reader and the report from inside Blender).
"""

from .report import Result, print_summary, write_report
from .rows import COLUMNS, BatchInputError, Row, read_rows

__all__ = ["Row", "Result", "COLUMNS", "BatchInputError", "read_rows", "print_summary", "write_report",
           "run_batch", "main_batch", "add_batch_arguments", "BatchOptions"]


def __getattr__(name):  # the Dask side loads only when used
    if name in ("run_batch", "main_batch", "add_batch_arguments", "BatchOptions", "BatchOutcome"):
        from . import command

        return getattr(command, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
