"""Scenario loading: the issue's example, inheritance, and every kind of bad input."""

import textwrap

import pytest

import bheard
from bheard.costs import shift_cost_usd
from bheard.errors import InputError
from bheard.problem import problem_from_scenario

from helpers import SCENARIOS, tiny_dict


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def errors_of(exc: InputError) -> dict:
    return {p.field: p for p in exc.problems}


def test_issue_example_loads_from_file():
    """The YAML from the issue loads; its table path resolves against the file's folder."""
    sc = bheard.load_scenario(SCENARIOS / "examples" / "tiny.yaml")
    assert sc.precincts == (25, 28, 32)
    assert sc.slots()[:2] == [("Mon", "day"), ("Mon", "evening")] and len(sc.slots()) == 14
    assert shift_cost_usd(sc, "evening", 17.0, 8.0) == 2100
    prob = problem_from_scenario(sc)
    assert prob.shape == (3, 14)


def test_dict_form_and_relative_paths_against_cwd(tmp_path, monkeypatch):
    """A dict loads the same; a relative table path resolves against the working directory."""
    (tmp_path / "d.csv").write_text((SCENARIOS / "examples" / "demand.csv").read_text())
    monkeypatch.chdir(tmp_path)
    sc = bheard.load_scenario(tiny_dict(demand={"table": "d.csv"}))
    assert str(sc.demand.table) == str(tmp_path / "d.csv")


def test_extends_overrides_field_by_field(tmp_path):
    """Child overrides parent per field; nested mappings merge; lists replace."""
    child = write(tmp_path, "child.yaml", f"""
        extends: {SCENARIOS / 'dcs_citywide.yaml'}
        name: child
        budget: {{annual_usd: 1.0e+8}}
        limits: {{max_teams_per_tour: 50}}
        precincts: [1, 5]
    """)
    sc = bheard.load_scenario(child)
    assert sc.name == "child" and sc.budget.annual_usd == 1e8
    assert sc.limits.max_teams_per_tour == 50 and sc.limits.max_teams_per_slot == 4  # merged
    assert sc.precincts == (1, 5)
    assert sc.teams.crew.peer == 1 and len(sc.shifts.tours) == 3  # inherited


def test_shipped_scenarios_load():
    """Every shipped scenario validates (all 78 precincts in the citywide ones)."""
    for f in SCENARIOS.glob("*.yaml"):
        sc = bheard.load_scenario(f)
        prob = problem_from_scenario(sc)
        assert prob.calls_per_hour.min() >= 0
    assert problem_from_scenario(bheard.load_scenario(SCENARIOS / "dcs_citywide.yaml")).shape == (78, 21)


def test_prior_totals_match_published_figures():
    """Citywide prior: 175,000 MH calls x 0.385 eligible (S-mh-calls-2024, S-every-3-minutes, S-audit-eligible) = 67,375/yr
    over 365 days; the model's 52-week year holds 364/365 of it; 20% arrive 01-09 (S-time-of-day)."""
    sc = bheard.load_scenario(SCENARIOS / "dcs_citywide.yaml")
    prob = problem_from_scenario(sc)
    eligible = prob.eligible_calls_per_year()
    assert eligible.sum() == pytest.approx(175_000 * 0.385 * 364 / 365, rel=1e-9)
    night = eligible[:, prob.slot_tour == "overnight"].sum()
    assert night / eligible.sum() == pytest.approx(0.20, rel=1e-9)
    # East Harlem uplift: per-capita rate in the 25th is 2.3x the 1st's (S-need-uplift)
    pop = bheard.data.precincts().set_index("precinct")["pop_2020"]
    per_cap = eligible.sum(axis=1) / pop.loc[prob.precinct].to_numpy()
    i25, i1 = list(prob.precinct).index(25), list(prob.precinct).index(1)
    assert per_cap[i25] / per_cap[i1] == pytest.approx(2.3, rel=1e-9)


@pytest.mark.parametrize("text,field,expect", [
    ("""
     name: x
     shifts: {tours: [{name: day, start: "09:00", hours: 8}]}
     teams: {cost_per_team_shift_usd: 2000}
     """, "budget", "required"),                                              # missing field
    ("""
     name: x
     shifts: {tours: [{name: day, start: "09:00", hours: 8}]}
     teams: {cost_per_team_shift_usd: 2000}
     budget: {annual_usd: lots}
     """, "budget.annual_usd", "number"),                                     # wrong type
    ("""
     name: x
     shifts: {tours: [{name: day, start: "09:00", hours: 8}]}
     teams: {cost_per_team_shift_usd: 2000, service_time_hour: 2}
     budget: {annual_usd: 1000}
     """, "teams.service_time_hour", "allowed here"),                         # unknown key (typo)
    ("""
     name: x
     shifts: {tours: [{name: day, start: "09:00", hours: 8}]}
     teams: {cost_per_team_shift_usd: 2000}
     budget: {annual_usd: -5}
     """, "budget.annual_usd", "greater than or equal to 0"),                 # negative budget
    ("""
     name: x
     shifts: {tours: [{name: day, start: "25:00", hours: 8}]}
     teams: {cost_per_team_shift_usd: 2000}
     budget: {annual_usd: 5}
     """, "shifts.tours[0].start", "HH:MM"),                                  # bad time
    ("""
     name: x
     shifts: {tours: [{name: day, start: "09:00", hours: 8}]}
     teams: {cost_per_team_shift_usd: {evening: 2000}}
     budget: {annual_usd: 5}
     """, "", "missing ['day']"),                                             # cost per tour
])
def test_bad_scenarios_name_field_value_and_expectation(tmp_path, text, field, expect):
    """Each bad file raises InputError naming the file, the field and what was expected."""
    f = write(tmp_path, "bad.yaml", text)
    with pytest.raises(InputError) as ei:
        bheard.load_scenario(f)
    exc = ei.value
    assert exc.file == str(f)
    msg = exc.format()
    assert str(f) in msg and expect in msg
    if field:
        assert field in errors_of(exc), msg


def test_unknown_precinct(tmp_path):
    """Precinct 99 does not exist: the error names precincts[1] and the value."""
    with pytest.raises(InputError) as ei:
        bheard.load_scenario(tiny_dict(precincts=[25, 99]))
    p = errors_of(ei.value)["precincts[1]"]
    assert p.value == 99 and "78" in p.expected


def test_broken_yaml_names_line(tmp_path):
    """Broken YAML: the error gives file, line and column."""
    f = write(tmp_path, "broken.yaml", "name: x\nshifts: [unclosed\n")
    with pytest.raises(InputError) as ei:
        bheard.load_scenario(f)
    assert "line" in ei.value.problems[0].field and "valid YAML" in ei.value.format()


def test_extends_cycle_and_missing_parent(tmp_path):
    """A cycle of extends, and a missing parent, are clear errors."""
    write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\nname: b\n")
    with pytest.raises(InputError, match="cycle"):
        bheard.load_scenario(tmp_path / "a.yaml")
    write(tmp_path, "c.yaml", "extends: nothere.yaml\nname: c\n")
    with pytest.raises(InputError, match="existing scenario file"):
        bheard.load_scenario(tmp_path / "c.yaml")


def test_demand_table_errors(tmp_path):
    """Missing rows, negative rates and bad columns in the demand CSV are named by row."""
    src = (SCENARIOS / "examples" / "demand.csv").read_text().splitlines()
    (tmp_path / "short.csv").write_text("\n".join(src[:-3]) + "\n")
    with pytest.raises(InputError, match="missing"):
        bheard.solve(tiny_dict(demand={"table": str(tmp_path / "short.csv")}))
    bad = src[:]
    bad[5] = bad[5].rsplit(",", 1)[0] + ",-1"
    (tmp_path / "neg.csv").write_text("\n".join(bad) + "\n")
    with pytest.raises(InputError) as ei:
        bheard.solve(tiny_dict(demand={"table": str(tmp_path / "neg.csv")}))
    assert "row 6, calls_per_hour" in errors_of(ei.value)
    (tmp_path / "cols.csv").write_text("pct,day,tour,rate\n25,Mon,day,1\n")
    with pytest.raises(InputError, match="missing"):
        bheard.solve(tiny_dict(demand={"table": str(tmp_path / "cols.csv")}))


def test_demand_source_must_be_exactly_one():
    """Two demand sources at once is an error."""
    with pytest.raises(InputError, match="exactly one demand source"):
        bheard.load_scenario(tiny_dict(demand={"prior": {}, "table": "x.csv"}))


def test_unquoted_time_is_accepted():
    """YAML 1.1 reads unquoted 17:00 as 1020 (minutes): it still means 17:00."""
    d = tiny_dict()
    d["shifts"]["tours"][1]["start"] = 1020
    assert bheard.load_scenario(d).shifts.tours[1].start == "17:00"
