"""The one batch report: per-row :class:`Result` s, the summary table, the machine-readable report, the exit status.

Shared by ``visemo batch`` and the Blender script's ``--batch``.  The report
file is CSV (``.csv``) or JSON lines (``.jsonl``), one line per row, with
timings in seconds and start/finish as Unix times.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..export.atomic import atomic_path

OK, UNCHANGED, BAD_INPUT, ERROR = "ok", "unchanged", "bad input", "error"
"""Row statuses: written now; done before with the same inputs (kept); bad input (VisemoError); internal failure."""

REPORT_SUFFIXES = (".csv", ".jsonl")


@dataclass
class Result:
    """What became of one row.  Times in seconds; ``started``/``finished`` are Unix times (None: not known)."""

    row: int
    file: str | None
    status: str
    seconds: float
    output: str = ""
    error: str = ""
    note: str = ""  # what the user should know of a row that is ok (emotion keys after the speech ends)
    speech_seconds: float | None = None
    perform_seconds: float | None = None
    write_seconds: float | None = None
    attempts: int = 1
    worker: str = ""
    started: float | None = None
    finished: float | None = None

    def detail(self) -> str:
        """The row's outcome on one line: its output (then its note, if any) or its error."""
        return one_line(self.output or self.error) + (f"; {one_line(self.note)}" if self.note else "")

    def to_dict(self) -> dict:
        """The report line's fields (error and note on one line)."""
        d = asdict(self)
        d["error"], d["note"] = one_line(self.error), one_line(self.note)
        return d


COLUMNS = tuple(f.name for f in fields(Result))
"""The report's columns, in order."""


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines too) made one space."""
    return " ".join(str(text).split())


def counts(results: list[Result]) -> dict[str, int]:
    """How many rows have each status."""
    return {s: sum(r.status == s for r in results) for s in (OK, UNCHANGED, BAD_INPUT, ERROR)}


def exit_status(results: list[Result], interrupted: bool = False) -> int:
    """130 interrupted; 1 if any row failed internally; else 2 if any had bad input; else 0."""
    if interrupted:
        return 130
    c = counts(results)
    if c[ERROR]:
        return 1
    if c[BAD_INPUT]:
        return 2
    return 0


def print_summary(results: list[Result], total: int, seconds: float, stream=None,
                  max_rows: int | None = None, report: Path | None = None) -> None:
    """The closing lines: ``visemo: batch done: ...`` then a table (row, file, status, seconds, output or error).

    ``total``: rows in the batch (those without a result count as not run).
    ``max_rows``: with more results than this, only the rows that failed are
    listed (at most ``max_rows``), and ``report`` is named for the rest.
    """
    out = stream or sys.stdout
    c = counts(results)
    unchanged = f", {c[UNCHANGED]} unchanged (done before)" if c[UNCHANGED] else ""
    print(f"visemo: batch done: {c[OK]} ok, {c[BAD_INPUT]} bad input, {c[ERROR]} internal errors, "
          f"{total - len(results)} not run{unchanged}; {seconds:.1f} s", file=out)
    shown = sorted(results, key=lambda r: r.row)
    note = ""
    if max_rows is not None and len(shown) > max_rows:
        failed = [r for r in shown if r.status in (BAD_INPUT, ERROR)]
        note = f"({len(failed)} failed rows of {len(shown)} listed" if failed else f"(all {len(shown)} rows ok"
        shown = failed[:max_rows]
        if len(failed) > max_rows:
            note = f"(the first {max_rows} of {len(failed)} failed rows listed"
        note += f"; every row is in {report})" if report else ")"
    table = [("row", "file", "status", "seconds", "output or error")]
    table += [(str(r.row), r.file or "", r.status, f"{r.seconds:.2f}", r.detail()) for r in shown]
    widths = [max(len(line[c]) for line in table) for c in range(4)]
    if len(table) > 1:
        for line in table:
            cells = [line[0].rjust(widths[0]), line[1].ljust(widths[1]), line[2].ljust(widths[2]),
                     line[3].rjust(widths[3]), line[4]]
            print("  ".join(cells).rstrip(), file=out)
    if note:
        print(f"visemo: {note}", file=out)
    out.flush()


def format_report(results: list[Result], suffix: str = ".csv") -> str:
    """The report's text: CSV with a header row, or JSON lines; rows in row order."""
    rows = [r.to_dict() for r in sorted(results, key=lambda r: r.row)]
    if suffix.lower() == ".jsonl":
        return "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in rows)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(COLUMNS)
    for d in rows:
        w.writerow(["" if d[k] is None else (f"{d[k]:.3f}" if isinstance(d[k], float) else d[k])
                    for k in COLUMNS])
    return buf.getvalue()


def write_report(path: Path, results: list[Result]) -> Path:
    """Write the report (CSV, or JSON lines for a ``.jsonl`` path) atomically; return ``path``."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(format_report(results, ".jsonl" if path.suffix.lower() == ".jsonl" else ".csv"),
                       encoding="utf-8")
    return path


def read_report(path: Path) -> list[dict]:
    """The rows of a report file as dicts (CSV cells are strings; JSON lines keep their types)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return list(csv.DictReader(io.StringIO(text)))
