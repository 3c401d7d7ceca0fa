"""Batch solves: many scenario files, one summary table, one folder per plan; resumable.

Layout of ``out_dir``::

    batch_summary.csv              one row per scenario (see SUMMARY_COLUMNS)
    batch_log.jsonl                one JSON line per finished solve (appended)
    <scenario name>-<hash8>/       plan.csv, summary.json, scenario.json, DONE (written last)

``hash8`` is the first 8 hex digits of :func:`scenario_hash` (the validated scenario, the
content of every file it reads and the bheard version). A scenario whose folder exists (a
folder only appears complete: it is written under a temporary name, ``DONE`` last, then renamed
in one step) is skipped, so a killed batch loses only the scenarios in flight. A scenario that
fails (bad file, solver error) is reported in the table and does not stop the others.

Solves run in worker processes; the client (this process) writes every output, so workers on
a Dask cluster need the scenario files' referenced data at the same paths but no write access.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import shutil
import sys
import time
import types
import traceback
from dataclasses import dataclass, field
from multiprocessing import context as mp_context
from multiprocessing import popen_spawn_posix
from pathlib import Path
from typing import Callable, Iterable

import pandas as pd

from bheard import __version__
from bheard.data import data_dir
from bheard.errors import BatchError, InputError, OutputError, Problem
from bheard.io import (atomic_write_csv, atomic_write_json, ensure_dir, fsync_dir, pid_alive,
                       read_unit, safe_filename)
from bheard.optimize import solve
from bheard.plan import PLAN_KIND
from bheard.scenario import load_scenario

SUMMARY_COLUMNS = [
    "scenario", "file", "hash", "run", "status", "objective", "bound", "gap", "coverage_share",
    "annual_cost_usd", "budget_usd", "team_shifts_per_week", "seconds", "output", "error",
]
#: run values: "solved" (this run), "cached" (found complete), "failed" (no output written)
DONE_NAME = "DONE"
LOG_NAME = "batch_log.jsonl"
SUMMARY_NAME = "batch_summary.csv"


# ----------------------------------------------------------------------------------------
# inputs
# ----------------------------------------------------------------------------------------
def expand_inputs(items: Iterable[str | Path]) -> list[Path]:
    """Scenario files from files, folders (their *.yaml / *.yml) and glob patterns, in order.

    Duplicates are dropped. Raises :class:`InputError` for an item that matches nothing.
    """
    out: list[Path] = []
    problems = []
    for item in items:
        s = str(item)
        p = Path(s)
        if p.is_dir():
            found = sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
        elif p.is_file():
            found = [p]
        elif glob.has_magic(s):
            found = sorted(Path(x) for x in glob.glob(s, recursive=True) if Path(x).is_file())
        else:
            found = []
        if not found:
            problems.append(s)
        out.extend(found)
    if problems:


        raise InputError("SCENARIOS", [Problem("SCENARIOS", s, "an existing scenario file, a "
                                               "folder with *.yaml files or a glob matching "
                                               "files") for s in problems])
    seen, unique = set(), []
    for p in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _file_digest(path: Path, h) -> None:
    path = Path(path)
    if path.is_dir():
        for f in sorted(x for x in path.rglob("*") if x.is_file()):
            h.update(str(f.relative_to(path)).encode())
            _file_digest(f, h)
        return
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)


def scenario_hash(sc) -> str:
    """SHA-256 (hex) of the validated scenario + the content of the files it reads + version.

    Paths are replaced by their files' content (so moving a folder keeps the hash); the
    shipped precinct table is included (prior demand and geography come from it).
    """
    data = sc.model_dump(mode="json", exclude={"source"})
    h = hashlib.sha256()
    d = data.get("demand") or {}
    refs = []
    if d.get("table"):
        refs.append(("demand.table", d["table"]))
        d["table"] = "<file>"
    if d.get("forecast") and d["forecast"].get("history"):
        refs.append(("demand.forecast.history", d["forecast"]["history"]))
        d["forecast"]["history"] = "<file>"
    if d.get("uncertainty") and d["uncertainty"].get("file"):
        refs.append(("demand.uncertainty.file", d["uncertainty"]["file"]))
        d["uncertainty"]["file"] = "<file>"
    h.update(json.dumps(data, sort_keys=True).encode())
    for name, path in refs:
        h.update(name.encode())
        _file_digest(Path(path), h)
    precincts_csv = data_dir() / "precincts.csv"
    if precincts_csv.exists():
        _file_digest(precincts_csv, h)
    h.update(f"bheard {__version__}".encode())
    return h.hexdigest()


def _safe_name(name: str) -> str:
    return safe_filename(name)


@dataclass
class _Job:
    file: Path
    scenario: object | None  # validated Scenario, None when loading failed
    hash: str
    name: str
    error: str = ""

    @property
    def dirname(self) -> str:
        return f"{_safe_name(self.name)}-{self.hash[:8]}"


# ----------------------------------------------------------------------------------------
# the work unit (runs in a worker process)
# ----------------------------------------------------------------------------------------
def solve_task(scenario) -> dict:
    """Solve one validated scenario; return ``{"plan": Plan}`` or ``{"error": text}``.

    Never raises (so one failing scenario never breaks a pool or a cluster's gather).
    """
    t0 = time.perf_counter()
    try:
        plan = solve(scenario)
        return {"plan": plan, "seconds": time.perf_counter() - t0, "pid": os.getpid()}
    except InputError as exc:
        return {"error": exc.format(), "seconds": time.perf_counter() - t0, "pid": os.getpid()}
    except Exception as exc:  # a bug or solver crash: report it, keep the batch going
        tb = traceback.format_exc(limit=3)
        return {"error": f"{type(exc).__name__}: {exc}\n{tb}",
                "seconds": time.perf_counter() - t0, "pid": os.getpid()}


# ----------------------------------------------------------------------------------------
# results
# ----------------------------------------------------------------------------------------
@dataclass
class BatchResult:
    """``summary``: one row per scenario (columns :data:`SUMMARY_COLUMNS`)."""

    out_dir: Path
    summary: pd.DataFrame
    seconds: float
    workers: str = ""
    log: list[str] = field(default_factory=list, repr=False)

    @property
    def n_failed(self) -> int:
        """Scenarios with no feasible plan: failed to run, or infeasible/error status."""
        s = self.summary
        bad = (s["run"] == "failed") | ~s["status"].isin(
            ["optimal", "time_limit_feasible", "feasible"])
        return int(bad.sum())

    @property
    def ok(self) -> bool:
        return self.n_failed == 0

    def __repr__(self) -> str:
        s = self.summary
        counts = s["run"].value_counts().to_dict() if len(s) else {}
        return (f"BatchResult({str(self.out_dir)!r}, {len(s)} scenarios, "
                f"solved={counts.get('solved', 0)}, cached={counts.get('cached', 0)}, "
                f"failed={counts.get('failed', 0)}, not feasible={self.n_failed - counts.get('failed', 0)}, "
                f"{self.seconds:.1f} s on {self.workers})")


def _row_from_summary(job: _Job, s: dict, run: str, seconds: float, out: Path) -> dict:
    return {
        "scenario": job.name, "file": str(job.file), "hash": job.hash, "run": run,
        "status": s.get("status"), "objective": s.get("objective_covered_calls_per_year"),
        "bound": s.get("bound_covered_calls_per_year"), "gap": s.get("gap"),
        "coverage_share": s.get("coverage_share"), "annual_cost_usd": s.get("annual_cost_usd"),
        "budget_usd": s.get("budget_usd"), "team_shifts_per_week": s.get("team_shifts_per_week"),
        "seconds": seconds, "output": str(out), "error": "; ".join(s.get("diagnosis") or []),
    }


def _failed_row(job: _Job, error: str, seconds: float) -> dict:
    row = {c: None for c in SUMMARY_COLUMNS}
    row.update(scenario=job.name, file=str(job.file), hash=job.hash, run="failed",
               status="error", seconds=seconds, error=error.strip())
    return row


def _prepare_output(out_dir: Path, job: _Job, plan, seconds: float) -> Path:
    """Write the plan folder under a temporary name, ``DONE`` last; return that folder."""
    tmp = out_dir / f".{job.dirname}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    plan.save(tmp)
    atomic_write_json(tmp / "scenario.json", job.scenario.model_dump(mode="json"))
    atomic_write_json(tmp / DONE_NAME, {"hash": job.hash, "file": str(job.file),
                                         "scenario": job.name, "seconds": seconds,
                                         "finished": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return tmp


def _commit_output(out_dir: Path, job: _Job, tmp: Path) -> Path:
    """Rename the complete temporary folder to ``<name>-<hash8>`` in one step."""
    final = out_dir / job.dirname
    old = None
    try:
        if final.exists():  # an incomplete or forced-over folder: moved aside in one step
            old = out_dir / f".{job.dirname}.old.tmp-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(final, old)
        os.replace(tmp, final)
    except OSError as exc:
        raise OutputError.from_os(final, exc) from None
    fsync_dir(out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def _remove_stale_temps(out_dir: Path) -> None:
    """Delete temporary plan folders left by a killed batch (their process is gone)."""
    for tmp in out_dir.glob(".*.tmp-*"):
        try:
            pid = int(tmp.name.rsplit("-", 1)[1])
        except ValueError:
            continue
        if pid == os.getpid() or not pid_alive(pid):
            shutil.rmtree(tmp, ignore_errors=True)
    return True


def _append_log(out_dir: Path, record: dict) -> None:
    """Append one JSON line whole: one O_APPEND write, then fsync. A short or failed write
    (disk full) is cut back off, so the log never keeps half a line, and raises
    :class:`OutputError`. Only the batch holding the folder's lock writes the log."""
    line = (json.dumps(record, default=str) + "\n").encode()
    path = out_dir / LOG_NAME
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError.from_os(path, exc) from None
    try:
        start = os.fstat(fd).st_size
        try:
            n = os.write(fd, line)
            if n != len(line):
                raise OSError(errno.ENOSPC, f"short write ({n} of {len(line)} bytes)")
            os.fsync(fd)
        except OSError as exc:
            try:
                os.ftruncate(fd, start)
            except OSError:
                pass
            raise OutputError.from_os(path, exc) from None
    finally:
        os.close(fd)


def _repair_log(out_dir: Path) -> None:
    """Cut a torn last line (left by a crash or a full disk in an older bheard) off the log."""
    path = out_dir / LOG_NAME
    try:
        with open(path, "rb+") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size == 0:
                return
            fh.seek(size - 1)
            if fh.read(1) == b"\n":
                return
            back = min(size, 1 << 20)
            fh.seek(size - back)
            tail = fh.read(back)
            cut = tail.rfind(b"\n")
            fh.truncate(size - back + cut + 1 if cut >= 0 else (0 if back == size else size))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError.from_os(path, exc) from None


LOCK_NAME = ".batch.lock"


def _lock(out_dir: Path):
    """Take the folder's batch lock (``flock`` on ``.batch.lock``, released when the process
    ends, even by SIGKILL); return its file descriptor. Another batch on the same folder gets
    :class:`OutputError` at once instead of solving every scenario a second time."""
    import fcntl

    path = out_dir / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutputError.from_os(path, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        try:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        except OSError:
            holder = "?"
        os.close(fd)
        raise OutputError.single(out_dir, "(lock)", f"in use by another bheard batch (pid"
                                 f" {holder or '?'})", "a folder no other batch is writing"
                                 " to: wait for it, or choose another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _unlock(fd) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


# ----------------------------------------------------------------------------------------
# runners: in-process, process pool, Dask
# ----------------------------------------------------------------------------------------
def dask_address(dask) -> str:
    """Scheduler address of a ``tcp://...`` string, a ``LocalCluster`` or a ``Client``."""
    if isinstance(dask, str):
        if "://" not in dask and ":" not in dask:
            raise InputError.single("--dask", "--dask", dask,
                                    "a scheduler address like tcp://HOST:8786")
        return dask
    addr = getattr(dask, "scheduler_address", None)  # LocalCluster / SpecCluster
    if isinstance(addr, str):
        return addr
    addr = getattr(getattr(dask, "scheduler", None), "address", None)  # Client
    if isinstance(addr, str):
        return addr
    raise InputError.single("--dask", "dask", type(dask).__name__,
                            "a scheduler address (tcp://HOST:8786), a cluster or a Client")


def _run_serial(jobs):
    for job in jobs:
        yield job, solve_task(job.scenario)


def _run_pool(jobs, workers: int):
    """Start the pool and submit every job now; return a generator of (job, result) in
    completion order (the pool shuts down when it is exhausted or closed)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_pool_context(),
                               initializer=_watch_parent, initargs=(os.getpid(),))
    futs = {pool.submit(solve_task, job.scenario): job for job in jobs}

    def results():
        try:
            for fut in as_completed(futs):
                job = futs[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # the worker process died
                    res = {"error": f"worker failed: {type(exc).__name__}: {exc}",
                           "seconds": 0.0}
                yield job, res
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    return results()


#: seconds between a worker's checks that the batch process that started it is still alive
PARENT_POLL_S = 0.5


def _watch_parent(parent_pid: int) -> None:
    """Worker initializer: a daemon thread ends the worker as soon as the batch process that
    started it is gone (killed, even by SIGKILL), so no solve outlives its batch."""
    import threading

    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(PARENT_POLL_S)

    threading.Thread(target=watch, name="bheard-parent-watch", daemon=True).start()


def _pool_context():
    """``spawn`` without the caller's main script: never ``fork`` (HiGHS keeps a native thread
    pool once it has run in a process; a forked child inherits its state without its threads
    and spins, seen here 2026-11), and the workers do not re-import ``__main__``.

    A plain spawned worker first re-runs the parent's main script (as ``__mp_main__``) so that
    functions defined there can be unpickled; a script without an ``if __name__ ==
    "__main__":`` guard (the README's Python example saved as a file) then solves again and
    starts a pool of its own inside every worker, and the pool breaks. The batch's workers
    run only :func:`solve_task` and the initializer, both importable from ``bheard.batch``, so
    the main module is left out of what a worker is told to prepare."""
    return _NoMainSpawnContext()


class _NoMainPopen(popen_spawn_posix.Popen):
    """Launches a spawned process with a bare ``__main__`` in its preparation data."""

    def _launch(self, process_obj):
        main = sys.modules.get("__main__")
        # what a spawned child prepares comes from sys.modules["__main__"] (its __file__ or
        # __spec__); a bare module with neither makes the child skip the main script. Swapped
        # only while this process is being launched, on the launching thread.
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            super()._launch(process_obj)
        finally:
            sys.modules["__main__"] = main


class _NoMainProcess(mp_context.SpawnProcess):
    _start_method = "spawn"

    @staticmethod
    def _Popen(process_obj):
        return _NoMainPopen(process_obj)


class _NoMainSpawnContext:
    """A ``spawn`` multiprocessing context whose processes skip the parent's ``__main__``
    (see :func:`_pool_context`); everything else is the standard spawn context."""

    def __init__(self):
        import multiprocessing

        self._ctx = multiprocessing.get_context("spawn")
        self.Process = _NoMainProcess

    def __getattr__(self, name):
        return getattr(self._ctx, name)


#: seconds to wait for a Dask scheduler to answer before giving up
DASK_CONNECT_TIMEOUT_S = 10


def _probe_scheduler(address: str) -> None:
    """Open (and close) a TCP connection to a ``tcp://HOST:PORT`` / ``tls://`` scheduler
    before Dask is imported: a host that does not resolve or a port that refuses fails at
    once, a silent one after :data:`DASK_CONNECT_TIMEOUT_S`, as one :class:`InputError`
    (Dask's own client would retry for longer and end in a long traceback)."""
    import socket
    from urllib.parse import urlsplit

    scheme = address.split("://", 1)[0] if "://" in address else "tcp"
    if scheme not in ("tcp", "tls"):
        return  # inproc://, ucx://...: left to Dask
    try:
        parts = urlsplit(address if "://" in address else f"tcp://{address}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise InputError.single("--dask", "--dask", address,
                                "a scheduler address like tcp://HOST:8786 (host and port)")
    try:
        with socket.create_connection((host, port), timeout=DASK_CONNECT_TIMEOUT_S):
            pass
    except OSError as exc:
        why = ("the host name does not resolve" if isinstance(exc, socket.gaierror) else
               f"no answer within {DASK_CONNECT_TIMEOUT_S} s" if isinstance(exc, TimeoutError)
               else f"{type(exc).__name__}: {exc.strerror or exc}")
        raise InputError.single("--dask", "--dask", address,
                                f"a reachable Dask scheduler (tcp://HOST:8786); connecting"
                                f" failed: {why}") from None


def _dask_client(address: str):
    """A client of the scheduler at ``address``; an unreachable one is an :class:`InputError`
    (after :data:`DASK_CONNECT_TIMEOUT_S`), raised before anything is written."""
    _probe_scheduler(address)
    from distributed import Client

    try:
        return Client(address, set_as_default=False, timeout=DASK_CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError.single("--dask", "--dask", address,
                                f"a reachable Dask scheduler (tcp://HOST:8786); connecting"
                                f" failed: {type(exc).__name__}") from None


def _run_dask(jobs, client):
    from distributed import as_completed

    with client:
        futs = {}
        for job in jobs:
            f = client.submit(solve_task, job.scenario, pure=False,
                              key=f"bheard-solve-{job.dirname}-{os.getpid()}-{time.time_ns()}")
            futs[f] = job
        for fut in as_completed(list(futs), loop=client.loop):
            job = futs[fut]
            try:
                res = fut.result()
            except Exception as exc:  # a worker died / the task was lost
                res = {"error": f"dask task failed: {type(exc).__name__}: {exc}", "seconds": 0.0}
            yield job, res


def batch(scenarios: Iterable[str | Path] | str | Path, out_dir: str | Path, *,
          workers: int | None = None, dask=None, progress: bool = False,
          on_result: Callable[[dict], None] | None = None, force: bool = False,
          raise_if_all_failed: bool = True) -> BatchResult:
    """Solve every scenario and write ``out_dir`` (see module docstring); return the summary.

    ``scenarios``: files, folders or glob patterns. ``workers``: local worker processes
    (default: CPU count; 1 = solve in this process). ``dask``: address of an existing Dask
    scheduler (``tcp://HOST:8786``) or a ``distributed.LocalCluster`` / ``Client`` object; when
    given, solves run there. ``progress``: show a rich progress bar. ``on_result(row)`` is
    called once per scenario as it finishes (also for cached and failed ones). ``force``:
    re-solve even when a complete output exists. ``raise_if_all_failed``: when every scenario
    failed to run (nothing solved, nothing cached), raise :class:`bheard.errors.BatchError`
    (after writing the summary) instead of returning, so a script does not exit 0; scenarios
    that ran but are infeasible are results, not failures.
    """
    t0 = time.perf_counter()
    if isinstance(scenarios, (str, Path)):
        scenarios = [scenarios]
    if not isinstance(scenarios, Iterable) or isinstance(scenarios, (dict, bytes)):
        raise InputError.single("SCENARIOS", "scenarios", type(scenarios).__name__,
                                "scenario files, folders or glob patterns")
    scenarios = list(scenarios)
    if not scenarios or not all(isinstance(x, (str, Path)) for x in scenarios):
        raise InputError.single("SCENARIOS", "scenarios", scenarios[:3] if scenarios else [],
                                "at least one scenario file, folder or glob pattern")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise InputError.single("--workers", "--workers", workers, "an integer >= 1")
    if not isinstance(out_dir, (str, Path)) or not str(out_dir).strip():
        raise InputError.single("--out", "--out", out_dir, "an output folder path")
    address = dask_address(dask) if dask is not None else None
    files = expand_inputs(scenarios)
    client = _dask_client(address) if address is not None else None
    try:
        out = ensure_dir(out_dir)
        lock = _lock(out)
        try:
            res = _batch_locked(files, out, t0, workers=workers, client=client,
                                address=address, progress=progress, on_result=on_result,
                                force=force)
        finally:
            _unlock(lock)
    finally:
        if client is not None:
            client.close()
    s = res.summary
    if raise_if_all_failed and len(s) and (s["run"] == "failed").all():
        first = str(s["error"].iloc[0] or "").strip().splitlines()
        raise BatchError(f"all {len(s)} scenarios of the batch failed to run (summary in "
                         f"{out / SUMMARY_NAME}); first error: {first[0] if first else '?'}",
                         res)
    return res


def _batch_locked(files: list[Path], out: Path, t0: float, *, workers, client, address,
                  progress, on_result, force) -> BatchResult:
    """:func:`batch` once the output folder is locked."""
    _remove_stale_temps(out)
    _repair_log(out)

    # load + hash in the client (fast), so cached ones are skipped before any work is sent
    jobs: list[_Job] = []
    for f in files:
        try:
            sc = load_scenario(f)
            jobs.append(_Job(f, sc, scenario_hash(sc), sc.name))
        except InputError as exc:
            jobs.append(_Job(f, None, "", Path(f).stem, error=exc.format()))
        except OSError as exc:  # a referenced file vanished or is unreadable
            jobs.append(_Job(f, None, "", Path(f).stem, error=f"{f}: {exc}"))

    rows: dict[int, dict] = {}
    todo: list[_Job] = []
    by_dir: dict[str, list[int]] = {}
    log_lines: list[str] = []

    def emit(i: int, row: dict) -> None:
        rows[i] = row
        if on_result is not None:
            on_result(row)

    for i, job in enumerate(jobs):
        if job.scenario is None:
            emit(i, _failed_row(job, job.error, 0.0))
            first = job.error.splitlines()[1].strip() if "\n" in job.error else job.error
            _append_log(out, {"event": "failed", "scenario": job.name, "file": str(job.file),
                              "error": first, "batch_pid": os.getpid(),
                              "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
            log_lines.append(f"failed {job.name} ({job.file}) {first}")
            continue
        if job.dirname in by_dir:  # same scenario content twice: solve once
            by_dir[job.dirname].append(i)
            continue
        by_dir[job.dirname] = [i]
        done = out / job.dirname / DONE_NAME
        if done.exists() and not force:
            try:
                files = read_unit(out / job.dirname, PLAN_KIND, "a plan folder")
                s = json.loads(files["summary.json"].decode("utf-8"))
                emit(i, _row_from_summary(job, s, "cached", 0.0, out / job.dirname))
                continue
            except (OSError, ValueError, KeyError, InputError):
                pass  # damaged or unreadable: solve again
        todo.append(job)

    if client is not None:
        runner = _run_dask(todo, client) if todo else iter(())
        where = f"dask {address}"
    else:
        n = workers or os.cpu_count() or 1
        n = max(1, min(n, len(todo) or 1))
        runner = _run_serial(todo) if n == 1 else _run_pool(todo, n)
        where = "this process" if n == 1 else f"{n} local processes"

    prog = None
    if progress:
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                                   TimeElapsedColumn, TimeRemainingColumn)

        prog = Progress(TextColumn("[bold]batch[/]"), BarColumn(), MofNCompleteColumn(),
                        TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        prog.start()
        task = prog.add_task("solve", total=len(todo))
        for line in log_lines:  # scenarios that failed to load
            prog.console.print(line, highlight=False, markup=False)
    try:
        for job, res in runner:
            final = None
            if "plan" in res:
                plan = res["plan"]
                tmp = _prepare_output(out, job, plan, res["seconds"])
                final = out / job.dirname
                s = plan.summary()
                row = _row_from_summary(job, s, "solved", res["seconds"], final)
                rec = {"event": "solved", "scenario": job.name, "hash": job.hash,
                       "status": plan.status, "seconds": round(res["seconds"], 4),
                       "pid": res.get("pid"), "batch_pid": os.getpid(),
                       "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            else:
                row = _failed_row(job, res["error"], res.get("seconds", 0.0))
                rec = {"event": "failed", "scenario": job.name, "hash": job.hash,
                       "error": res["error"].splitlines()[0] if res["error"] else "",
                       "batch_pid": os.getpid(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            # log first, then rename: a folder never exists without its log line (a kill in
            # between only means this scenario is solved again on resume)
            _append_log(out, rec)
            if final is not None:
                _commit_output(out, job, tmp)
            line = (f"{rec['event']:6s} {job.name} ({job.file}) "
                    + (f"{row['status']} gap {row['gap']:.1e} in {row['seconds']:.2f} s"
                       if rec["event"] == "solved" and row["gap"] is not None
                       else (rec.get("status") or rec.get("error", ""))))
            log_lines.append(line)
            if prog is not None:
                prog.console.print(line, highlight=False, markup=False)
                prog.advance(task)
            for i in by_dir[job.dirname]:
                r = dict(row)
                if i != by_dir[job.dirname][0]:
                    r["file"] = str(jobs[i].file)
                emit(i, r)
    finally:
        if prog is not None:
            prog.stop()

    # duplicates of cached/failed rows
    for idxs in by_dir.values():
        for i in idxs[1:]:
            if i not in rows and idxs[0] in rows:
                r = dict(rows[idxs[0]])
                r["file"] = str(jobs[i].file)
                rows[i] = r
    summary = pd.DataFrame([rows[i] for i in sorted(rows)], columns=SUMMARY_COLUMNS)
    atomic_write_csv(out / SUMMARY_NAME, summary)
    return BatchResult(out_dir=out, summary=summary, seconds=time.perf_counter() - t0,
                       workers=where, log=log_lines)


__all__ = ["batch", "BatchResult", "expand_inputs", "scenario_hash", "solve_task",
           "SUMMARY_COLUMNS", "dask_address"]
