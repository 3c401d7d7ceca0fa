"""Killing `solve --out` and `batch` at any point never leaves a folder that `report` accepts
but that mixes two runs; batch workers exit with their parent (issue 11).

Every interruption point of a plan save is tried in process (a "kill" injected at each rename
and delete of :func:`bheard.io.write_unit`); real processes are then killed at a few seeded
times.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import bheard
from bheard.errors import InputError
from helpers import SCENARIOS

TINY = SCENARIOS / "examples" / "tiny.yaml"
BHEARD = str(Path(sys.executable).with_name("bheard"))


class _Killed(BaseException):
    """Stands for SIGKILL inside a save: nothing after it runs (not even cleanup of OSError
    handlers)."""


def _files(folder: Path) -> dict:
    """What identifies a run's files: plan.csv and scenario.yaml as bytes, summary.json
    without its timings (which differ between two solves of the same scenario)."""
    out = {n: (folder / n).read_bytes() for n in ("plan.csv", "scenario.yaml")
           if (folder / n).is_file()}
    if (folder / "summary.json").is_file():
        s = json.loads((folder / "summary.json").read_text())
        out["summary.json"] = {k: v for k, v in s.items() if not k.endswith("_seconds")}
    return out


def _accepts_only_whole_runs(folder: Path, runs: list[dict[str, bytes]]) -> str:
    """`report` (Plan.load + render) either refuses the folder (exit 2 in the CLI) or reads
    exactly the files of ONE of ``runs``. Returns "refused" or "run i"."""
    from bheard.report import render_report

    try:
        render_report(folder)
    except InputError:
        return "refused"
    got = _files(folder)
    for i, run in enumerate(runs):
        if got == run:
            return f"run {i}"
    raise AssertionError(f"report accepted a folder mixing runs: {sorted(got)}")


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    from bheard.optimize.explain import explain_limits

    a = bheard.solve(TINY)
    b = bheard.solve(TINY, budget_usd=1e6)
    # as `bheard solve --out` saves them: with the binding-limit explanation
    a.limits, b.limits = explain_limits(a), explain_limits(b)
    a.save(root / "a")
    b.save(root / "b")
    assert _files(root / "a") != _files(root / "b")
    return root / "a", b, _files(root / "a"), _files(root / "b")


def test_save_interrupted_at_every_step(tmp_path, monkeypatch, two_plans):
    """Plan B saved over plan A, "killed" before each rename/delete in turn: the folder is
    refused or holds exactly A or exactly B; never A's summary beside B's plan."""
    io_mod = sys.modules["bheard.io"]
    folder_a, plan_b, files_a, files_b = two_plans
    real_replace, real_unlink = os.replace, os.unlink
    outcomes = []
    for k in range(12):
        folder = tmp_path / f"k{k}"
        shutil.copytree(folder_a, folder)
        calls = {"n": 0}

        def step(real):
            def f(*a, **kw):
                calls["n"] += 1
                if calls["n"] > k:
                    raise _Killed()
                return real(*a, **kw)
            return f

        monkeypatch.setattr(io_mod.os, "replace", step(real_replace))
        monkeypatch.setattr(io_mod.os, "unlink", step(real_unlink))
        try:
            plan_b.save(folder)
            finished = True
        except _Killed:
            finished = False
        monkeypatch.setattr(io_mod.os, "replace", real_replace)
        monkeypatch.setattr(io_mod.os, "unlink", real_unlink)
        outcome = _accepts_only_whole_runs(folder, [files_a, files_b])
        outcomes.append(outcome)
        if finished:
            assert outcome == "run 1"
            break
    # the interruption points cover all three outcomes: old plan intact, refused, new plan
    assert outcomes[0] == "run 0" and "refused" in outcomes and outcomes[-1] == "run 1"


@pytest.mark.parametrize("seed", [1, 2, pytest.param(3, marks=pytest.mark.slow)])
def test_kill_solve_out_at_seeded_times(tmp_path, two_plans, seed):
    """SIGKILL `bheard solve --out` (plan B over plan A) at a seeded time: `report` never
    accepts a mix."""
    folder_a, _, files_a, files_b = two_plans
    folder = tmp_path / "plan"
    shutil.copytree(folder_a, folder)
    rng = random.Random(seed)
    p = subprocess.Popen([BHEARD, "solve", str(TINY), "--budget", "1e6", "--out", str(folder)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.5, 6.0))
    p.kill()
    p.wait(timeout=60)
    _accepts_only_whole_runs(folder, [files_a, files_b])


# ----------------------------------------------------------------------------------------
# batch
# ----------------------------------------------------------------------------------------
def _descendants(pid: int) -> set[int]:
    """Every live process whose chain of parents includes ``pid`` (from /proc)."""
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if fields[0] != "Z":
                parent[int(d.name)] = int(fields[1])
    out, frontier = set(), {pid}
    while frontier:
        nxt = {c for c, p in parent.items() if p in frontier and c not in out}
        out |= nxt
        frontier = nxt
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _write_batch(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"s{i}.yaml").write_text(
            f"extends: {TINY}\nname: tiny_{i}\nbudget: {{annual_usd: {1e6 + 2.5e5 * i:.0f}}}\n"
            f"demand: {{table: {SCENARIOS / 'examples' / 'demand.csv'}}}\n")


def _check_batch_folder(out: Path) -> int:
    """Every complete plan folder (DONE) is accepted and consistent with its own scenario;
    every log line is whole JSON. Returns the number of complete folders."""
    from bheard.report import render_report

    n = 0
    for d in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (d / "DONE").exists():
            with pytest.raises(InputError):
                render_report(d)
            continue
        plan = bheard.Plan.load(d)
        render_report(d)
        sc = json.loads((d / "scenario.json").read_text())
        assert plan.scenario == sc["name"] and plan.budget == sc["budget"]["annual_usd"]
        n += 1
    log = out / "batch_log.jsonl"
    if log.exists():
        for line in log.read_text().splitlines(keepends=True):
            assert line.endswith("\n") and json.loads(line)
    return n


@pytest.mark.parametrize("seed", [11, pytest.param(12, marks=pytest.mark.slow),
                                  pytest.param(13, marks=pytest.mark.slow)])
def test_kill_batch_workers_exit_with_parent(tmp_path, seed):
    """SIGKILL the batch process (2 workers) at a seeded time after its workers started: every
    process it started (workers, resource tracker) exits within seconds, no folder mixes
    runs, the log has only whole lines, and a resumed batch completes every scenario."""
    src = tmp_path / "scenarios"
    _write_batch(src, 6)
    out = tmp_path / "out"
    rng = random.Random(seed)
    p = subprocess.Popen([BHEARD, "batch", str(src), "--out", str(out), "--workers", "2",
                          "--no-progress", "--force"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids: set[int] = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and p.poll() is None:
        kids = _descendants(p.pid)
        if len(kids) >= 2:
            break
        time.sleep(0.1)
    assert p.poll() is None, "batch finished before its workers were seen"
    time.sleep(rng.uniform(0.0, 3.0))
    kids |= _descendants(p.pid)
    p.send_signal(signal.SIGKILL)
    p.wait(timeout=30)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and any(_alive(k) for k in kids):
        time.sleep(0.2)
    left = [k for k in kids if _alive(k)]
    for k in left:  # do not leave them behind even when the test fails
        try:
            os.kill(k, signal.SIGKILL)
        except OSError:
            pass
    assert not left, f"processes outlived their batch: {left}"
    _check_batch_folder(out)
    res = bheard.batch([src], out, workers=1)  # resume: what was lost is solved again
    assert res.ok
    assert _check_batch_folder(out) == 6
    shutil.rmtree(out)
