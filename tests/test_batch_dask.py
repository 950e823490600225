"""``visemo batch`` (visemo.batch): CSV rows as Dask tasks — same curves as ``visemo animate``, models
loaded once per worker, resume through the manifest, bad rows reported per row, a dying worker's row
run once more, exit codes, the report."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")

import dask  # noqa: E402

import tts  # noqa: E402
from synthetic import write_character_blend  # noqa: E402
from visemo import Animation  # noqa: E402
from visemo.batch import report as report_mod  # noqa: E402
from visemo.batch.cluster import SCHEDULER_SETTINGS  # noqa: E402
from visemo.batch.command import BatchOptions, run_batch  # noqa: E402
from visemo.batch.manifest import MANIFEST_NAME  # noqa: E402
from visemo.batch.rows import BatchInputError, plan_outputs, read_rows  # noqa: E402
from visemo.batch.work import SUFFIXES  # noqa: E402
from visemo.cli import main as visemo_main  # noqa: E402

# hooks and plugins defined here travel to the workers by value (the workers need not import this file)
cloudpickle.register_pickle_by_value(sys.modules[__name__])

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets" / "speech" / "sense_and_sensibility_0870.wav"


# ---------------------------------------------------------------------------------------- fixtures
class CountDecoders(distributed.WorkerPlugin):
    """Counts pocketsphinx Decoder constructions in each worker (the pipeline's model loads)."""

    def setup(self, worker):
        import pocketsphinx

        if not hasattr(pocketsphinx, "_visemo_loads"):
            original = pocketsphinx.Decoder
            pocketsphinx._visemo_loads = [0]

            def counting(*args, **kwargs):
                pocketsphinx._visemo_loads[0] += 1
                return original(*args, **kwargs)

            pocketsphinx.Decoder = counting


def _decoder_loads():
    import pocketsphinx

    return pocketsphinx._visemo_loads[0]


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, set as ``visemo batch`` sets its LocalCluster."""
    with dask.config.set(SCHEDULER_SETTINGS):
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=50)
    with distributed.Client(cluster) as c:
        c.register_plugin(CountDecoders())
        yield c
    cluster.close()


@pytest.fixture(scope="module")
def lines(tmp_path_factory):
    """A folder with 4 flite lines (4 voices) under audio/, and their texts by file name."""
    if not tts.have_flite():
        pytest.skip("flite is not installed (apt-get install flite)")
    d = tmp_path_factory.mktemp("lines")
    (d / "audio").mkdir()
    texts = {}
    for i, voice in enumerate(tts.VOICES):
        u = tts.synthesize(tts.SENTENCES[i], voice, d / "tts")
        name = f"line{i}.wav"
        shutil.copy(u.path, d / "audio" / name)
        texts[name] = u.text
    return d, texts


def write_csv(path: Path, rows) -> Path:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def run(client, csv_path, out_dir, hook=None, **options):
    return run_batch(BatchOptions(csv=Path(csv_path), out_dir=Path(out_dir), progress=False, **options),
                     client=client, hook=hook)


def animate_cli(*args) -> None:
    assert visemo_main(["animate", *map(str, args), "-q"]) == 0


def manifest_lines(out_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (out_dir / MANIFEST_NAME).read_text().splitlines()]


def stamps(paths) -> dict:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in paths}


# ---------------------------------------------------------------------------------------- the reader
def test_one_reader_for_both_batch_paths(tmp_path):
    rows = read_rows(write_csv(tmp_path / "r.csv", [
        ["File", "Emotion", "Language", "Format", "Output", "Photo"],
        ["a.wav", "happy", "cs", "csv", "", ""],
        ["# a comment", "", "", "", "", ""],
        ["b.wav", "", "", "", "take.mesh.npz", "face.png"],
        ["a.wav", "sad", "", "", "", ""],
        ["c.wav", "", "", "obj", "", ""],
    ]))
    assert [(r.number, r.file, r.language, r.format) for r in rows] == [
        (1, "a.wav", "cs", "csv"), (3, "b.wav", None, None), (4, "a.wav", None, None), (5, "c.wav", None, "obj")]
    plan = plan_outputs(rows, tmp_path, "json", SUFFIXES)
    assert plan[1] == tmp_path / "a.csv" and plan[3] == tmp_path / "take.mesh.npz"
    assert plan[4] == tmp_path / "a.json"
    assert "format 'obj' cannot be written" in plan[5]
    # the Blender script reads with the very same function
    code = ("import visemo.blender.batch as b, visemo.batch.rows as r, visemo.batch.report as p;"
            "print(b.read_rows is r.read_rows, b.Row is r.Row, b.Result is p.Result, b.print_summary is p.print_summary)")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert got.stdout.split() == ["True"] * 4, got.stderr
    with pytest.raises(BatchInputError, match="unknown column 'mood'"):
        read_rows(write_csv(tmp_path / "bad.csv", [["file", "mood"], ["a.wav", "x"]]))


# ---------------------------------------------------------------------------------------- same curves
def test_rows_match_visemo_animate_and_models_load_once_per_worker(client, lines, tmp_path):
    d, texts = lines
    client.wait_for_workers(2, timeout=60)
    rows = [["file", "emotion", "intensity", "transcript", "output", "format"]]
    emotions = ["happy", "sad", "quietly furious", "surprised", "happy", "sad"]
    for i in range(6):
        name = f"line{i % 4}.wav"
        rows.append([f"audio/{name}", emotions[i], "0.8" if i % 2 else "", texts[name], f"take{i}",
                     "csv" if i == 1 else ""])
    rows.append(["audio/line0.wav", "happy", "", texts["line0.wav"], "take6.glb", ""])
    rows.append(["audio/line1.wav", "0=happy; 900=sad", "", texts["line1.wav"], "take7", ""])  # 900: ms, say
    out = tmp_path / "out"
    res = run(client, write_csv(d / "same.csv", rows), out, seed=4, report=tmp_path / "report.jsonl")
    assert res.status == 0, [r.error for r in res.results]
    assert [r.status for r in res.results] == ["ok"] * 8

    for i, row in enumerate(rows[1:7]):
        got = out / f"take{i}.{'csv' if i == 1 else 'json'}"
        ref = tmp_path / f"ref{i}{got.suffix}"
        args = [d / row[0], "--emotion", row[1], "--transcript", row[3], "--seed", 4, "-o", ref]
        animate_cli(*args, *(["--intensity", row[2]] if row[2] else []))
        a, b = Animation.load(got), Animation.load(ref)
        assert a.fps == b.fps and a.frames == b.frames
        np.testing.assert_allclose(a.weights, b.weights, atol=1e-6)
    ref_glb = tmp_path / "ref.glb"
    animate_cli(d / "audio" / "line0.wav", "--emotion", "happy", "--transcript", texts["line0.wav"],
                "--seed", 4, "-o", ref_glb)
    assert (out / "take6.glb").read_bytes() == ref_glb.read_bytes()  # the Blender row: the same file

    # models load once per worker: per worker, the cached models do not grow from row to row,
    # and pocketsphinx decoders were built at most once per kind, however many rows the worker ran
    per_worker = {w: n for w, n in client.run(_decoder_loads).items()}
    assert sum(per_worker.values()) >= 1
    assert all(n <= 2 for n in per_worker.values()), per_worker
    for worker, loaded in res.models.items():
        assert 1 <= loaded["pocketsphinx decoders"] <= 2 and loaded["text encoders"] <= 1, (worker, loaded)

    # the report: one line per row with timings
    report = report_mod.read_report(tmp_path / "report.jsonl")
    assert [r["row"] for r in report] == list(range(1, 9))
    note = report.pop()["note"]  # the last row's second key comes after its speech
    assert note.startswith("emotion key at 900.00 s comes at or after the last frame (") and "does not show" in note
    for r in report:
        assert r["note"] == ""
        assert r["status"] == "ok" and r["attempts"] == 1 and r["worker"]
        assert 0 < r["perform_seconds"] <= r["seconds"] and r["started"] <= r["finished"]
        assert r["speech_seconds"] > 1.0
    assert len({r["worker"] for r in report}) == 2  # both workers took rows


# ---------------------------------------------------------------------------------------- resume
def test_resume_skips_done_rows_and_redoes_a_changed_one(client, lines, tmp_path):
    d, texts = lines
    src = tmp_path / "src"
    shutil.copytree(d / "audio", src)
    rows = [["file", "emotion", "transcript"]] + [[f"line{i}.wav", "happy", texts[f"line{i}.wav"]]
                                                 for i in range(3)]
    rows[1][1] = "0=happy; 900=sad"  # a key after the speech: the row's note survives a resume
    table = write_csv(src / "rows.csv", rows)
    out = tmp_path / "out"
    first = run(client, table, out)
    assert first.status == 0 and [r.status for r in first.results] == ["ok"] * 3
    outputs = sorted(out.glob("line*.json"))
    before = stamps(outputs)
    assert len(manifest_lines(out)) == 3

    again = run(client, table, out)
    assert again.status == 0 and [r.status for r in again.results] == ["unchanged"] * 3
    assert [bool(r.note) for r in again.results] == [True, False, False]
    assert again.results[0].note == first.results[0].note and "900.00 s" in first.results[0].note
    assert stamps(outputs) == before  # not written again
    assert len(manifest_lines(out)) == 3  # nothing new to record

    # line1's speech changes (another voice saying it): only row 2 runs again
    shutil.copy(tts.synthesize(texts["line1.wav"], "awb", tmp_path / "tts").path, src / "line1.wav")
    third = run(client, table, out)
    assert [r.status for r in third.results] == ["unchanged", "ok", "unchanged"]
    after = stamps(outputs)
    assert after["line0.json"] == before["line0.json"] and after["line2.json"] == before["line2.json"]
    assert after["line1.json"] != before["line1.json"]
    lines_now = manifest_lines(out)
    assert len(lines_now) == 4 and lines_now[-1]["key"] == "line1.json" and lines_now[-1]["status"] == "ok"
    assert lines_now[-1]["fingerprint"] != next(r for r in lines_now if r["key"] == "line1.json")["fingerprint"]
    # a changed cell (the emotion) also runs the row again; --redo runs everything
    rows[1][1] = "sad"
    write_csv(table, rows)
    assert [r.status for r in run(client, table, out).results] == ["ok", "unchanged", "unchanged"]
    assert [r.status for r in run(client, table, out, redo=True).results] == ["ok"] * 3
    assert not list(out.glob(".*.part*")) and not list((out / ".visemo-pending").glob("*"))


# ---------------------------------------------------------------------------------------- bad rows
@pytest.fixture(scope="module")
def character(tmp_path_factory):
    """scene.blend, built in a child process: 'face' (ARKit shape keys, active) and 'plain' (none)."""
    path = tmp_path_factory.mktemp("character") / "scene.blend"
    r = write_character_blend(path)
    if r.returncode != 0 or not path.is_file():
        pytest.skip(f"cannot build a .blend here: {r.stderr[-300:]}")
    return path


def test_bad_rows_are_reported_one_line_each_and_good_rows_written(client, lines, character, tmp_path):
    d, texts = lines
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg " * 20)
    t0 = texts["line0.wav"]
    table = write_csv(d / "bad.csv", [
        ["file", "emotion", "intensity", "object", "transcript", "output", "portrait"],
        ["audio/line0.wav", "happy", "", "", t0, "good1", ""],
        ["audio/missing.wav", "happy", "", "", "", "missing", ""],
        ["audio/line0.wav", "zqxjvw", "", "", t0, "unknown_emotion", ""],
        ["audio/line0.wav", "angry", "", "plain", t0, "no_keys.glb", ""],
        ["audio/line0.wav", "sad", "", "", t0, "corrupt_photo", "corrupt.jpg"],
        ["audio/line0.wav", "sad", "2", "", t0, "too_intense", ""],
        ["audio/line1.wav", "sad", "", "face", texts["line1.wav"], "good2.glb", ""],
        ["audio/line2.wav", "", "", "", texts["line2.wav"], "good1.json", ""],
    ])
    out = tmp_path / "out"
    res = run(client, table, out, character=character)
    assert res.status == 2
    status = {r.row: (r.status, r.error) for r in res.results}
    assert [s for s, _ in status.values()] == ["ok", "bad input", "bad input", "bad input", "bad input",
                                              "bad input", "ok", "bad input"]
    assert "speech file not found" in status[2][1]
    assert "unknown emotion 'zqxjvw'" in status[3][1]
    assert "object 'plain' has no shape keys" in status[4][1]
    assert "cannot read corrupt.jpg as an image" in status[5][1]
    assert "intensity must be between 0 and 1" in status[6][1]
    assert "is also row 1's output" in status[8][1]
    for _, error in status.values():
        assert "\n" not in error and "Traceback" not in error
    # exactly the good rows' files; the report lists every row with its one-line reason
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "good1.json", "good2.glb", MANIFEST_NAME, "visemo-report.csv"]
    report = report_mod.read_report(out / "visemo-report.csv")
    assert [int(r["row"]) for r in report] == list(range(1, 9))
    assert [r["error"] for r in report] == [one for _, one in status.values()]


# ---------------------------------------------------------------------------------------- dying workers
def _die_on(row, attempt):
    """Test hook: the worker running 'die.wav' dies every time, 'flaky.wav' only the first time."""
    if row.file == "die.wav" or (row.file == "flaky.wav" and attempt == 1):
        os._exit(1)


def test_a_killed_workers_row_is_retried_once_then_reported(client, lines, tmp_path):
    d, texts = lines
    for name in ("die.wav", "flaky.wav", "fine.wav"):
        shutil.copy(d / "audio" / "line3.wav", tmp_path / name)
    t = texts["line3.wav"]
    table = write_csv(tmp_path / "rows.csv", [["file", "transcript"], ["die.wav", t], ["flaky.wav", t],
                                              ["fine.wav", t]])
    res = run(client, table, tmp_path / "out", hook=_die_on)
    got = {r.file: r for r in res.results}
    assert res.status == 1
    assert got["die.wav"].status == "error" and got["die.wav"].attempts == 2
    assert "died twice" in got["die.wav"].error
    assert got["flaky.wav"].status == "ok" and got["flaky.wav"].attempts == 2
    assert got["fine.wav"].status == "ok"
    assert sorted(p.name for p in (tmp_path / "out").glob("*.json")) == ["fine.json", "flaky.json"]
    last = {r["key"]: r for r in manifest_lines(tmp_path / "out")}
    assert last["die.json"]["status"] == "error" and last["die.json"]["attempts"] == 2
    client.wait_for_workers(2, timeout=60)  # the nannies brought the workers back


# ---------------------------------------------------------------------------------------- exit codes
def batch_main(argv: list[str]) -> int:
    """``visemo batch ARGV`` in this process (``python -m visemo.batch`` calls the same)."""
    return visemo_main(["batch", *argv])


def test_exit_codes_through_the_command(lines, tmp_path, capsys):
    d, texts = lines
    t = texts["line0.wav"]
    good = write_csv(d / "good.csv", [["file", "transcript"], ["audio/line0.wav", t]])
    out = tmp_path / "out"
    # its own LocalCluster (1 worker): all rows good -> 0
    assert batch_main([str(good), "--out-dir", str(out), "--workers", "1", "-q"]) == 0
    captured = capsys.readouterr()
    assert "visemo: batch done: 1 ok, 0 bad input, 0 internal errors, 0 not run" in captured.out
    assert (out / "line0.json").is_file()
    # a bad CSV or option: 2 before any work, one line on stderr
    assert batch_main([str(d / "none.csv"), "--out-dir", str(out)]) == 2
    assert capsys.readouterr().err.strip() == f"visemo: error: batch CSV not found: {d / 'none.csv'}"
    assert batch_main([str(good), "--out-dir", str(out), "--format", "obj"]) == 2
    assert "--format must be one of" in capsys.readouterr().err


def test_internal_failure_exits_1_and_the_other_rows_are_written(client, lines, tmp_path):
    d, texts = lines
    t = texts["line0.wav"]
    table = write_csv(d / "internal.csv", [["file", "transcript", "output"], ["audio/line0.wav", t, "blocked"],
                                           ["audio/line0.wav", t, "fine"]])
    out = tmp_path / "out"
    (out / "blocked.json").mkdir(parents=True)  # a folder where the file should go
    res = run(client, table, out)
    assert res.status == 1
    assert [r.status for r in res.results] == ["error", "ok"]
    assert "IsADirectoryError" in res.results[0].error
    assert list((out / "blocked.json").iterdir()) == [] and (out / "fine.json").is_file()
    assert not list(out.glob(".*.part*"))


def test_a_second_batch_into_the_same_folder_is_refused(lines, tmp_path):
    from visemo.batch.manifest import Manifest

    d, _ = lines
    with Manifest(tmp_path / "out"):
        with pytest.raises(BatchInputError, match="another visemo batch"):
            Manifest(tmp_path / "out").open()


def test_rows_a_dead_client_never_recorded_are_folded_in_not_run_again(client, lines, tmp_path):
    """A worker drops each finished row's manifest line beside the outputs; a client that died before
    recording it leaves that file (and perhaps a killed writer's temporary file) for the next run."""
    from visemo.batch.manifest import PENDING_DIR, pending_path

    d, texts = lines
    table = write_csv(d / "dead.csv", [["file", "transcript"]] +
                      [[f"audio/line{i}.wav", texts[f"line{i}.wav"]] for i in range(2)])
    out = tmp_path / "out"
    assert run(client, table, out).status == 0
    records = manifest_lines(out)
    (out / MANIFEST_NAME).write_text(json.dumps(records[0]) + "\n")  # the client died before the 2nd line
    pending_path(out, records[1]["key"]).parent.mkdir(exist_ok=True)
    pending_path(out, records[1]["key"]).write_text(json.dumps(records[1]))
    (out / ".line1.x1y2z3.part.json").write_text('{"format": "visemo.anim')  # a killed writer's leftover
    before = stamps(out.glob("line*.json"))
    res = run(client, table, out)
    assert [r.status for r in res.results] == ["unchanged", "unchanged"]
    assert stamps(out.glob("line*.json")) == before
    # the recorded line, then the folded-in one (records are in the order the rows finished)
    assert [r["key"] for r in manifest_lines(out)] == [records[0]["key"], records[1]["key"]]
    assert sorted(r["key"] for r in records) == ["line0.json", "line1.json"]
    assert not (out / PENDING_DIR).exists() and not list(out.glob(".*.part*"))
