"""``visemo batch`` on Dask: throughput, scaling, resume after kills, memory per worker, bad rows.

200 generated dialogue lines (flite TTS, voices slt, kal16, awb, rms; two
sentences each, 4-8 s), with their transcripts (forced alignment: the fast,
accurate path), json output, emotions rotating over prompts and inline keys.

1. Throughput in seconds of speech per wall second: a LocalCluster with 1
   worker, with 2 workers, and a simulated two-node cluster (a ``dask
   scheduler`` and two ``dask worker`` processes started separately and
   joined to it, as on two machines); scaling efficiency = throughput with 2
   workers / (2 x throughput with 1).
2. Resume: ``visemo batch`` killed with SIGKILL halfway (the client), then
   run again; separately a worker SIGKILLed halfway.  Every row written
   exactly once (one ``ok`` manifest line per output, files that existed
   before the restart untouched), nothing half-written, the report complete.
3. Memory per worker (RSS sampled every second) over each throughput run.
4. Bad rows (missing audio, unknown emotion, a mesh without shape keys, a
   corrupt photo): the summary the command prints.

    .venv/bin/python benchmarks/bench_batch.py [--lines 200]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

EMOTIONS = ("happy", "sad", "angry", "surprised", "quietly furious", "", "0=happy; 2=sad@0.6", "fearful")


# ------------------------------------------------------------------------------------ inputs
def make_lines(n: int, folder: Path) -> tuple[Path, float]:
    """``n`` flite lines (4 voices) in folder/audio, the CSV; returns (csv, seconds of speech)."""
    import tts

    audio = folder / "audio"
    audio.mkdir(parents=True, exist_ok=True)
    rows, total = [["file", "emotion", "transcript"]], 0.0
    s = tts.SENTENCES
    for i in range(n):
        text = f"{s[i % len(s)]} {s[(i // len(s) + i + 1) % len(s)]}"
        u = tts.synthesize(text, tts.VOICES[i % len(tts.VOICES)], folder / "tts-cache")
        name = f"line{i:04d}.wav"
        if not (audio / name).exists():
            shutil.copy(u.path, audio / name)
        rows.append([f"audio/{name}", EMOTIONS[i % len(EMOTIONS)], u.text])
        total += u.duration
    path = folder / "lines.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    return path, total


# ------------------------------------------------------------------------------------ memory
class RssSampler:
    """Samples each worker's RSS (MB) once a second, with the rows done so far (manifest lines)."""

    def __init__(self, client, manifest: Path) -> None:
        self.client, self.manifest = client, manifest
        self.samples: dict[str, list[tuple[int, float]]] = {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        def rss():
            import psutil

            return psutil.Process().memory_info().rss / 2**20

        while not self.stop.is_set():
            try:
                done = sum(1 for _ in open(self.manifest)) if self.manifest.exists() else 0
                for worker, mb in self.client.run(rss).items():
                    self.samples.setdefault(worker, []).append((done, mb))
            except Exception:  # noqa: BLE001 - a sample missed while workers start or stop
                pass
            self.stop.wait(1.0)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


# ------------------------------------------------------------------------------------ throughput
def timed_run(label: str, client, table: Path, out: Path, start_s: float, memory: dict) -> dict:
    from visemo.batch.command import BatchOptions, run_batch

    shutil.rmtree(out, ignore_errors=True)
    with RssSampler(client, out / "visemo-manifest.jsonl") as sampler:
        res = run_batch(BatchOptions(csv=table, out_dir=out, progress=False), client=client,
                        stream=open(os.devnull, "w"))
    memory[label] = sampler.samples
    speech = sum(r.speech_seconds or 0.0 for r in res.results)
    ok = sum(r.status == "ok" for r in res.results)
    per_worker: dict[str, int] = {}
    for r in res.results:
        per_worker[r.worker] = per_worker.get(r.worker, 0) + 1
    return {"label": label, "workers": len(per_worker), "rows": ok, "total": res.total, "speech": speech,
            "wall": res.run_seconds, "start": start_s, "thr": speech / res.run_seconds,
            "rows_s": ok / res.run_seconds, "models": res.models, "per_worker": per_worker, "status": res.status}


def local_run(n_workers: int, table: Path, out: Path, memory: dict) -> dict:
    import dask
    import distributed

    from visemo.batch.cluster import SCHEDULER_SETTINGS

    t = time.perf_counter()
    with dask.config.set(SCHEDULER_SETTINGS):
        cluster = distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=50)
    client = distributed.Client(cluster)
    start = time.perf_counter() - t
    try:
        return timed_run(f"LocalCluster, {n_workers} worker{'s' if n_workers > 1 else ''}", client, table, out,
                         start, memory)
    finally:
        client.close()
        cluster.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def two_node_run(table: Path, out: Path, memory: dict) -> dict:
    """A scheduler and two single-worker 'nodes' started as separate commands, as on two machines."""
    import distributed

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="0",
               DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION="1.0")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env}
    t = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port",
                               str(port), "--dashboard-address", ":0"], **quiet)]
    try:
        time.sleep(1.0)
        for name in ("node-a", "node-b"):
            procs.append(subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nworkers", "1",
                                           "--nthreads", "1", "--name", name, "--memory-limit", "6GB"], **quiet))
        client = distributed.Client(address, timeout="60s")
        client.wait_for_workers(2, timeout=120)
        start = time.perf_counter() - t
        try:
            return timed_run("2 nodes (dask scheduler + 2 dask worker)", client, table, out, start, memory)
        finally:
            client.close()
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()


# ------------------------------------------------------------------------------------ kills
def batch_cmd(table: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "visemo.batch", str(table), "--out-dir", str(out), "--workers", "2", "-q", *extra]


def manifest_records(out: Path) -> list[dict]:
    path = out / "visemo-manifest.jsonl"
    if not path.exists():
        return []
    recs = []
    for line in path.read_text().splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            pass
    return recs


def wait_for_rows(out: Path, n: int, proc, timeout: float = 600) -> None:
    t = time.time()
    while len(manifest_records(out)) < n:
        if proc.poll() is not None:
            raise RuntimeError(f"the batch ended before {n} rows (exit {proc.returncode})")
        if time.time() - t > timeout:
            raise RuntimeError("timed out")
        time.sleep(0.05)


def worker_pids(pid: int) -> list[int]:
    import psutil

    out = []
    for c in psutil.Process(pid).children(recursive=True):
        try:
            if "spawn_main" in " ".join(c.cmdline()):
                out.append(c.pid)
        except psutil.Error:
            pass
    return out


def outputs_state(out: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("line*.json")}


def check_outputs(out: Path, table: Path) -> tuple[int, int]:
    """(outputs that parse as complete animations, that do not) for every row of ``table``."""
    from visemo import Animation

    good = bad = 0
    with open(table) as f:
        for row in list(csv.DictReader(f)):
            p = out / (Path(row["file"]).stem + ".json")
            try:
                anim = Animation.load(p)
                good += anim.frames > 30
            except Exception:  # noqa: BLE001 - counted
                bad += 1
    return good, bad


def kill_client_and_resume(table: Path, out: Path, n: int) -> dict:
    import psutil

    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen(batch_cmd(table, out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_rows(out, n // 2, proc)
    workers = worker_pids(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    t = time.time()
    while any(psutil.pid_exists(w) and psutil.Process(w).status() != psutil.STATUS_ZOMBIE for w in workers) \
            and time.time() - t < 30:
        time.sleep(0.1)
    orphans = sum(psutil.pid_exists(w) and psutil.Process(w).status() != psutil.STATUS_ZOMBIE for w in workers)
    recorded = {r["key"] for r in manifest_records(out) if r["status"] == "ok"}
    pending = list((out / ".visemo-pending").glob("*.json"))
    pending_keys = {json.loads(p.read_text())["key"] for p in pending}
    parts = [p.name for p in out.glob(".*.part*")]
    before = outputs_state(out)
    unrecorded = set(before) - recorded - pending_keys

    t = time.perf_counter()
    rerun = subprocess.run(batch_cmd(table, out), capture_output=True, text=True)
    took = time.perf_counter() - t
    after = outputs_state(out)
    oks, report, good, bad = tally(out, table)
    return {
        "killed_at": len(recorded), "workers_left": orphans, "pending": len(pending), "parts": len(parts),
        "files_before": len(before), "unrecorded": len(unrecorded), "rerun_exit": rerun.returncode,
        "rerun_s": took, "files_after": len(after),
        "untouched": sum(after.get(k) == v for k, v in before.items()),
        "written_again": sum(after.get(k) != v for k, v in before.items()),
        "ok_once": sum(v == 1 for v in oks.values()), "ok_more": sum(v > 1 for v in oks.values()),
        "parts_after": len(list(out.glob(".*.part*"))), "report_rows": len(report),
        "report_status": {s: sum(r["status"] == s for r in report) for s in ("ok", "unchanged")},
        "parse_ok": good, "parse_bad": bad,
    }


def tally(out: Path, table: Path) -> tuple[dict[str, int], list[dict], int, int]:
    """({output: its ok manifest lines}, the report's rows, outputs that load / that do not) of a finished run."""
    oks: dict[str, int] = {}
    for r in manifest_records(out):
        if r["status"] == "ok":
            oks[r["key"]] = oks.get(r["key"], 0) + 1
    with open(out / "visemo-report.csv", newline="") as f:
        report = list(csv.DictReader(f))
    good, bad = check_outputs(out, table)
    return oks, report, good, bad


def kill_worker(table: Path, out: Path, n: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    proc = subprocess.Popen(batch_cmd(table, out), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    wait_for_rows(out, n // 2, proc)
    victim = worker_pids(proc.pid)[0]
    os.kill(victim, signal.SIGKILL)
    stdout, _ = proc.communicate()
    oks, report, good, bad = tally(out, table)
    return {"exit": proc.returncode, "report_rows": len(report),
            "ok": sum(r["status"] == "ok" for r in report),
            "retried": [(int(r["row"]), r["status"]) for r in report if r["attempts"] == "2"],
            "ok_once": sum(v == 1 for v in oks.values()), "ok_more": sum(v > 1 for v in oks.values()),
            "parts": len(list(out.glob(".*.part*"))), "parse_ok": good, "parse_bad": bad,
            "summary": stdout.splitlines()[0] if stdout else ""}


# ------------------------------------------------------------------------------------ bad rows
def bad_rows(folder: Path) -> str:
    import tts
    from synthetic import write_character_blend

    d = folder / "bad"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    u = tts.synthesize(tts.SENTENCES[0], "slt", folder / "tts-cache")
    shutil.copy(u.path, d / "a.wav")
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg " * 40)
    blend = d / "scene.blend"
    made = write_character_blend(blend)
    if made.returncode != 0:
        raise SystemExit(f"cannot build the character .blend: {made.stderr[-300:]}")
    rows = [["file", "emotion", "object", "transcript", "output", "portrait"],
            ["a.wav", "happy", "", u.text, "good", ""],
            ["missing.wav", "happy", "", "", "", ""],
            ["a.wav", "zqxjvw", "", u.text, "unknown_emotion", ""],
            ["a.wav", "angry", "plain", u.text, "no_shape_keys.glb", ""],
            ["a.wav", "sad", "", u.text, "corrupt_photo", "corrupt.jpg"],
            ["a.wav", "sad", "face", u.text, "good_character.glb", ""]]
    with open(d / "rows.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    r = subprocess.run([sys.executable, "-m", "visemo.batch", str(d / "rows.csv"), "--out-dir", str(d / "out"),
                        "--workers", "2", "--character", str(blend), "-q"], capture_output=True, text=True)
    written = sorted(p.name for p in (d / "out").iterdir() if not p.name.startswith("visemo-")
                     and not p.name.startswith("."))
    return (f"exit status {r.returncode}; files written: {', '.join(written)}\n"
            + r.stdout.replace(str(d) + "/", "").rstrip())


# ------------------------------------------------------------------------------------ tables
def print_table(head: list[str], rows: list[list]) -> None:
    cells = [head] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(head))]
    for j, r in enumerate(cells):
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |")
        if j == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print()


def memory_rows(memory: dict, total: int) -> list[list]:
    rows = []
    for label, workers in memory.items():
        for i, (worker, samples) in enumerate(sorted(workers.items())):
            if len(samples) < 3:
                continue
            first = next((mb for done, mb in samples if done >= total * 0.25), samples[0][1])
            mid = next((mb for done, mb in samples if done >= total * 0.5), samples[-1][1])
            last = samples[-1][1]
            peak = max(mb for _, mb in samples)
            rows.append([label, f"worker {i + 1}", len(samples), f"{first:.0f}", f"{mid:.0f}", f"{last:.0f}",
                         f"{peak:.0f}", f"{last - first:+.0f}"])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2, help="rounds of the three throughput runs (default 2)")
    ap.add_argument("--work", default=None, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="visemo-bench-batch-"))
    t0 = time.perf_counter()
    table, speech = make_lines(args.lines, work)
    print(f"{args.lines} lines, {speech:.0f} s of speech ({speech / args.lines:.1f} s a line), flite voices "
          f"slt/kal16/awb/rms, transcripts given (forced alignment), json output; "
          f"{os.cpu_count()} CPUs; TTS {time.perf_counter() - t0:.0f} s\n")

    memory: dict = {}
    setups = [lambda m: local_run(1, table, work / "out-1w", m), lambda m: local_run(2, table, work / "out-2w", m),
              lambda m: two_node_run(table, work / "out-2n", m)]
    rounds: list[list[dict]] = [[], [], []]
    for k in range(args.rounds):  # interleaved (1, 2, nodes, then nodes, 2, 1, ...): a shared machine's load
        order = range(3) if k % 2 == 0 else reversed(range(3))  # falls on every setup alike
        for i in order:
            load = os.getloadavg()[0]
            r = setups[i](memory)
            r["load"] = load
            rounds[i].append(r)
    runs = [max(rs, key=lambda r: r["thr"]) for rs in rounds]
    base = runs[0]["thr"]
    print(f"## Throughput (seconds of speech per wall second; wall = first row submitted to last row back; "
          f"best of {args.rounds} interleaved rounds)\n")
    print_table(["setup", "workers", "rows ok", "speech s", "wall s", "cluster start s", "speech s / wall s",
                 "rows / s", "speed-up", "efficiency", "every round (load avg before)"],
                [[r["label"], r["workers"], f"{r['rows']}/{r['total']}", f"{r['speech']:.0f}", f"{r['wall']:.1f}",
                  f"{r['start']:.1f}", f"{r['thr']:.1f}", f"{r['rows_s']:.2f}", f"{r['thr'] / base:.2f}x",
                  f"{r['thr'] / (base * r['workers']):.2f}",
                  ", ".join(f"{x['thr']:.1f} ({x['load']:.1f})" for x in rs)] for r, rs in zip(runs, rounds)])
    print("efficiency = throughput / (workers x throughput of 1 worker)\n")

    print("## Models loaded per worker (cached per process; counts after the worker's last row)\n")
    mrows = []
    for r in runs:
        for i, (w, loaded) in enumerate(sorted(r["models"].items())):
            mrows.append([r["label"], f"worker {i + 1}", r["per_worker"].get(w, 0),
                          ", ".join(f"{k} {v}" for k, v in loaded.items() if v)])
    print_table(["setup", "worker", "rows run", "models loaded (once each)"], mrows)

    print("## Memory per worker (RSS MB, sampled every second; the last round)\n")
    print_table(["setup", "worker", "samples", "at 25 % rows", "at 50 %", "at end", "peak", "end - 25 %"],
                memory_rows(memory, args.lines))

    n = args.lines
    k = kill_client_and_resume(table, work / "out-kill-client", n)
    print("## Resume: the client SIGKILLed halfway, then the same command again\n")
    print_table(["what", "value"], [
        ["rows recorded ok when killed", k["killed_at"]],
        ["worker processes still running 30 s after the kill", k["workers_left"]],
        ["rows finished by workers, not yet recorded (pending files)", k["pending"]],
        ["temporary .part files left by the kill", k["parts"]],
        ["output files after the kill / without any record", f"{k['files_before']} / {k['unrecorded']}"],
        ["rerun: exit status, seconds", f"{k['rerun_exit']}, {k['rerun_s']:.1f}"],
        ["output files after the rerun", f"{k['files_after']} of {n}"],
        ["files from before the kill left untouched / written again", f"{k['untouched']} / {k['written_again']}"],
        ["outputs with exactly one ok manifest line / more than one", f"{k['ok_once']} / {k['ok_more']}"],
        ["outputs that load as complete animations / that do not", f"{k['parse_ok']} / {k['parse_bad']}"],
        [".part files after the rerun", k["parts_after"]],
        ["report lines (ok + unchanged)", f"{k['report_rows']} ({k['report_status']['ok']} + "
                                          f"{k['report_status']['unchanged']})"],
    ])
    w = kill_worker(table, work / "out-kill-worker", n)
    print("## A worker SIGKILLed halfway (the batch goes on)\n")
    print_table(["what", "value"], [
        ["exit status", w["exit"]],
        ["report lines / ok", f"{w['report_rows']} / {w['ok']}"],
        ["rows run twice (the killed worker's row): row, status", w["retried"] or "none"],
        ["outputs with exactly one ok manifest line / more than one", f"{w['ok_once']} / {w['ok_more']}"],
        ["outputs that load as complete animations / that do not", f"{w['parse_ok']} / {w['parse_bad']}"],
        [".part files left", w["parts"]],
        ["summary line", w["summary"]],
    ])
    print("## Bad rows (one line each; the good rows written)\n")
    print("```\n" + bad_rows(work) + "\n```\n")
    print(f"bench time {time.perf_counter() - t0:.0f} s; work folder {work}")


if __name__ == "__main__":
    main()
