"""One self-contained HTML report of a saved plan (opens offline: no network, no CDN).

``write_report(out_dir)`` reads the plan folder written by :meth:`bheard.Plan.save` (and the
frontier files when present, from ``out_dir`` or ``frontier_dir``) and writes
``out_dir/report.html`` and ``out_dir/map.png`` atomically. Charts are matplotlib PNGs
embedded as base64 ``data:`` URIs; the map is inline SVG (hover a precinct for its figures);
the budget slider is a small inline script over data embedded in the page.

Order, answer first: the answer (coverage, cost, cost per covered call, teams on duty per
tour, precincts with and without a team, which limit binds); where (map, per-precinct
table); when (teams on duty by tour, coverage by hour of week); borough and tour tables; cost
and headcount; the simulation check; demand uncertainty (the plan against the median plan
on held-out samples, when the scenario has it); the budget frontier (with held-out bands
under demand uncertainty) with its slider; then the appendix:
solver status and gap, the plan's typed summaries, every assumption with its source. The
report formats Plan fields and the frontier's saved tables; it recomputes nothing.
"""

from __future__ import annotations

import base64
import html
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bheard.errors import InputError
from bheard.io import atomic_write, atomic_write_text
from bheard.labels import cell, fmt, header
from bheard.plan import Plan
from bheard.report import charts
from bheard.report.svgmap import MAX_RADIUS, RAMP, map_svg

def write_report(out_dir: str | Path, *, frontier_dir: str | Path | None = None,
                 output: str | Path | None = None) -> Path:
    """Write ``report.html`` (and ``map.png`` beside it) for the plan saved in ``out_dir``;
    return the HTML's path.

    ``frontier_dir``: folder with ``frontier.csv`` (default: ``out_dir`` if it has one).
    ``output``: the HTML file to write (default ``out_dir/report.html``).
    Raises :class:`bheard.errors.InputError` when ``out_dir`` holds no saved plan.
    """
    out = Path(out_dir)
    if (out / "buildout.json").is_file() and not (out / "summary.json").is_file():
        from bheard.report.buildout import write_buildout_report  # a buildout folder

        return write_buildout_report(out, output=output)
    plan = Plan.load(out)
    text = render_report(out, frontier_dir=frontier_dir, plan=plan)
    path = Path(output) if output is not None else out / "report.html"
    atomic_write_text(path, text)
    if plan.feasible:
        png = charts.precinct_map(plan.by_precinct(), title=f"{plan.scenario}: coverage and"
                                  " teams by precinct")
        atomic_write(path.with_name("map.png"), lambda fh: fh.write(png), mode="wb")
    return path


def _load(out: Path):
    plan = Plan.load(out)
    return plan, plan.summary()


#: columns of the report's per-precinct, borough and tour tables (Plan views)
BOROUGH_COLUMNS = ["borough", "precincts", "precincts_with_team", "team_shifts_per_week",
                   "eligible_calls", "expected_covered_calls", "coverage_share",
                   "annual_cost_usd"]
TOUR_COLUMNS = ["tour", "start", "teams_on_duty_mean", "team_shifts_per_week",
                "eligible_calls", "expected_covered_calls", "coverage_share", "annual_cost_usd"]
FRONTIER_COLUMNS_SHOWN = ["budget_usd", "covered_calls", "coverage_share", "annual_cost_usd",
                          "team_shifts_per_week", "marginal_calls_per_million_usd", "status"]


def render_report(out_dir: str | Path, *, frontier_dir: str | Path | None = None,
                  plan: Plan | None = None) -> str:
    """The report's HTML text (see :func:`write_report`)."""
    out = Path(out_dir)
    if plan is None:
        plan = Plan.load(out)
    summary = plan.summary()
    fdir = Path(frontier_dir) if frontier_dir is not None else out
    frontier = _read_table(fdir / "frontier.csv", {"budget_usd", "covered_calls",
                                                   "coverage_share", "status",
                                                   "marginal_calls_per_million_usd"},
                           "budget_usd")
    first_team = _read_table(fdir / "first_team_budget.csv",
                             {"precinct", "first_budget_usd"}, "first_budget_usd")
    f_prec = _read_table(fdir / "frontier_precincts.csv",
                         {"budget_usd", "precinct", "coverage_share", "team_shifts_per_week"},
                         "budget_usd") if frontier is not None else None
    f_boro = _read_table(fdir / "frontier_boroughs.csv",
                         {"budget_usd", "borough", "coverage_share"},
                         "budget_usd") if frontier is not None else None
    f_limits = None
    if frontier is not None and (fdir / "frontier_limits.txt").is_file():
        try:
            f_limits = (fdir / "frontier_limits.txt").read_text(encoding="utf-8")[:20000]
        except (OSError, UnicodeDecodeError):
            f_limits = None

    parts: list[str] = []
    esc = html.escape
    figure = figure_html

    def svg(fig_id: str, make) -> str:
        try:
            return make()
        except Exception as exc:
            return (f'<div class="report-error" id="{fig_id}-error">could not draw the map: '
                    f"{esc(type(exc).__name__)}: {esc(str(exc))}</div>")

    # ---- header ------------------------------------------------------------------------
    status = plan.status
    ok = plan.feasible
    badge = {"optimal": "ok", "time_limit_feasible": "warn", "feasible": "warn"}.get(status, "bad")
    parts.append(f"<h1>Staffing plan: {esc(plan.scenario)}</h1>")
    parts.append(f'<p class="meta">status <span class="badge {badge}" id="status">{esc(status)}'
                 f"</span> &middot; demand: {esc(plan.demand_source)} &middot; report written "
                 f"{esc(time.strftime('%Y-%m-%d %H:%M'))} from <code>{esc(str(out))}</code>"
                 ' &middot; solver details in the <a href="#appendix">appendix</a></p>')
    parts.append('<nav class="toc">' + " &middot; ".join(
        f'<a href="#{a}">{t}</a>' for a, t in (
            ("answer", "answer"), ("where", "where"), ("when", "when"),
            ("groups", "boroughs and tours"), ("cost", "cost and headcount"),
            ("simulation", "simulation check"), ("uncertainty", "demand uncertainty"),
            ("frontier", "budget frontier"),
            ("appendix", "appendix"))) + "</nav>")
    if not ok:
        parts.append('<h2 id="answer">No feasible plan</h2><ul>' + "".join(
            f"<li>{esc(d)}</li>" for d in plan.diagnosis) + "</ul>")
    else:
        a = plan.answer
        cost = (f"{fmt(a.team_cost_usd_per_year, 'musd')}/year of teams"
                + (f" + {fmt(a.program_fixed_usd_per_year, 'musd')} program ="
                   f" {fmt(a.total_cost_usd_per_year, 'musd')}"
                   if a.program_fixed_usd_per_year else ""))
        per = fmt(a.cost_per_covered_call_usd, "usd") + (
            f" ({fmt(a.total_cost_per_covered_call_usd, 'usd')} with the program's fixed cost)"
            if a.program_fixed_usd_per_year else "")
        tod = plan.teams_on_duty_by_tour()
        kpis = [
            ("kpi-coverage", "of eligible calls covered", fmt(a.coverage_share, "share"),
             f"{fmt(a.covered_calls_per_year, 'calls')} of"
             f" {fmt(a.eligible_calls_per_year, 'calls')} calls/year"),
            ("kpi-cost", "cost a year", cost,
             f"team budget {fmt(a.team_budget_usd_per_year, 'musd')};"
             f" {fmt(plan.team_shifts_per_week, 'int')} team-shifts/week"),
            ("kpi-per-call", "per covered call", per, "team cost / covered calls"),
            ("kpi-teams", "teams on duty", " &middot; ".join(
                f"{esc(r.tour)} {fmt(r.teams_on_duty_mean, 'teams')}"
                for r in tod.itertuples()),
             "citywide, mean over the days each tour runs"),
            ("kpi-precincts", "precincts with a team",
             f"{len(a.precincts_with_team)} of {a.precincts}",
             f"{len(a.precincts_without_team)} without a team"),
        ]
        parts.append('<h2 id="answer">The answer</h2><div class="kpis">' + "".join(
            f'<div class="kpi" id="{i}"><div class="v">{v if i == "kpi-teams" else esc(v)}'
            f'</div><div class="k">{esc(k)}</div><div class="s">{esc(sub)}</div></div>'
            for i, k, v, sub in kpis) + "</div>")
        if a.precincts_without_team:
            parts.append('<p id="no-team">Precincts without a team: '
                         + ", ".join(str(p) for p in a.precincts_without_team) + ".</p>")
        if plan.limits is not None:
            parts.append('<div id="limits" class="limits"><b>What limits it.</b> '
                         + " ".join(esc(x) for x in plan.limits.sentences()) + "</div>")
        else:
            parts.append('<p class="note" id="limits">Which limit binds was not computed for'
                         " this plan (`bheard solve` computes it unless --no-explain).</p>")

    if ok:
        a_tab = plan.assignments
        by_p = plan.by_precinct()
        model = plan.coverage_model
        coverage_model = ("isolated model: own teams only" if not model
                          or model.startswith("isolated") else
                          f"shared coverage, {model}: teams of any precinct within the response "
                          "standard")
        # ---- where -----------------------------------------------------------------------
        parts.append('<h2 id="where">Where: coverage and teams by precinct</h2>')
        parts.append(svg("map", lambda: map_svg(by_p, plan.tour_names, "map", plan.scenario)))
        parts.append('<p class="note">Colour: expected share of the precinct\'s eligible calls'
                     f" answered by a crisis team ({esc(coverage_model)}). Circles: team-shifts"
                     " per week; no circle and grey hatching: no team. Hover a precinct for its"
                     " teams on duty per tour. The same map is saved as map.png.</p>")
        pcols = (["precinct", "borough", "eligible_calls", "expected_covered_calls",
                  "coverage_share"] + [f"teams_on_duty_{t}" for t in plan.tour_names]
                 + ["team_shifts_per_week", "annual_cost_usd"])
        parts.append("<h3>By precinct</h3>" + _df_table(by_p, "precinct-table", pcols))
        # ---- when ------------------------------------------------------------------------
        parts.append('<h2 id="when">When: teams on duty by tour</h2>')
        parts.append(_df_table(plan.teams_on_duty_by_tour(), "when-table"))
        parts.append('<p class="note">Teams on duty: citywide teams working during the tour,'
                     " mean (and min/max) over the days the tour runs.</p>")
        if plan.tours:
            prof = charts.hour_of_week_profile(a_tab, plan.tours)
            parts.append(figure("chart-hour-of-week", "coverage by hour of week",
                                lambda: charts.hour_of_week_chart(prof),
                                "Citywide calls/hour; each (day, tour) slot's mean rate spread "
                                "over the hours the tour spans. Gaps: hours no tour works."))
        # ---- borough and tour --------------------------------------------------------------
        parts.append('<h2 id="groups">Coverage by borough and tour</h2>')
        bb, bt = plan.by_borough(), plan.by_tour()
        parts.append(figure("chart-borough-tour", "coverage by borough and tour",
                            lambda: charts.group_coverage_chart(bb, bt)))
        parts.append('<div class="two">' + _df_table(bb, "borough-table", BOROUGH_COLUMNS)
                     + _df_table(bt, "tour-table", TOUR_COLUMNS) + "</div>")
        # ---- cost and headcount ------------------------------------------------------------
        parts.append('<h2 id="cost">Cost and headcount</h2>')
        parts.append(figure("chart-cost", "annual cost by borough and tour",
                            lambda: charts.cost_chart(a_tab)))
        hc, note = headcount_table(plan)
        parts.append(_df_table(hc, "headcount-table"))
        parts.append(f'<p class="note">{esc(note)}</p>')

    # ---- simulation check ------------------------------------------------------------------
    sim = _simulation_of(out / "simulation.json", plan) if ok else None
    if sim is not None:
        pvs = sim.get("predicted_vs_simulated") or {}
        parts.append('<h2 id="simulation">Predicted vs simulated coverage</h2>')
        ci = pvs.get("ci95") or [None, None]
        rows = [
            ("optimizer's prediction (its coverage model, same dispatch parameters), share of"
             " eligible calls in operating hours",
             fmt(pvs.get("predicted"), "share")),
            ("simulated share (mean of replications)", fmt(pvs.get("simulated"), "share")),
            ("95% confidence interval",
             f"{fmt(ci[0], 'share')} to {fmt(ci[1], 'share')}"),
            ("difference, percentage points", _fmt(pvs.get("difference_pp"), "+.1f")),
            ("replications x weeks / dispatch",
             f"{sim.get('replications')} x {sim.get('weeks')} / {sim.get('dispatch')}"),
        ]
        parts.append(_kv_table(rows, table_id="simulation-table"))
        parts.append("<p>Why the two differ (model assumptions; models/simulation.md):</p><ul>"
                     + "".join(f"<li>{esc(str(x))}</li>" for x in pvs.get("explanation") or [])
                     + "</ul>")

    # ---- demand uncertainty (models/stochastic.md) ------------------------------------------
    if ok and plan.uncertainty is not None:
        parts.extend(uncertainty_section(plan.uncertainty, figure))

    # ---- frontier --------------------------------------------------------------------------
    if frontier is not None and len(frontier):
        parts.append('<h2 id="frontier">Budget frontier</h2>')
        if f_prec is not None and f_boro is not None and len(f_prec) and ok:
            parts.append(_slider(frontier, f_prec, f_boro, plan))
        parts.append(figure("chart-frontier", "budget frontier",
                            lambda: charts.frontier_chart(frontier, plan.budget or None)))
        if f_limits:
            parts.append('<div class="limits" id="frontier-limits"><b>Where coverage stops'
                         " rising.</b> " + esc(f_limits.replace("\n", " ")) + "</div>")
        parts.append(_df_table(frontier, "frontier-table",
                               [c for c in FRONTIER_COLUMNS_SHOWN if c in frontier.columns]))
        if first_team is not None and len(first_team):
            n_by = (first_team.dropna(subset=["first_budget_usd"])
                    .groupby("first_budget_usd").size().rename("precincts")
                    .reset_index())
            n_none = int(first_team["first_budget_usd"].isna().sum())
            parts.append("<h3>Budget at which precincts first get a team</h3>"
                         '<p class="note">Read off the frontier\'s plans, so only as fine as '
                         "its budget grid: a precinct first staffed at a grid budget would be "
                         "first staffed somewhere between the previous grid point and this one. "
                         f"Never staffed on the grid: {n_none} precincts.</p>")
            parts.append(_df_table(n_by, "first-team-table"))

    # ---- appendix: solver, typed summaries, assumptions --------------------------------------
    parts.append('<h2 id="appendix">Appendix</h2>')
    sv = summary.get("solver", {})
    solver_rows = [
        ("status", status),
        ("expected covered calls/year (objective)", _fmt(plan.objective, ",.1f")),
        ("proven upper bound, calls/year", _fmt(plan.bound, ",.1f")),
        ("relative gap (bound - objective) / objective", fmt(plan.gap, "gap")),
        ("bound from", f"{sv.get('bound_source', '')}: {plan.solver.bound_meaning}"),
        ("termination", sv.get("termination", "")),
        ("requested gap / time limit", f"{_fmt(sv.get('mip_rel_gap'), 'g')} / "
                                       f"{_fmt(sv.get('time_limit_s'), 'g')} s"),
        ("candidate teams (increments)", _fmt(sv.get("n_increments"), ",")),
        ("decided by fixing (1 / 0)",
         f"{_fmt(sv.get('n_fixed_one'), ',')} / {_fmt(sv.get('n_fixed_zero'), ',')}"),
        ("variables / integers given to HiGHS",
         f"{_fmt(sv.get('n_variables'), ',')} / {_fmt(sv.get('n_integer'), ',')}"),
        ("greedy incumbent, calls/year", _fmt(sv.get("greedy_objective"), ",.1f")),
        ("LP relaxation bound, calls/year", _fmt(sv.get("lp_bound"), ",.1f")),
        ("build / translate / solve seconds",
         f"{plan.build_seconds:.2f} / {plan.translate_seconds:.2f} / {plan.solve_seconds:.2f}"),
    ]
    parts.append('<h3 id="solver">Solver status and gap</h3>'
                 + _kv_table(solver_rows, table_id="solver-table"))
    for key, value in plan.details.items():
        if key in ("coverage_model", "limits", "uncertainty") or not isinstance(value, (dict, list)) \
                or not value:
            continue
        if key == "workforce":
            value = {k: v for k, v in value.items() if k != "headcount" and v}
            if not value:
                continue
        parts.append(f'<h3 class="extra">{esc(key.replace("_", " ").capitalize())}</h3>')
        parts.append(_any_table(value, f"extra-{key}"))
    parts.append('<h3 id="assumptions">Assumptions and sources</h3>')
    rows = [{"name": x.get("name"), "value": _short(x.get("value")), "unit": x.get("unit", ""),
             "source": x.get("source", "")} for x in plan.assumptions]
    parts.append(_df_table(pd.DataFrame(rows, columns=["name", "value", "unit", "source"]),
                           "assumptions-table"))

    body = "\n".join(parts)
    return _PAGE.format(title=esc(f"bheard plan: {plan.scenario}"), css=_CSS, body=body)


def uncertainty_section(u, figure) -> list[str]:
    """HTML of the demand-uncertainty section: the plan against the median plan on held-out
    samples, the value of the stochastic solution, bands by borough and tour."""
    esc = html.escape
    plans = [u.plan, u.median_plan] + ([u.expected_plan] if u.expected_plan is not None else [])
    names = {"stochastic": "this plan (expected coverage over the samples)",
             "cvar": "this plan (CVaR objective)", "median": "median plan",
             "expected": "expected-coverage plan"}
    rows = []
    for d in plans:
        rows.append({"plan": names.get(d.plan, d.plan),
                     "team-shifts/week": d.team_shifts_per_week,
                     "cost USD/year": round(d.annual_cost_usd),
                     "expected covered calls/year": round(d.expected_covered_calls),
                     "standard error": round(d.expected_covered_calls_se, 1),
                     "expected share": _fmt(d.expected_share, ".2%"),
                     "P10": _fmt(d.share_p10, ".2%"), "P50": _fmt(d.share_p50, ".2%"),
                     "P90": _fmt(d.share_p90, ".2%"),
                     f"CVaR {d.cvar_alpha:.0%}": _fmt(d.cvar_share, ".2%"),
                     **({"P(share >= target)": _fmt(d.p_meet_target, ".1%")}
                        if d.p_meet_target is not None else {})})
    out = ['<h2 id="uncertainty">Demand uncertainty</h2>',
           f'<p>Demand samples: {esc(u.source)}. The plan was optimized over'
           f" {u.optimization_samples} samples (objective: {esc(u.objective)}) and is evaluated"
           f" here on {u.evaluation_samples} held-out samples (seed {u.seed}; {esc(u.evaluation)})."
           " The median plan is optimized for the per-cell median of the optimization samples at"
           " the same budget (models/stochastic.md).</p>",
           _df_table(pd.DataFrame(rows), "uncertainty-table"),
           f'<p>Value of the stochastic solution: <b>{u.value_of_stochastic_solution:+,.0f}'
           f" calls/year</b> (standard error {u.value_of_stochastic_solution_se:,.0f}). The median"
           f" plan promises {_fmt(u.median_plan_planned_share, '.2%')} at the median demand;"
           f" on the held-out samples it covers {_fmt(u.median_plan.expected_share, '.2%')} in"
           " expectation.</p>"]
    if u.risk is not None:
        out.append(f'<p class="note">Risk objective: (1 - {u.risk.weight:g}) x expected share +'
                   f" {u.risk.weight:g} x CVaR of the worst {u.risk.alpha:.0%} of samples ="
                   f" {_fmt(u.risk.value, '.3%')} over the optimization samples, bound"
                   f" {_fmt(u.risk.bound, '.3%')}, gap {_fmt(u.risk.gap, '.2e')}. Price in expected"
                   f" coverage (held-out): {_fmt(u.price_of_risk_calls, ',.0f')} calls/year.</p>")
    out.append(figure("chart-uncertainty", "coverage share by borough and tour, held-out",
                      lambda: charts.uncertainty_chart(u)))
    for title, key in (("borough", "by_borough"), ("tour", "by_tour")):
        med = {g.name: g for g in getattr(u.median_plan, key)}
        t = pd.DataFrame([{title: g.name, "expected covered calls/year": round(g.expected_covered_calls),
                           "expected share": _fmt(g.expected_share, ".2%"),
                           "P10": _fmt(g.share_p10, ".2%"), "P50": _fmt(g.share_p50, ".2%"),
                           "P90": _fmt(g.share_p90, ".2%"),
                           **({"P(>= target)": _fmt(g.p_meet_target, ".1%")}
                              if g.p_meet_target is not None else {}),
                           "median plan expected share": _fmt(med[g.name].expected_share, ".2%")
                           if g.name in med else "n/a"}
                          for g in getattr(u.plan, key)])
        out.append(f"<h3>By {title}, held-out samples</h3>")
        out.append(_df_table(t, f"uncertainty-{title}"))
    return out


def _slider(frontier: pd.DataFrame, f_prec: pd.DataFrame, f_boro: pd.DataFrame, plan) -> str:
    """The budget slider: one position per feasible frontier budget; moving it shows that
    budget's plan (coverage, cost, the map's colours and circles, the table by borough).
    Data: the frontier's saved tables, embedded as JSON; numbers are formatted by the script
    exactly as :func:`bheard.labels.fmt` formats them (shares to one decimal, $ and calls with
    thousands separators)."""
    ok = frontier[frontier["covered_calls"].notna()].sort_values("budget_usd")
    budgets = [float(b) for b in ok["budget_usd"]]
    if not budgets:
        return ""
    points = []
    for r in ok.itertuples(index=False):
        b = float(r.budget_usd)
        pr = f_prec[np.isclose(f_prec["budget_usd"].astype(float), b)]
        br = f_boro[np.isclose(f_boro["budget_usd"].astype(float), b)]
        points.append({
            "budget": b, "coverage": float(r.coverage_share),
            "covered": float(r.covered_calls),
            "cost": float(getattr(r, "annual_cost_usd", float("nan"))),
            "teamShifts": int(getattr(r, "team_shifts_per_week", 0)),
            "precincts": {str(int(p)): [float(c) if math.isfinite(float(c)) else None,
                                        float(t)]
                          for p, c, t in zip(pr["precinct"], pr["coverage_share"],
                                             pr["team_shifts_per_week"])},
            "boroughs": [[str(x.borough), float(x.team_shifts_per_week),
                          float(x.eligible_calls), float(x.expected_covered_calls),
                          float(x.coverage_share) if math.isfinite(float(x.coverage_share))
                          else None, float(x.annual_cost_usd)]
                         for x in br.itertuples(index=False)]})
    start = int(np.argmin(np.abs(np.asarray(budgets) - float(plan.budget
                                                              + plan.program_fixed_usd_per_year))))
    ref = max(float(f_prec["team_shifts_per_week"].max()), 1.0)
    data = json.dumps({"points": points, "ramp": RAMP, "maxRadius": MAX_RADIUS, "ref": ref},
                      separators=(",", ":")).replace("</", "<\\/")
    by_p0 = pd.DataFrame({"precinct": [int(p) for p in points[start]["precincts"]],
                          "borough": "", "eligible_calls": 0.0,
                          "team_shifts_per_week": [v[1] for v in
                                                   points[start]["precincts"].values()],
                          "coverage_share": [v[0] if v[0] is not None else float("nan")
                                             for v in points[start]["precincts"].values()]})
    smap = map_svg(by_p0, [], "smap", "plan at the selected budget", ref_team_shifts=ref)
    heads = "".join(f"<th>{html.escape(header(c))}</th>" for c in (
        "borough", "team_shifts_per_week", "eligible_calls", "expected_covered_calls",
        "coverage_share", "annual_cost_usd"))
    return (
        '<div id="slider-box" class="slider-box"><h3>The plan at each budget</h3>'
        f'<label for="budget-slider">budget (USD/year): <b id="slider-budget"></b></label> '
        f'<input type="range" id="budget-slider" min="0" max="{len(budgets) - 1}" step="1" '
        f'value="{start}" style="width:60%">'
        '<div class="kpis"><div class="kpi"><div class="v" id="slider-coverage"></div>'
        '<div class="k">of eligible calls covered</div><div class="s" id="slider-covered">'
        '</div></div><div class="kpi"><div class="v" id="slider-cost"></div><div class="k">'
        'team cost a year</div><div class="s" id="slider-shifts"></div></div></div>'
        f'{smap}<table id="slider-borough-table"><thead><tr>{heads}</tr></thead><tbody>'
        '</tbody></table>'
        '<p class="note">The map\'s numbers in hover text are those of the solved plan;'
        " colours and circles follow the slider.</p></div>"
        f'<script id="frontier-data" type="application/json">{data}</script>'
        f"<script>{_SLIDER_JS}</script>")


_SLIDER_JS = r"""
(function(){
  var D = JSON.parse(document.getElementById('frontier-data').textContent);
  var s = document.getElementById('budget-slider');
  function num(x){ return Math.round(x).toLocaleString('en-US'); }
  function usd(x){ return (x < 0 ? '-$' : '$') + num(Math.abs(x)); }
  function pct(x){ return (x === null || !isFinite(x)) ? 'n/a' : (100*x).toFixed(1) + '%'; }
  function hex(c){ return [1,3,5].map(function(i){ return parseInt(c.substr(i,2),16); }); }
  function color(v){
    if (v === null || !isFinite(v)) return '#d9d9d9';
    v = Math.min(Math.max(v,0),1); var R = D.ramp;
    for (var i=1;i<R.length;i++){ if (v <= R[i][0]){
      var a=R[i-1], b=R[i], t=(b[0]==a[0])?0:(v-a[0])/(b[0]-a[0]), ca=hex(a[1]), cb=hex(b[1]);
      return '#' + [0,1,2].map(function(k){ var x=Math.round(ca[k]+t*(cb[k]-ca[k]));
        return ('0'+x.toString(16)).slice(-2); }).join(''); } }
    return R[R.length-1][1];
  }
  function show(i){
    var P = D.points[i];
    document.getElementById('slider-budget').textContent = usd(P.budget);
    document.getElementById('slider-coverage').textContent = pct(P.coverage);
    document.getElementById('slider-covered').textContent = num(P.covered) + ' calls/year';
    document.getElementById('slider-cost').textContent = usd(P.cost);
    document.getElementById('slider-shifts').textContent = num(P.teamShifts) + ' team-shifts/week';
    Object.keys(P.precincts).forEach(function(p){
      var v = P.precincts[p], path = document.getElementById('smap-p' + p),
          c = document.getElementById('smap-c' + p), l = document.getElementById('smap-l' + p);
      var has = v[1] > 0;
      if (path) path.setAttribute('fill', has ? color(v[0]) : 'url(#noteam)');
      if (c) { var r = has ? D.maxRadius * Math.sqrt(v[1] / D.ref) : 0;
        c.setAttribute('r', r.toFixed(1)); c.setAttribute('visibility', has ? 'visible' : 'hidden');
        if (l) l.setAttribute('y', (parseFloat(l.getAttribute('data-cy')) + (has ? -r - 2 : 4)).toFixed(1)); }
    });
    var tb = document.querySelector('#slider-borough-table tbody');
    tb.innerHTML = P.boroughs.map(function(b){
      return '<tr><td class="txt"></td><td class="num">' + num(b[1]) + '</td><td class="num">' +
        num(b[2]) + '</td><td class="num">' + num(b[3]) + '</td><td class="num">' + pct(b[4]) +
        '</td><td class="num">' + usd(b[5]) + '</td></tr>'; }).join('');
    var cells = tb.querySelectorAll('td.txt');
    for (var k=0;k<cells.length;k++) cells[k].textContent = P.boroughs[k][0];
  }
  s.addEventListener('input', function(){ show(parseInt(s.value, 10)); });
  s.addEventListener('change', function(){ show(parseInt(s.value, 10)); });
  show(parseInt(s.value, 10));
})();
"""


def _read_table(path: Path, need: set[str], numeric: str) -> pd.DataFrame | None:
    """A frontier table written by :meth:`bheard.Frontier.save`, or None when absent; a damaged
    one raises :class:`InputError` naming the file."""
    if not path.is_file():
        return None
    try:
        if path.stat().st_size > 64 << 20:
            raise ValueError("too large")
        df = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError.single(path, "(file)", type(exc).__name__,
                                "a CSV written by `bheard frontier`") from None
    missing = sorted(need - set(df.columns))
    bad = False
    if not missing:
        v = pd.to_numeric(df[numeric], errors="coerce")
        bad = bool((v.isna() & df[numeric].notna()).any() or np.isinf(v).any())
    if missing or bad:
        raise InputError.single(path, "(columns)" if missing else numeric,
                                f"missing {missing}" if missing else "non-numeric values",
                                "a CSV written by `bheard frontier`")
    return df


def _simulation_of(path: Path, plan) -> dict | None:
    """``simulation.json`` beside the plan when it is a simulation OF THIS plan (its
    prediction equals the plan's coverage share); None otherwise (absent, unreadable, or left
    from another plan: :meth:`bheard.Plan.save` removes it, but it may have been copied in)."""
    if not path.is_file() or path.stat().st_size > 1 << 24:
        return None
    try:
        sim = json.loads(path.read_text(encoding="utf-8"))
        pred = float(sim["predicted_vs_simulated"]["predicted"])
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    if not isinstance(sim, dict) or not math.isclose(pred, plan.coverage_share, rel_tol=1e-9,
                                                     abs_tol=1e-12):
        return None
    return sim


def figure_html(fig_id: str, alt: str, make, caption: str = "") -> str:
    """``<figure>`` with the PNG ``make()`` returns embedded as a data URI; if drawing fails,
    a visible error box instead (the rest of the report is kept)."""
    esc = html.escape
    try:
        png = make()
    except Exception as exc:  # noqa: BLE001 - keep the rest of the report; show what failed
        return (f'<div class="report-error" id="{fig_id}-error">could not draw {esc(alt)}: '
                f"{esc(type(exc).__name__)}: {esc(str(exc))}</div>")
    b64 = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
    return (f'<figure><img id="{fig_id}" class="chart" alt="{esc(alt)}" '
            f'src="data:image/png;base64,{b64}">{cap}</figure>')


def headcount_table(plan) -> tuple[pd.DataFrame, str]:
    """The plan's headcount (:attr:`bheard.Plan.headcount`) with each tour's annual cost, and
    a note on how FTE are counted. Formats Plan fields; recomputes nothing."""
    hc = plan.headcount.copy()
    if len(hc):
        cost = plan.by_tour().set_index("tour")["annual_cost_usd"]
        hc["annual_cost_usd"] = [float(cost.sum()) if t == "total" else float(cost.get(t, 0.0))
                                 for t in hc["tour"]]
    sc = plan.resolved_scenario
    if sc is not None:
        wf = sc.workforce
        crew = ", ".join(f"{k} {v}" for k, v in sc.teams.crew.model_dump().items() if v)
        note = (f"FTE = team-shifts/week x shift hours x {sc.weeks_per_year:g} weeks/year x "
                f"persons per team ({crew}) / ({wf.paid_hours_per_fte:,.0f} paid hours per FTE"
                f" x {wf.productive_share:g} productive share) (models/workforce_cost.md). "
                "Cost is the plan's cost per team-shift x team-shifts x weeks.")
    else:
        note = "FTE by role as saved with the plan (models/workforce_cost.md)."
    return hc, note


# ----------------------------------------------------------------------------------------
# HTML helpers
# ----------------------------------------------------------------------------------------
def _fmt(x, spec: str) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "n/a"
    try:
        return format(x, spec)
    except (TypeError, ValueError):
        return str(x)


def _short(v) -> str:
    if isinstance(v, dict):
        return ", ".join(f"{k}: {w}" for k, w in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(_short(w) for w in v)
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1e5 and v == int(v) else f"{v:,.4g}"
    return str(v)


def _cell(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e12):
            return f"{v:.3e}"
        if abs(v) < 1:
            return f"{v:.4f}"
        return f"{v:,.1f}" if abs(v) < 1e4 else f"{v:,.0f}"
    return html.escape(_short(v))


def _df_table(df: pd.DataFrame, table_id: str, columns: list[str] | None = None) -> str:
    """A table with readable headers (unit included, :mod:`bheard.labels`) and each column's
    numbers in one format; ``data-col`` keeps the column's name."""
    columns = [c for c in (columns or list(df.columns)) if c in df.columns]
    head = "".join(f'<th data-col="{html.escape(str(c))}">{html.escape(header(c))}</th>'
                   for c in columns)
    body = "".join("<tr>" + "".join(
        f'<td class="{"num" if isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)) else "txt"}">'
        f"{html.escape(cell(v, c)) if _labelled(c) else _cell(v)}</td>"
        for v, c in zip(row, columns)) + "</tr>" for row in df[columns].itertuples(index=False))
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _labelled(column) -> bool:
    from bheard.labels import kind

    return kind(column) != "auto"


def _kv_table(rows: list[tuple[str, str]], table_id: str) -> str:
    body = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
                   for k, v in rows)
    return f'<table id="{table_id}" class="kv"><tbody>{body}</tbody></table>'


def _any_table(value, table_id: str) -> str:
    """A dict of scalars, a list of records or a dict of those, as table(s)."""
    if isinstance(value, list) and all(isinstance(x, dict) for x in value):
        return _df_table(pd.DataFrame(value), table_id)
    if isinstance(value, dict):
        scalars = [(k, v) for k, v in value.items() if not isinstance(v, (dict, list))]
        out = _kv_table([(str(k), _cell(v) if not isinstance(v, str) else v)
                         for k, v in scalars], table_id) if scalars else ""
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out += f"<h3>{html.escape(str(k).replace('_', ' '))}</h3>" + _any_table(
                    v, f"{table_id}-{k}")
        return out
    return f"<p>{html.escape(_short(value))}</p>"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 margin:0 auto;max-width:1200px;padding:16px 28px;color:#1b1b1b;line-height:1.4}
h1{font-size:1.6em;margin-bottom:4px}h2{border-bottom:2px solid #2171b5;padding-bottom:3px;
 margin-top:28px}h3{margin-top:18px}
.meta{color:#555}.note{color:#555;font-size:.9em}
.badge{padding:2px 8px;border-radius:10px;color:#fff;font-weight:600}
.badge.ok{background:#238b45}.badge.warn{background:#d58512}.badge.bad{background:#c0392b}
.kpis{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}
.kpi{border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:150px;background:#f6f8fa}
.kpi .v{font-size:1.35em;font-weight:700}.kpi .k{color:#555;font-size:.85em}
.kpi .s{color:#777;font-size:.78em}
.limits{background:#fff8e1;border-left:4px solid #d58512;padding:8px 12px;margin:10px 0}
.toc{font-size:.9em;margin:6px 0 12px}.toc a{color:#2171b5}
svg.map{width:100%;max-width:1100px;height:auto;display:block;margin:8px 0}
.slider-box{border:1px solid #d0d7de;border-radius:8px;padding:10px 14px;margin:10px 0}
table{border-collapse:collapse;margin:8px 0;font-size:.85em}
th,td{border:1px solid #d0d7de;padding:3px 8px}th{background:#f0f3f6;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.kv th{width:330px;font-weight:500}
figure{margin:10px 0}figure img{max-width:100%;height:auto}
figcaption{color:#555;font-size:.85em}
.two{display:flex;gap:24px;flex-wrap:wrap}
.report-error{background:#fdecea;border:1px solid #c0392b;padding:8px;color:#c0392b}
"""

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bheard">
<title>{title}</title>
<style>{css}</style>
</head>
<body>
{body}
<p class="note" id="report-end">Generated by bheard. Self-contained: images are embedded; the
file needs no network access.</p>
</body>
</html>
"""

__all__ = ["write_report", "render_report", "headcount_table", "PAID_HOURS_PER_FTE",
           "RELIEF_FACTOR"]
