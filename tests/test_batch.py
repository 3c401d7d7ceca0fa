"""Batch solves: input expansion, content hash, summary table, failures, resume, Dask, kill."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import bheard
from bheard.batch import batch, expand_inputs, scenario_hash
from bheard.errors import InputError
from helpers import REPO, SCENARIOS

TINY = SCENARIOS / "examples" / "tiny.yaml"
# batch mechanics on the isolated citywide model (fast, separable; the default cross-precinct
# model is tested in test_shared.py)
CITY = SCENARIOS / "dcs_citywide_isolated.yaml"
BHEARD = Path(sys.executable).parent / "bheard"


def write_variants(folder: Path, parent: Path, budgets, gap: float = 1e-2, prefix="b") -> list[Path]:
    """Scenario files that `extends:` a shipped scenario with their own name and budget."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for b in budgets:
        f = folder / f"{prefix}{int(b)}.yaml"
        f.write_text(f"extends: {parent}\nname: {parent.stem}_{prefix}{int(b)}\n"
                     f"budget: {{annual_usd: {b}}}\nsolver: {{mip_rel_gap: {gap}}}\n")
        out.append(f)
    return out


def read_log(out: Path) -> list[dict]:
    p = out / "batch_log.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


def test_expand_inputs_files_folders_globs(tmp_path):
    """A file, a folder (its *.yaml/*.yml) and a glob expand in order, without duplicates."""
    fs = write_variants(tmp_path / "a", TINY, [1e6, 2e6])
    (tmp_path / "a" / "x.yml").write_text("name: x\n")
    (tmp_path / "a" / "notes.txt").write_text("not a scenario")
    got = expand_inputs([fs[0], tmp_path / "a", str(tmp_path / "a" / "b*.yaml")])
    assert [p.name for p in got] == ["b1000000.yaml", "b2000000.yaml", "x.yml"]
    with pytest.raises(InputError) as ei:
        expand_inputs([tmp_path / "missing.yaml", str(tmp_path / "none*.yaml")])
    assert len(ei.value.problems) == 2


def test_scenario_hash_follows_content_not_paths(tmp_path):
    """Same content in another folder -> same hash; other budget or demand numbers -> new hash."""
    a = tmp_path / "a"
    b = tmp_path / "b"
    for d in (a, b):
        d.mkdir()
        shutil.copy(TINY, d / "tiny.yaml")
        shutil.copy(SCENARIOS / "examples" / "demand.csv", d / "demand.csv")
    ha = scenario_hash(bheard.load_scenario(a / "tiny.yaml"))
    assert ha == scenario_hash(bheard.load_scenario(b / "tiny.yaml"))
    sc = bheard.load_scenario(a / "tiny.yaml")
    assert scenario_hash(sc.with_overrides(**{"budget.annual_usd": 4e6})) != ha
    text = (b / "demand.csv").read_text().replace("0.375", "0.376")
    (b / "demand.csv").write_text(text)
    assert scenario_hash(bheard.load_scenario(b / "tiny.yaml")) != ha


def test_batch_local_pool_summary_failures_and_resume(tmp_path):
    """3 tiny budgets on 2 processes equal bheard.solve; a bad file fails alone; rerun is all cached."""
    files = write_variants(tmp_path / "sc", TINY, [1e6, 3e6, 5e6])
    (tmp_path / "sc" / "bad.yaml").write_text("name: bad\nfoo: 1\n")
    out = tmp_path / "out"
    res = batch([tmp_path / "sc"], out, workers=2)
    s = res.summary.set_index("scenario")
    assert len(s) == 4 and res.n_failed == 1
    assert s.loc["bad", "run"] == "failed" and "foo" in s.loc["bad", "error"]
    for f in files:
        plan = bheard.solve(f)
        row = s.loc[plan.scenario]
        assert row["run"] == "solved" and row["status"] == "optimal"
        assert row["objective"] == pytest.approx(plan.objective, rel=1e-2)
        folder = Path(row["output"])
        assert folder.name == f"{plan.scenario}-{row['hash'][:8]}"
        assert {"plan.csv", "summary.json", "scenario.json", "DONE"} <= {p.name for p in folder.iterdir()}
        saved = bheard.Plan.load(folder)
        assert saved.objective == pytest.approx(row["objective"])
    table = pd.read_csv(out / "batch_summary.csv")
    assert len(table) == 4
    assert {"status", "objective", "bound", "gap", "annual_cost_usd", "seconds", "error"} <= set(table.columns)
    assert len(read_log(out)) == 4  # 3 solved + 1 failed
    again = batch([tmp_path / "sc"], out, workers=1)
    runs = again.summary.set_index("scenario")["run"]
    assert (runs.drop("bad") == "cached").all() and runs["bad"] == "failed"
    solved = [r for r in read_log(out) if r["event"] == "solved"]
    assert len(solved) == 3  # nothing solved twice


def test_cli_batch_exit_code_says_some_failed(tmp_path):
    """`bheard batch` exits 1 when one scenario fails, 0 when all succeed, 2 when nothing matches."""
    from bheard.cli import app

    write_variants(tmp_path / "ok", TINY, [1e6])
    (tmp_path / "mixed").mkdir()
    write_variants(tmp_path / "mixed", TINY, [1e6])
    (tmp_path / "mixed" / "bad.yaml").write_text("name: bad\nfoo: 1\n")
    runner = CliRunner()
    r = runner.invoke(app, ["batch", str(tmp_path / "ok"), "--out", str(tmp_path / "o1"),
                            "--workers", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["batch", str(tmp_path / "mixed"), "--out", str(tmp_path / "o2"),
                            "--workers", "1", "--no-progress"])
    assert r.exit_code == 1
    r = runner.invoke(app, ["batch", str(tmp_path / "nothing*.yaml"), "--out",
                            str(tmp_path / "o3"), "--workers", "1"])
    assert r.exit_code == 2


def test_batch_on_dask_local_cluster_with_two_workers(tmp_path):
    """4 tiny budgets on a real distributed.LocalCluster (2 worker processes): all solved there."""
    from distributed import LocalCluster

    write_variants(tmp_path / "sc", TINY, [1e6, 2e6, 3e6, 5e6])
    out = tmp_path / "out"
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        res = batch([tmp_path / "sc"], out, dask=cluster)
    s = res.summary
    assert (s["run"] == "solved").all() and (s["status"] == "optimal").all()
    assert res.workers.startswith("dask tcp://")
    pids = {r["pid"] for r in read_log(out)}
    assert os.getpid() not in pids and len(pids) >= 1  # solved in the cluster's processes
    for r in s.itertuples(index=False):
        assert (Path(r.output) / "DONE").exists()
    local = batch([tmp_path / "sc"], tmp_path / "local", workers=1)
    assert list(local.summary["objective"]) == pytest.approx(list(s["objective"]))


def test_killed_batch_resumes_without_loss_or_double_solve(tmp_path):
    """Kill `bheard batch --workers 1` after its first solve, resume: each output once, complete."""
    files = write_variants(tmp_path / "sc", CITY, [40e6 + 5e6 * i for i in range(10)],
                           gap=1e-3)
    out = tmp_path / "out"
    cmd = [str(BHEARD), "batch", str(tmp_path / "sc"), "--out", str(out), "--workers", "1",
           "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True, cwd=REPO)
    try:
        deadline = time.time() + 120
        while (time.time() < deadline and proc.poll() is None
               and not [p for p in out.glob("*/DONE") if not p.parent.name.startswith(".")]):
            time.sleep(0.01)  # wait for the first complete plan folder
        os.killpg(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    first_run = [r["scenario"] for r in read_log(out) if r["event"] == "solved"]
    done_after_kill = {p.parent.name.rsplit("-", 1)[0] for p in out.glob("*/DONE")
                       if not p.parent.name.startswith(".")}  # not the temp folder in flight
    assert 1 <= len(done_after_kill) < len(files), "the kill should land mid-batch"
    assert done_after_kill <= set(first_run)  # a folder only appears after its log line
    assert not list(out.glob("*/plan.csv.tmp")) and not (out / "batch_summary.csv").exists()

    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = pd.read_csv(out / "batch_summary.csv").set_index("scenario")
    log = read_log(out)
    second_run = [x["scenario"] for x in log[len(first_run):] if x["event"] == "solved"]
    for name in done_after_kill:  # finished before the kill: never solved again
        assert summary.loc[name, "run"] == "cached"
        assert first_run.count(name) == 1 and name not in second_run
    assert sorted(second_run) == sorted(set(summary.index) - done_after_kill)
    assert len(summary) == len(files)
    assert summary["status"].isin(["optimal", "time_limit_feasible"]).all()
    for folder in summary["output"]:
        folder = Path(folder)
        assert {"plan.csv", "summary.json", "DONE"} <= {p.name for p in folder.iterdir()}
        assert len(pd.read_csv(folder / "plan.csv")) == 78 * 21  # 78 precincts x 21 slots
    assert not list(out.glob(".*tmp*"))  # the interrupted temp folder was replaced
