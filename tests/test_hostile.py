"""Hostile and broken input (issue 11): every entry point refuses cleanly.

For each case: the documented exit code (2 bad input, 3 an output that cannot be written), no
traceback, a message naming the file / field / bad value / what was expected, and no file
written or changed. Most cases run in process through typer's CliRunner or the API; the bomb
cases (memory) run the real command in a subprocess under an address-space cap and a timeout.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import bheard
from bheard.cli import app
from bheard.errors import InputError, OutputError
from helpers import SCENARIOS

TINY = (SCENARIOS / "examples" / "tiny.yaml").read_text()
DEMAND = (SCENARIOS / "examples" / "demand.csv").read_text()
BHEARD = str(Path(sys.executable).with_name("bheard"))


# ----------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------
def snapshot(root: Path) -> dict:
    """Every file under ``root``: relative path -> (size, sha256)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.is_symlink():
            out[str(p.relative_to(root))] = (p.stat().st_size,
                                             hashlib.sha256(p.read_bytes()).hexdigest())
        elif p.is_dir():
            out[str(p.relative_to(root)) + "/"] = None
    return out


def cli(args, cwd: Path, code: int = 2, needles=(), env=None):
    """Run ``bheard ARGS`` in process (working directory ``cwd``); assert the exit code, no
    traceback, every needle in the message, and no file under ``cwd`` written or changed."""
    before = snapshot(cwd)
    old = os.getcwd()
    os.chdir(cwd)
    try:
        r = CliRunner().invoke(app, [str(a) for a in args], env=env)
    finally:
        os.chdir(old)
    text = r.output  # stdout and stderr
    assert r.exception is None or isinstance(r.exception, SystemExit), (
        f"{type(r.exception).__name__}: {r.exception}\n{text}")
    assert r.exit_code == code, text
    assert "Traceback" not in text
    flat = " ".join(text.split())
    for n in needles:
        assert n in flat, f"{n!r} not in message:\n{text}"
    assert snapshot(cwd) == before, "files were written or changed"
    return flat


def scenario(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    """A scenario file next to a copy of the example demand table."""
    (tmp_path / "demand.csv").write_text(DEMAND)
    p = tmp_path / name
    p.write_text(text)
    return p


def tiny_with(**replace) -> str:
    t = TINY
    for a, b in replace.items():
        a = a.replace("__", ".")
        assert a in t, a
        t = t.replace(a, b)
    return t


TOP_COST = "  cost_per_team_shift_usd: {day: 2000, evening: 2100}\n"

# (id, scenario text, needles in the message) -- `bheard validate` and `bheard solve`, exit 2
SCENARIO_CASES = [
    ("inf-cost", TINY.replace("{day: 2000,", "{day: .inf,"),
     ["s.yaml", "teams.cost_per_team_shift_usd", "inf"]),
    ("inf-scale", TINY.replace("table: demand.csv", "table: demand.csv\n  scale: .inf"),
     ["demand.scale", "inf", "finite"]),
    ("inf-budget", TINY.replace("annual_usd: 5000000", "annual_usd: .inf"),
     ["budget.annual_usd", "inf", "finite"]),
    ("nan-budget", TINY.replace("annual_usd: 5000000", "annual_usd: .nan"),
     ["budget.annual_usd", "nan", "finite"]),
    ("huge-budget", TINY.replace("annual_usd: 5000000", "annual_usd: 1.0e+300"),
     ["budget.annual_usd", "1e+300", "magnitude at most 1e+15"]),
    ("huge-int", TINY.replace("max_teams_per_slot: 4", "max_teams_per_slot: 4\n  min_teams: {25: "
                              + "9" * 40 + "}"),
     ["limits.min_teams", "magnitude"]),
    ("inf-cross-borough", TINY + "geography: {cross_borough_penalty_min: .inf}\n",
     ["geography.cross_borough_penalty_min", "inf"]),
    ("inf-speed", TINY + "geography: {speed_factor_by_tour: {day: .nan}}\n",
     ["geography.speed_factor_by_tour", "nan"]),
    ("negative-speed", TINY + "geography: {speed_factor_by_tour: {day: -1}}\n",
     ["geography.speed_factor_by_tour", "-1", "> 0"]),
    ("duplicate-key", TINY + "budget: {annual_usd: 1}\n",
     ["s.yaml", "line 21", "'budget'", "each key once", "line 13"]),
    ("duplicate-nested-key", TINY.replace("hours: 8}", "hours: 8, hours: 9}", 1),
     ["line 4", "'hours'", "each key once"]),
    ("highs-unknown-option", TINY + "  highs_options: {no_such_option: 1}\n",
     ["solver.highs_options.no_such_option", "a HiGHS option name"]),
    ("highs-bad-value", TINY + "  highs_options: {presolve: bogus}\n",
     ["solver.highs_options.presolve", "'bogus'"]),
    ("highs-writes-file", TINY + "  highs_options: {log_file: /tmp/x.log}\n",
     ["solver.highs_options.log_file", "no HiGHS options that read or write files"]),
    ("highs-reserved", TINY + "  highs_options: {time_limit: 5}\n",
     ["solver.highs_options.time_limit", "time_limit_s"]),
    ("partial-salary", TINY.replace(TOP_COST, "") + "costs: {salary_usd: {emt: 60000}}\n",
     ["costs.salary_usd", "missing ['social_worker']", "emt 2"]),
    ("crew-all-zero", TINY.replace("service_time_hours: 1.75", "service_time_hours: 1.75\n"
                                   "  crew: {emt: 0, social_worker: 0, peer: 0}"),
     ["teams.crew", "at least one person"]),
    ("deep-list", "name: x\nz: " + "[" * 20000 + "]" * 20000 + "\n",
     ["s.yaml", "line 2", "nesting deeper than 50", "at most 50 levels"]),
    ("deep-map", "name: x\nz: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
     ["s.yaml", "nesting deeper than 50"]),
    ("python-tag", TINY + "x: !!python/object/apply:os.system [echo hi]\n",
     ["s.yaml", "line 21", "valid YAML"]),
    ("yaml-syntax", TINY + "budget: [unclosed\n", ["s.yaml", "valid YAML"]),
    ("long-number", TINY.replace("annual_usd: 5000000", "annual_usd: 1" + "0" * 5000),
     ["s.yaml", "numbers of ordinary size"]),
    ("not-a-mapping", "- just\n- a list\n", ["(top level)", "'list'", "a mapping"]),
    ("non-text-keys", "1: x\n" + TINY, ["(top level)", "field names"]),
    ("markup-in-value", TINY.replace("max_teams_per_slot: 4", "max_teams_per_slot: '[/]'"),
     ["limits.max_teams_per_slot", "'[/]'", "valid integer"]),
    ("bracket-list-value", TINY.replace("precincts: [25, 28, 32]",
                                        "precincts: ['[bold]25', 28]"),
     ["precincts", "[bold]25"]),
    ("unknown-key", TINY.replace("service_time_hours", "service_time_hour"),
     ["teams.service_time_hour", "allowed here"]),
    ("bad-time", TINY.replace('start: "09:00"', 'start: "25:00"'),
     ["shifts.tours[0].start", "25:00", "HH:MM"]),
    ("unknown-precinct", TINY.replace("[25, 28, 32]", "[25, 28, 999]"),
     ["precincts[2]", "999", "NYPD precinct"]),
    ("extends-outside", "extends: /etc/passwd\n" + TINY,
     ["extends", "/etc/passwd", "a path inside the scenario's folder"]),
    ("extends-dotdot", "extends: ../../../../../../etc/hostname\n" + TINY,
     ["extends", "../../../../../../etc/hostname", "--allow-path"]),
    ("table-outside", TINY.replace("table: demand.csv", "table: /etc/hostname"),
     ["demand.table", "/etc/hostname", "a path inside"]),
    ("extends-missing", "extends: nothere.yaml\n" + TINY,
     ["extends", "nothere.yaml", "an existing scenario file"]),
    ("extends-not-text", "extends: [a, b]\n" + TINY, ["extends", "a path to a parent"]),
    ("staggered-with-table", TINY + "shifts: {staggered: {starts: every_hour}}\n",
     ["line 21", "'shifts'", "each key once"]),
]


@pytest.mark.parametrize("case_id,text,needles", SCENARIO_CASES,
                         ids=[c[0] for c in SCENARIO_CASES])
def test_bad_scenario_refused(tmp_path, case_id, text, needles):
    """A hostile or broken scenario: `bheard validate` exits 2 with a message naming the
    file, field, value and expectation; nothing is written."""
    p = scenario(tmp_path, text)
    cli(["validate", p], tmp_path, 2, needles)


def test_bad_scenario_refused_by_solve_and_frontier_too(tmp_path):
    """The same checks stand in front of `solve --out`, `frontier` and `simulate` (no plan
    folder is created)."""
    p = scenario(tmp_path, TINY.replace("annual_usd: 5000000", "annual_usd: .inf"))
    for args in (["solve", p, "--out", "o"], ["frontier", p, "--budgets", "1e6,2e6"],
                 ["simulate", p, "-n", "1"], ["batch", p, "--out", "b"]):
        if args[0] == "batch":
            continue  # batch reports per-scenario failures in its table (below)
        cli(args, tmp_path, 2, ["budget.annual_usd", "inf"])


def test_scenario_files_that_are_not_files(tmp_path):
    """A folder, a FIFO, undecodable bytes, an empty name: exit 2, no traceback."""
    cli(["validate", tmp_path], tmp_path, 2, ["not a folder"])
    (tmp_path / "bin.yaml").write_bytes(b"name: \xff\xfe\x00\x00")
    cli(["validate", "bin.yaml"], tmp_path, 2, ["bin.yaml", "UTF-8"])
    os.mkfifo(tmp_path / "fifo.yaml")
    cli(["validate", "fifo.yaml"], tmp_path, 2, ["fifo.yaml", "regular file"])
    p = scenario(tmp_path, TINY.replace("table: demand.csv", "table: t.csv"))
    os.mkfifo(tmp_path / "t.csv")
    cli(["validate", p], tmp_path, 2, ["demand.table", "t.csv", "a regular file"])


def test_scenario_file_size_limit(tmp_path, monkeypatch):
    """A scenario over the size limit (1 MiB; BHEARD_MAX_SCENARIO_BYTES) is refused before it
    is parsed (a 50 MB file took minutes)."""
    p = scenario(tmp_path, TINY + "description: '" + "x" * (1 << 20) + "'\n")
    cli(["validate", p], tmp_path, 2, ["s.yaml", "bytes", "at most 1,048,576 bytes"])
    monkeypatch.setenv("BHEARD_MAX_SCENARIO_BYTES", "100")
    small = scenario(tmp_path, TINY, "small.yaml")
    cli(["validate", small], tmp_path, 2, ["small.yaml", "at most 100 bytes"])


def test_extends_chain_and_cycle(tmp_path):
    """A 1,200-file extends chain (RecursionError before) and a cycle: exit 2."""
    (tmp_path / "c0.yaml").write_text(TINY.replace("table: demand.csv",
                                                   f"table: {SCENARIOS / 'examples' / 'demand.csv'}"))
    for i in range(1, 1200):
        (tmp_path / f"c{i}.yaml").write_text(f"extends: c{i - 1}.yaml\n")
    cli(["validate", "c1199.yaml"], tmp_path, 2, ["extends", "a chain of at most 16 files"])
    (tmp_path / "a.yaml").write_text("extends: b.yaml\nname: a\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\nname: b\n")
    cli(["validate", "a.yaml"], tmp_path, 2, ["extends", "no cycle"])


def test_allow_path_option_admits_a_folder(tmp_path):
    """`--allow-path DIR` (or BHEARD_ALLOW_PATHS) lets a scenario read outside its folder."""
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "demand.csv").write_text(DEMAND)
    work = tmp_path / "work"
    work.mkdir()
    (work / "s.yaml").write_text(TINY.replace("table: demand.csv", "table: ../shared/demand.csv"))
    cli(["validate", "s.yaml"], work, 2, ["demand.table", "../shared/demand.csv"])
    r = CliRunner().invoke(app, ["--allow-path", str(shared), "validate", str(work / "s.yaml")],
                           env={"BHEARD_ALLOW_PATHS": ""})
    assert r.exit_code == 0, r.output
    os.environ.pop("BHEARD_ALLOW_PATHS", None)
    r = CliRunner().invoke(app, ["validate", str(work / "s.yaml")],
                           env={"BHEARD_ALLOW_PATHS": str(shared)})
    assert r.exit_code == 0, r.output


def test_error_never_echoes_a_file_outside_the_scenario(tmp_path):
    """`extends: /etc/passwd` printed every line of the file as an unknown key; now the path
    is refused before the file is read, and no line of it appears."""
    secret = tmp_path / "outside" / "secret.yaml"
    secret.parent.mkdir()
    secret.write_text("root_password_line: hunter2\nanother_secret: s3cr3t\n")
    work = tmp_path / "w"
    work.mkdir()
    (work / "s.yaml").write_text(f"extends: {secret}\n" + TINY)
    text = cli(["validate", "s.yaml"], work, 2, ["extends", "a path inside"])
    assert "hunter2" not in text and "root_password_line" not in text


def test_size_guard_refuses_before_building(tmp_path, monkeypatch):
    """The size guard estimates the model from its dimensions and refuses with the size and
    the limit (BHEARD_MAX_MODEL_MB) before any data or model is built."""
    p = scenario(tmp_path, TINY)
    monkeypatch.setenv("BHEARD_MAX_MODEL_MB", "0.5")
    cli(["solve", p, "--out", "o"], tmp_path, 2,
        ["(model size)", "MiB", "3 precincts x 14 columns", "at most 0 MiB", "BHEARD_MAX_MODEL_MB"])
    monkeypatch.delenv("BHEARD_MAX_MODEL_MB")
    # 1,000 tours x 7 days x 78 precincts x 200 teams: ~10^8 cells, refused at once
    tours = ", ".join(f"{{name: t{i}, start: '09:00', hours: 8}}" for i in range(1000))
    big = (f"name: big\nshifts: {{tours: [{tours}]}}\nprecincts: all\n"
           "teams: {cost_per_team_shift_usd: 2000}\nbudget: {annual_usd: 1.0e+9}\n"
           "limits: {max_teams_per_slot: 200}\n")
    (tmp_path / "big.yaml").write_text(big)
    cli(["validate", "big.yaml"], tmp_path, 2, ["(model size)", "78 precincts x 7000 columns",
                                                "BHEARD_MAX_MODEL_MB"])


# ----------------------------------------------------------------------------------------
# the bombs: real processes under a memory cap
# ----------------------------------------------------------------------------------------
def _capped(args, cwd, limit_bytes=3 << 30, timeout=180):
    def cap():
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([BHEARD, *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          preexec_fn=cap, timeout=timeout, env=env)


def test_yaml_alias_bomb_under_a_memory_cap(tmp_path):
    """9 levels of 9 aliases (532 bytes, ~8.6e9 values expanded): refused at once, in a
    process capped at 3 GiB of address space, instead of growing at 90 MB/s."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\nname: *a9\n")
    r = _capped(["validate", "bomb.yaml"], tmp_path)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and "bomb.yaml" in r.stderr
    assert "values after expanding aliases" in r.stderr and "at most 200,000" in r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.yaml"]


def test_deep_nesting_and_huge_inputs_under_a_memory_cap(tmp_path):
    """A 20,000-deep list and a frontier of 100,000,000 points, as real processes under the
    cap: exit 2, no traceback."""
    (tmp_path / "deep.yaml").write_text("a: " + "[" * 20000 + "]" * 20000 + "\n")
    r = _capped(["validate", "deep.yaml"], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "nesting" in r.stderr
    scenario(tmp_path, TINY)
    r = _capped(["frontier", "s.yaml", "--budgets", "1e5:1e6:100000000"], tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--budgets" in r.stderr and "N <= 1,000" in r.stderr
    assert not (tmp_path / "out").exists()


# ----------------------------------------------------------------------------------------
# command-line values
# ----------------------------------------------------------------------------------------
CLI_CASES = [
    ("budget-inf", ["solve", "s.yaml", "--budget", "inf", "--out", "o"], ["--budget", "inf"]),
    ("budget-nan", ["solve", "s.yaml", "--budget", "nan"], ["--budget", "nan"]),
    ("budget-negative", ["solve", "s.yaml", "--budget", "-5"], ["--budget", "-5"]),
    ("time-limit-inf", ["solve", "s.yaml", "--time-limit", "inf"], ["--time-limit", "inf"]),
    ("time-limit-zero", ["solve", "s.yaml", "--time-limit", "0"], ["--time-limit", "0"]),
    ("report-needs-out", ["solve", "s.yaml", "--report"], ["--report", "--out"]),
    ("frontier-points", ["frontier", "s.yaml", "--budgets", "1e5:1e6:100000000"],
     ["--budgets", "N <= 1,000"]),
    ("frontier-garbage", ["frontier", "s.yaml", "--budgets", "lots"], ["--budgets", "'lots'"]),
    ("frontier-inf", ["frontier", "s.yaml", "--budgets", "1e6,inf"], ["--budgets"]),
    ("frontier-time-limit", ["frontier", "s.yaml", "--budgets", "1e6,2e6", "--time-limit", "-1"],
     ["--time-limit", "-1"]),
    ("simulate-replications-0", ["simulate", "s.yaml", "-n", "0"], ["--replications", "0"]),
    ("simulate-seed", ["simulate", "s.yaml", "--seed", "-1"], ["--seed", "-1"]),
    ("simulate-dispatch", ["simulate", "s.yaml", "--dispatch", "teleport"],
     ["--dispatch", "teleport"]),
    ("simulate-max-wait", ["simulate", "s.yaml", "--max-wait", "-3"], ["--max-wait"]),
    ("simulate-missing", ["simulate", "nothere"], ["nothere", "an existing scenario file"]),
    ("batch-nothing", ["batch", "nomatch*.yaml", "--out", "b"], ["SCENARIOS", "nomatch*.yaml"]),
    ("batch-workers-0", ["batch", "s.yaml", "--out", "b", "--workers", "0"], ["--workers", "0"]),
    ("batch-dask-garbage", ["batch", "s.yaml", "--out", "b", "--dask", "nothing"],
     ["--dask", "nothing", "scheduler address"]),
    ("report-not-a-plan", ["report", "."], ["a plan folder written by `bheard solve --out`"]),
    ("report-frontier-missing", ["report", ".", "--frontier", "nofolder"],
     ["--frontier", "nofolder"]),
    ("synth-years", ["data", "synth", "--out", "x.csv", "--years", "0"], ["--years", "0"]),
    ("ingest-missing", ["ingest", "nothere.csv"], ["nothere.csv"]),
    ("forecast-missing", ["forecast", "nothere.csv", "--out", "f.csv"], ["nothere.csv"]),
]


@pytest.mark.parametrize("case_id,args,needles", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_command_line_values(tmp_path, case_id, args, needles):
    """Bad option values: exit 2 naming the option and the value; nothing written."""
    scenario(tmp_path, TINY)
    cli(args, tmp_path, 2, needles)


def test_markup_in_names_is_printed_as_text(tmp_path):
    """`[/]` in a scenario name or a tour name crashed rich's markup parser on a VALID
    scenario; now solve, frontier, simulate and batch print it as text."""
    text = TINY.replace("name: tiny", "name: 'a[/]b[bold]c'").replace(
        "name: evening", "name: 'eve[/]ning'").replace("evening: 2100", "'eve[/]ning': 2100")
    (tmp_path / "demand.csv").write_text(DEMAND.replace(",evening,", ",eve[/]ning,"))
    (tmp_path / "s.yaml").write_text(text)
    r = CliRunner().invoke(app, ["solve", str(tmp_path / "s.yaml"), "--out",
                                 str(tmp_path / "o[/]x")])
    assert r.exit_code == 0, r.output
    assert "a[/]b[bold]c: status optimal" in r.output and "eve[/]ning" in r.output
    assert "o[/]x" in r.output
    r = CliRunner().invoke(app, ["frontier", str(tmp_path / "s.yaml"), "--budgets", "1e6,2e6",
                                 "--out", str(tmp_path / "f")])
    assert r.exit_code == 0 and "a[/]b[bold]c: budget frontier" in r.output, r.output
    r = CliRunner().invoke(app, ["simulate", str(tmp_path / "o[/]x"), "-n", "1"])
    assert r.exit_code == 0 and "eve[/]ning" in r.output, r.output
    (tmp_path / "bad[red].yaml").write_text(text.replace("annual_usd: 5000000", "annual_usd: -1"))
    r = CliRunner().invoke(app, ["batch", str(tmp_path / "s.yaml"), str(tmp_path / "bad[red].yaml"),
                                 "--out", str(tmp_path / "b"), "--workers", "1",
                                 "--no-progress"])
    assert r.exit_code == 1 and "a[/]b[bold]c optimal" in " ".join(r.output.split()), r.output
    assert "bad[red].yaml" in r.output and "Traceback" not in r.output


def test_frontier_default_folder_is_sanitised(tmp_path):
    """`name: ../../../../x` wrote three levels above the working directory; the default
    folder is out/<safe name>-frontier."""
    work = tmp_path / "a" / "b" / "c" / "d"
    work.mkdir(parents=True)
    scenario(work, TINY.replace("name: tiny", "name: ../../../../x"))
    old = os.getcwd()
    os.chdir(work)
    try:
        r = CliRunner().invoke(app, ["frontier", "s.yaml", "--budgets", "1e6,2e6"])
    finally:
        os.chdir(old)
    assert r.exit_code == 0, r.output
    assert (work / "out" / "x-frontier" / "frontier.csv").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    assert not (tmp_path / "x-frontier").exists() and not (tmp_path / "a" / "x-frontier").exists()


# ----------------------------------------------------------------------------------------
# demand tables, travel-time tables, ingest
# ----------------------------------------------------------------------------------------
def _demand_rows():
    return DEMAND.strip().splitlines()


def _demand_with(row: int, value: str) -> str:
    rows = _demand_rows()
    rows[row] = value
    return "\n".join(rows) + "\n"


DEMAND_CASES = [
    ("negative-rate", _demand_with(5, "25,Fri,day,-1"), ["row 6, calls_per_hour", "-1"]),
    ("inf-rate", _demand_with(5, "25,Fri,day,inf"), ["row 6, calls_per_hour", "inf"]),
    ("text-precinct", _demand_with(2, "abc,Mon,evening,1"), ["row 3, precinct", "abc"]),
    ("fractional-precinct", _demand_with(2, "25.5,Mon,evening,1"), ["row 3, precinct", "25.5"]),
    ("duplicate-row", "\n".join(_demand_rows() + [_demand_rows()[1]]) + "\n",
     ["each (precinct, day, tour) once"]),
    ("missing-column", DEMAND.replace("calls_per_hour", "rate"), ["columns", "calls_per_hour"]),
    ("missing-rows", "\n".join(_demand_rows()[:10]) + "\n", ["rows", "missing"]),
    ("empty-file", "", ["demand.csv", "(file)"]),
]


@pytest.mark.parametrize("case_id,table,needles", DEMAND_CASES, ids=[c[0] for c in DEMAND_CASES])
def test_bad_demand_table(tmp_path, case_id, table, needles):
    """A broken demand table: exit 2 naming the file, the row and the column."""
    p = scenario(tmp_path, TINY)
    (tmp_path / "demand.csv").write_text(table)
    cli(["validate", p], tmp_path, 2, ["demand.csv", *needles])


def _od(rows: list[str]) -> str:
    return "origin,destination,minutes\n" + "\n".join(rows) + "\n"


def _full_od(extra=(), skip=None) -> list[str]:
    ps = (25, 28, 32)
    rows = [f"{o},{d},{5 if o == d else 12}" for o in ps for d in ps]
    if skip is not None:
        rows.pop(skip)
    return rows + list(extra)


OD_CASES = [
    ("origin-text", _od(_full_od(["abc,25,3"])), ["row 11: origin", "abc", "integer"]),
    ("origin-fraction", _od(_full_od(["25.7,28,3"])), ["row 11: origin", "25.7", "integer"]),
    ("minutes-inf", _od(_full_od(["25,28,inf"])), ["row 11: minutes", "inf", "finite"]),
    ("minutes-negative", _od(_full_od(["25,28,-2"])), ["row 11: minutes", "-2"]),
    ("duplicate-pair", _od(_full_od(["25,28,3"])), ["row 11", "25, 28", "once"]),
    ("missing-pair", _od(_full_od(skip=1)), ["no row for origin 25 -> destination 28"]),
    ("wrong-columns", "from,to,min\n25,28,3\n", ["(columns)", "origin, destination, minutes"]),
]


@pytest.mark.parametrize("case_id,table,needles", OD_CASES, ids=[c[0] for c in OD_CASES])
def test_bad_travel_time_table(tmp_path, case_id, table, needles):
    """A broken origin-destination CSV (shared coverage reads it): exit 2 naming the row
    (origin "abc" was a traceback; 25.7 was silently truncated to 25)."""
    p = scenario(tmp_path, TINY + "coverage: {mode: shared}\ngeography: {travel_times: od.csv}\n")
    (tmp_path / "od.csv").write_text(table)
    cli(["solve", p], tmp_path, 2, ["od.csv", *needles])


def test_bad_ingest_inputs(tmp_path):
    """`bheard ingest` on a file that is not a 911 export, or undecodable: exit 2."""
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    cli(["ingest", "x.csv", "--report", "r.json"], tmp_path, 2, ["x.csv", "(columns)"])
    (tmp_path / "bin.csv").write_bytes(b"\x00\xff\xfe" * 100)
    cli(["ingest", "bin.csv", "--report", "r.json"], tmp_path, 2, ["bin.csv"])


# ----------------------------------------------------------------------------------------
# plan folders: damaged, edited, mixed
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_plan(tmp_path_factory):
    """A tiny plan saved by `bheard solve --out` (read only: cases copy it)."""
    d = tmp_path_factory.mktemp("plan") / "p"
    bheard.solve(SCENARIOS / "examples" / "tiny.yaml").save(d)
    return d


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def reseal(folder: Path) -> None:
    """Rewrite manifest.json for the folder's files as they are now (what an attacker who
    edits a plan folder would do): the folder checks, not only the checksums, must catch it."""
    import json

    m = json.loads((folder / "manifest.json").read_text())
    for name in list(m["files"]):
        b = (folder / name).read_bytes()
        m["files"][name] = {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
    (folder / "manifest.json").write_text(json.dumps(m))


def _edit_csv(folder: Path, row: int, col: str, value: str) -> None:
    import csv
    import io

    rows = list(csv.reader(io.StringIO((folder / "plan.csv").read_text())))
    rows[row][rows[0].index(col)] = value
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (folder / "plan.csv").write_text(buf.getvalue())


def _dup_row(folder: Path) -> None:
    lines = (folder / "plan.csv").read_text().splitlines()
    lines[2] = lines[1]
    (folder / "plan.csv").write_text("\n".join(lines) + "\n")


def _drop_row(folder: Path) -> None:
    lines = (folder / "plan.csv").read_text().splitlines()
    (folder / "plan.csv").write_text("\n".join(lines[:-1]) + "\n")


def _set_summary(folder: Path, key: str, value) -> None:
    import json

    s = json.loads((folder / "summary.json").read_text())
    s[key] = value
    (folder / "summary.json").write_text(json.dumps(s))


PLAN_CASES = [
    # (id, damage, reseal manifest?, needles)
    ("no-manifest", lambda f: (f / "manifest.json").unlink(), False,
     ["manifest.json", "(missing)", "interrupted"]),
    ("edited-plan-csv", lambda f: _edit_csv(f, 1, "teams", "3"), False,
     ["plan.csv", "checksum differs"]),
    ("truncated-plan-csv", lambda f: (f / "plan.csv").write_text("precinct\n"), False,
     ["plan.csv", "changed after it was written"]),
    ("missing-plan-csv", lambda f: (f / "plan.csv").unlink(), False, ["plan.csv", "(missing)"]),
    ("garbage-manifest", lambda f: (f / "manifest.json").write_text("[1,2"), False,
     ["manifest.json", "not a bheard manifest"]),
    ("teams-negative", lambda f: _edit_csv(f, 1, "teams", "-3"), True,
     ["plan.csv", "row 2, teams", "-3", "an integer >= 0"]),
    ("teams-fraction", lambda f: _edit_csv(f, 1, "teams", "2.7"), True,
     ["plan.csv", "row 2, teams", "2.7"]),
    ("teams-text", lambda f: _edit_csv(f, 1, "teams", "many"), True,
     ["plan.csv", "row 2, teams", "many"]),
    ("teams-over-limit", lambda f: _edit_csv(f, 1, "teams", "50"), True,
     ["plan.csv", "row 2, teams", "50", "max_teams_per_slot = 4"]),
    ("precinct-999", lambda f: _edit_csv(f, 1, "precinct", "999"), True,
     ["plan.csv", "row 2, precinct", "999", "a precinct of the plan's scenario"]),
    ("unknown-day", lambda f: _edit_csv(f, 1, "day", "Funday"), True,
     ["plan.csv", "row 2, day", "Funday"]),
    ("unknown-tour", lambda f: _edit_csv(f, 1, "tour", "brunch"), True,
     ["plan.csv", "row 2, day/tour", "brunch"]),
    ("duplicated-row", _dup_row, True, ["plan.csv", "row 3", "each (precinct, day, tour) once"]),
    ("missing-row", _drop_row, True, ["plan.csv", "(rows)", "one row per precinct and column"]),
    ("rate-inf", lambda f: _edit_csv(f, 1, "calls_per_hour", "inf"), True,
     ["plan.csv", "row 2, calls_per_hour", "inf"]),
    ("summary-not-json", lambda f: (f / "summary.json").write_text("{oops"), True,
     ["summary.json", "JSON"]),
    ("summary-bad-status", lambda f: _set_summary(f, "status", "great"), True,
     ["summary.json", "status", "great"]),
    ("summary-nan", lambda f: _set_summary(f, "gap", "NaN"), True,
     ["summary.json", "gap", "a finite number or null"]),
    ("summary-total-mismatch", lambda f: _set_summary(f, "team_shifts_per_week", 1), True,
     ["plan.csv", "teams", "files of one run"]),
    ("summary-headcount-no-total", lambda f: _set_summary(f, "details", {"workforce": {
        "headcount": [{"tour": "day", "emt": 1.0}]}}), True,
     ["summary.json", "details.workforce.headcount", "a 'total' row"]),
    ("summary-other-scenario", lambda f: _set_summary(f, "scenario", "other"), True,
     ["summary.json", "scenario", "'other'"]),
    ("scenario-extends", lambda f: (f / "scenario.yaml").write_text(
        "extends: /etc/passwd\n" + (f / "scenario.yaml").read_text()), True,
     ["scenario.yaml", "extends", "no extends"]),
    ("scenario-inf", lambda f: (f / "scenario.yaml").write_text(
        (f / "scenario.yaml").read_text().replace("annual_usd: 5000000.0", "annual_usd: .inf")),
     True, ["scenario.yaml", "budget.annual_usd", "inf"]),
]


@pytest.mark.parametrize("case_id,damage,seal,needles", PLAN_CASES,
                         ids=[c[0] for c in PLAN_CASES])
def test_damaged_plan_folder_refused(tmp_path, saved_plan, case_id, damage, seal, needles):
    """`bheard report` and `bheard simulate` refuse a damaged or edited plan folder with exit
    2 (17 tracebacks and 4 silent accepts before: teams -3, precinct 999, a duplicated row,
    teams 2.7), even when the editor rewrote the manifest; nothing is written."""
    f = _copy(saved_plan, tmp_path / "plan")
    damage(f)
    if seal:
        reseal(f)
    cli(["report", "plan"], tmp_path, 2, needles)
    cli(["simulate", "plan", "-n", "1"], tmp_path, 2, needles)
    with pytest.raises(InputError):
        bheard.Plan.load(f)


def test_mixed_pair_is_refused(tmp_path, saved_plan):
    """plan.csv of one run beside summary.json of another (what a kill between two renames
    used to leave): refused, whichever manifest is there."""
    a = _copy(saved_plan, tmp_path / "a")
    b = tmp_path / "b"
    bheard.solve(SCENARIOS / "examples" / "tiny.yaml", budget_usd=1e6).save(b)
    (a / "plan.csv").write_bytes((b / "plan.csv").read_bytes())
    cli(["report", "a"], tmp_path, 2, ["plan.csv", "changed after it was written"])
    reseal(a)
    cli(["report", "a"], tmp_path, 2, ["files of one run"])


def test_html_report_escapes_every_field(tmp_path, saved_plan):
    """Every string of summary.json (keys too) and of the frontier table reaches report.html
    escaped (details.coverage_model and crew roles did not)."""
    import json

    f = _copy(saved_plan, tmp_path / "plan")
    mark = "<x-inject onload=alert(1)>"
    s = json.loads((f / "summary.json").read_text())

    def poison(v):
        if isinstance(v, dict):
            return {mark + k: poison(w) for k, w in v.items()}
        if isinstance(v, list):
            return [poison(w) for w in v]
        return mark + v if isinstance(v, str) else v

    s = {k: (v if k in _KEEP else poison(v) if isinstance(v, (list, dict))
             else mark + v if isinstance(v, str) else v) for k, v in s.items()}
    s["assumptions"] = [{"name": mark, "value": {mark: mark}, "unit": mark, "source": mark}]
    s["diagnosis"] = [mark]
    s["demand_source"] = mark
    s["details"] = {"coverage_model": "shared " + mark,
                    "workforce": {"fte_by_role": {mark: 1.0},
                                  "headcount": [{"tour": mark, mark: 2.0},
                                                {"tour": "total", mark: 2.0}],
                                  "cost_breakdown_usd_per_year": {mark: 3.0}},
                    mark: {mark: mark}}
    (f / "summary.json").write_text(json.dumps(s))
    reseal(f)
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "frontier.csv").write_text(
        "budget_usd,covered_calls,coverage_share,status,marginal_calls_per_million_usd,"
        f"bound,gap,team_shifts_per_week,annual_cost_usd,seconds\n1e6,5,0.1,{mark},,5,0,3,1e6,0.1\n")
    r = CliRunner().invoke(app, ["report", str(f), "--frontier", str(tmp_path / "fr")])
    assert r.exit_code == 0, r.output
    html = (f / "report.html").read_text()
    assert "&lt;x-inject onload=alert(1)&gt;" in html
    assert "<x-inject" not in html


_KEEP = {"scenario", "status", "columns", "solver", "tours"}


def test_report_ignores_a_simulation_of_another_plan(tmp_path, saved_plan):
    """A simulation.json left from another plan is not shown as this plan's check."""
    f = _copy(saved_plan, tmp_path / "plan")
    (f / "simulation.json").write_text('{"predicted_vs_simulated": {"predicted": 0.123456,'
                                       ' "simulated": 0.5, "ci95": [0.4, 0.6]}}')
    r = CliRunner().invoke(app, ["report", str(f)])
    assert r.exit_code == 0, r.output
    assert 'id="simulation-table"' not in (f / "report.html").read_text()


def test_saving_a_plan_removes_outputs_of_the_old_one(tmp_path, saved_plan):
    """A new plan over an old folder removes the old plan's simulation and report (they would
    describe another plan) and keeps unrelated files."""
    f = _copy(saved_plan, tmp_path / "plan")
    for n in ("simulation.json", "report.html", "notes.txt"):
        (f / n).write_text("old")
    bheard.solve(SCENARIOS / "examples" / "tiny.yaml", budget_usd=1e6).save(f)
    assert not (f / "simulation.json").exists() and not (f / "report.html").exists()
    assert (f / "notes.txt").read_text() == "old"
    assert bheard.Plan.load(f).budget == 1e6


# ----------------------------------------------------------------------------------------
# outputs that cannot be written (exit 3)
# ----------------------------------------------------------------------------------------
def test_unwritable_outputs_exit_3(tmp_path, saved_plan):
    """Output paths under a regular file, or in /proc: exit 3 with the path and the reason,
    for every command that writes (8 commands gave tracebacks)."""
    scenario(tmp_path, TINY)
    (tmp_path / "afile").write_text("x")
    _copy(saved_plan, tmp_path / "plan")
    bad = "afile/sub"
    for args in (["solve", "s.yaml", "--out", bad],  # noqa: B007
                 ["solve", "s.yaml", "--out", "afile"],
                 ["frontier", "s.yaml", "--budgets", "1e6,2e6", "--out", bad],
                 ["simulate", "plan", "-n", "1", "--out", bad],
                 ["report", "plan", "--output", f"{bad}/r.html"],
                 ["batch", "s.yaml", "--out", bad, "--workers", "1", "--no-progress"],
                 ["data", "synth", "--out", f"{bad}/c.csv", "--years", "0.1"],
                 ["data", "travel-times", "--out", f"{bad}/t.csv"],
                 ["solve", "s.yaml", "--out", "/proc/bheard-no"]):
        try:
            cli(args, tmp_path, 3, ["afile" if "afile" in " ".join(args) else "/proc",
                                    "expected a"])
        except AssertionError as exc:
            raise AssertionError(f"{args}: {exc}") from None


def test_disk_full_keeps_the_old_plan(tmp_path, saved_plan):
    """A file-size limit (RLIMIT_FSIZE, like a full disk) while `solve --out` overwrites a
    plan: exit 3, a message, and the old plan folder unchanged and still accepted."""
    import signal

    f = _copy(saved_plan, tmp_path / "plan")
    before = snapshot(f)

    def cap():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (600, 600))

    r = subprocess.run([BHEARD, "solve", str(SCENARIOS / "examples" / "tiny.yaml"), "--budget",
                        "1e6", "--out", str(f)], capture_output=True, text=True, preexec_fn=cap,
                       timeout=300)
    assert r.returncode == 3, r.stderr
    assert "Traceback" not in r.stderr and str(f) in " ".join(r.stderr.split())
    assert "expected a writable folder with free space" in " ".join(r.stderr.split())
    assert snapshot(f) == before
    assert bheard.Plan.load(f).budget == 5e6


# ----------------------------------------------------------------------------------------
# batch: lock, whole log lines
# ----------------------------------------------------------------------------------------
def test_second_batch_on_a_locked_folder_exit_3(tmp_path):
    """Two batches on one --out solved every scenario twice; now the second is refused at
    once (exit 3) while the first holds the folder's lock."""
    from bheard.batch import _lock, _unlock

    scenario(tmp_path, TINY)
    out = tmp_path / "b"
    out.mkdir()
    fd = _lock(out)
    try:
        cli(["batch", "s.yaml", "--out", "b", "--workers", "1"], tmp_path, 3,
            ["(lock)", "in use by another bheard batch", f"pid {os.getpid()}"])
    finally:
        _unlock(fd)
    r = CliRunner().invoke(app, ["batch", str(tmp_path / "s.yaml"), "--out", str(out),
                                 "--workers", "1", "--no-progress"])
    assert r.exit_code == 0, r.output


def test_batch_log_short_write_is_cut_back(tmp_path, monkeypatch):
    """A short write (disk full) no longer leaves a torn line in batch_log.jsonl: the line is
    cut back off and the batch exits 3; an old torn tail is repaired on the next run."""
    import json

    B = importlib.import_module("bheard.batch")

    scenario(tmp_path, TINY)
    out = tmp_path / "b"
    out.mkdir()
    (out / B.LOG_NAME).write_text('{"event": "solved"}\n{"event": "sol')  # torn by an old crash
    real = os.write

    def short(fd, data):
        return real(fd, data[: len(data) // 2])

    monkeypatch.setattr(B.os, "write", short)
    with pytest.raises(OutputError):
        B.batch([tmp_path / "s.yaml"], out, workers=1)
    monkeypatch.setattr(B.os, "write", real)
    lines = (out / B.LOG_NAME).read_text().splitlines(keepends=True)
    assert lines == ['{"event": "solved"}\n']
    res = B.batch([tmp_path / "s.yaml"], out, workers=1)
    assert res.ok
    for line in (out / B.LOG_NAME).read_text().splitlines(keepends=True):
        assert line.endswith("\n") and json.loads(line)


def test_batch_unreachable_dask_scheduler(tmp_path, monkeypatch):
    """`--dask` to a scheduler nobody listens on: exit 2 naming the address (a traceback
    before)."""
    B = importlib.import_module("bheard.batch")

    monkeypatch.setattr(B, "DASK_CONNECT_TIMEOUT_S", 2)
    scenario(tmp_path, TINY)
    text = cli(["batch", "s.yaml", "--out", "b", "--dask", "tcp://127.0.0.1:9"], tmp_path, 2,
               ["--dask", "tcp://127.0.0.1:9", "a reachable Dask scheduler"], )
    assert "Traceback" not in text


# ----------------------------------------------------------------------------------------
# the API: one exception type
# ----------------------------------------------------------------------------------------
def _api_cases():
    tiny = SCENARIOS / "examples" / "tiny.yaml"
    return [
        ("load_scenario(None)", lambda: bheard.load_scenario(None)),
        ("load_scenario(123)", lambda: bheard.load_scenario(123)),
        ("with_overrides(no.such)", lambda: bheard.load_scenario(tiny).with_overrides(
            **{"no.such": 1})),
        ("with_overrides(budget inf)", lambda: bheard.load_scenario(tiny).with_overrides(
            **{"budget.annual_usd": math.inf})),
        ("solve(None)", lambda: bheard.solve(None)),
        ("solve(budget_usd=inf)", lambda: bheard.solve(tiny, budget_usd=math.inf)),
        ("solve(budget_usd='x')", lambda: bheard.solve(tiny, budget_usd="x")),
        ("solve(time_limit_s=-1)", lambda: bheard.solve(tiny, time_limit_s=-1)),
        ("simulate(replications=-3)", lambda: bheard.simulate(tiny, replications=-3)),
        ("simulate(replications=0)", lambda: bheard.simulate(tiny, replications=0)),
        ("simulate(replications=10**9)", lambda: bheard.simulate(tiny, replications=10**9)),
        ("simulate(replications=2.5)", lambda: bheard.simulate(tiny, replications=2.5)),
        ("simulate(seed=-1)", lambda: bheard.simulate(tiny, seed=-1)),
        ("simulate(dispatch=?)", lambda: bheard.simulate(tiny, dispatch="teleport")),
        ("simulate(None)", lambda: bheard.simulate(None)),
        ("frontier(budgets=None)", lambda: bheard.frontier(tiny, None)),
        ("frontier(budgets=[[1]])", lambda: bheard.frontier(tiny, [[1e6], [2e6]])),
        ("frontier(budgets=1e5:1e6:1e8)", lambda: bheard.frontier(tiny, "1e5:1e6:100000000")),
        ("batch(None)", lambda: bheard.batch(None, "b")),
        ("batch([])", lambda: bheard.batch([], "b")),
        ("batch(workers=0)", lambda: bheard.batch([tiny], "b", workers=0)),
        ("batch(dask=object())", lambda: bheard.batch([tiny], "b", dask=object())),
        ("Plan.load(missing)", lambda: bheard.Plan.load("no/such/folder")),
    ]


@pytest.mark.parametrize("case", _api_cases(), ids=[c[0] for c in _api_cases()])
def test_api_raises_input_error(tmp_path, monkeypatch, case):
    """Every bad argument of the public API raises bheard.InputError (never TypeError,
    ValueError or a numpy error), and writes nothing."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as ei:
        case[1]()
    assert ei.value.problems and ei.value.format()
    assert list(tmp_path.iterdir()) == []


def test_api_save_to_unwritable_path_raises_output_error(tmp_path, saved_plan):
    """Plan.save to a path under a file: OutputError (an InputError), nothing left behind."""
    plan = bheard.Plan.load(saved_plan)
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError):
        plan.save(tmp_path / "f" / "sub")
    with pytest.raises(InputError):
        plan.save(tmp_path / "f")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f"]


def test_every_scenario_section_refuses_non_finite_numbers():
    """The finiteness check is on the base of every section: each model reachable from
    Scenario inherits it, so new sections and fields are covered without a list to extend."""
    import typing

    from pydantic import BaseModel

    from bheard.scenario import Scenario
    from bheard.strict import Strict

    seen, todo = set(), [Scenario]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        assert issubclass(m, Strict), f"{m.__name__} does not inherit bheard.strict.Strict"
        assert m.model_config.get("allow_inf_nan") is False
        for f in m.model_fields.values():
            stack = [f.annotation]
            while stack:
                a = stack.pop()
                if isinstance(a, type) and issubclass(a, BaseModel):
                    todo.append(a)
                stack.extend(typing.get_args(a))
    assert len(seen) >= 15


@pytest.mark.parametrize("flag", ["--out", "--xlsx"])
def test_unwritable_output_is_found_before_the_solve(tmp_path, flag):
    """`solve --out FILE` (a file where the plan folder should go) or `--xlsx DIR` (a folder
    where the workbook should go) exits 3 naming the path BEFORE solving: nothing of the plan
    is printed and nothing is written."""
    target = tmp_path / ("a_file" if flag == "--out" else "a_folder")
    if flag == "--out":
        target.write_text("not a folder")
    else:
        target.mkdir()
    flat = cli(["solve", SCENARIOS / "examples" / "tiny.yaml", flag, target], tmp_path, code=3,
               needles=[str(target)])
    assert "Coverage" not in flat and "status" not in flat


def test_messages_show_plain_values_not_numpy_reprs():
    """A bad value read through numpy or pandas is shown as the user wrote it (``nan``,
    ``[1, 25, 'Mon', 'day']``), not as ``np.float64(nan)`` or ``np.int64(1)``."""
    import numpy as np

    from bheard.errors import Problem

    assert Problem("row 2, calls_per_hour", np.float64("nan"), "a number").format() == (
        "row 2, calls_per_hour: got nan; expected a number")
    got = Problem("row 9", [np.int64(1), np.int64(25), "Mon", "day"], "once").format()
    assert got == "row 9: got [1, 25, 'Mon', 'day']; expected once"
    assert "np." not in Problem("x", np.array([1.5, 2.0]), "y").format()
