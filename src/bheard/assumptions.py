"""Every figure a plan rests on, with its value, unit and source, for summaries and reports."""

from __future__ import annotations


def _field_doc(model, name: str) -> str:
    f = type(model).model_fields.get(name)
    return (f.description or "") if f is not None else ""


def scenario_assumptions(sc, coverage_model: str = "isolated (loss with breaks at the lagged load)") -> list[dict]:
    """List of ``{name, value, unit, source}`` for the scenario's inputs.

    Values equal to the schema default carry the default's documented source; values the
    scenario file set are attributed to it.
    """
    out: list[dict] = []

    def add(model, name, unit, label=None):
        value = getattr(model, name)
        default = type(model).model_fields[name].get_default(call_default_factory=True)
        src = _field_doc(model, name) if value == default else f"set in scenario {sc.source}"
        out.append({"name": label or name, "value": value, "unit": unit, "source": src})

    d = sc.demand
    if d.prior is not None:
        out.append({"name": "demand", "value": "prior", "unit": "",
                    "source": "PRIOR from published aggregates (not a forecast): population x"
                              " need uplift, flat over days; see bheard.demand.prior"})
        for name, unit in (("annual_mental_health_calls", "calls/year"),
                           ("eligible_share", "share"), ("daytime_share", "share 09:00-01:00"),
                           ("uplift", "x city per-capita rate")):
            add(d.prior, name, unit, f"demand.prior.{name}")
    elif d.table is not None:
        out.append({"name": "demand", "value": str(d.table), "unit": "calls/hour",
                    "source": f"table given by scenario {sc.source}"})
    else:
        f = d.forecast
        out.append({"name": "demand", "value": f"forecast of {f.history}", "unit": "calls/hour",
                    "source": f"forecast from call records, start {f.target_start}, {f.weeks}"
                              f" weeks, quantile {f.quantile} (models/forecast.md)"})
    if d.scale != 1.0:
        out.append({"name": "demand.scale", "value": d.scale, "unit": "x",
                    "source": f"set in scenario {sc.source}"})
    u = d.uncertainty
    if u is not None:
        src = u.resolved_source(d.forecast is not None)
        what = {"forecast": "the forecast's predictive distribution (models/stochastic.md)",
                "point": "the point demand times random factors",
                "file": f"samples in {u.file}"}[src]
        extra = ", ".join(x for x in (
            f"CV {u.cv_levels}" if u.cv_levels else "",
            f"growth {list(u.growth)}" if u.growth is not None else "") if x)
        split = (f"{1 - u.holdout_share:.0%} of the samples optimized over,"
                 f" {u.holdout_share:.0%} held out" if src == "file" else
                 f"{u.samples} samples optimized over, {u.evaluation_samples} held out")
        out.append({"name": "demand.uncertainty",
                    "value": f"{src}: {split}, seed {u.seed}, objective {u.objective}"
                             + (f"; {extra}" if extra else ""),
                    "unit": "",
                    "source": what + ("; CV: ASSUMPTION A-demand-cv" if u.cv_levels else "")
                              + ("; growth: S-fdny-mh-growth" if u.growth is not None else "")})
    add(sc.teams, "service_time_hours", "hours/call beyond the trip", "teams.service_time_hours")
    add(sc.dispatch, "availability", "share of on-duty time", "dispatch.availability")
    add(sc.geography, "dispatch_delay_min", "minutes, receipt to rolling",
        "geography.dispatch_delay_min")
    add(sc.dispatch, "max_wait_min", "minutes", "dispatch.max_wait_min")
    add(sc.dispatch, "handover", "", "dispatch.handover")
    if sc.coverage.mode == "shared":
        add(sc.coverage, "response_standard_min", "minutes (null = any team of the area)",
            "coverage.response_standard_min")
    out.append({"name": "teams.crew", "value": sc.teams.crew.model_dump(), "unit": "persons",
                "source": "S-team-size (2 EMS + 1 social worker); DCS adds a peer (S-dcs-plan)"})
    if sc.costs is None:
        out.append({"name": "teams.cost_per_team_shift_usd",
                    "value": sc.teams.cost_per_team_shift_usd, "unit": "USD/team-shift",
                    "source": f"set in scenario {sc.source} (see its comments)"})
    else:  # the bottom-up model's inputs (models/workforce_cost.md)
        for name, unit in (("salary_usd", "USD/year"), ("mental_health_differential", "share"),
                           ("evening_differential", "share"), ("night_differential", "share"),
                           ("fringe_rate", "share of salary"),
                           ("supervisors_per_team", "per team on duty"),
                           ("supervisor_salary_usd", "USD/year"),
                           ("training_weeks_per_hire", "weeks"),
                           ("annual_attrition", "share/year"),
                           ("vehicle_usd_per_shift", "USD/team-shift"),
                           ("overhead_rate", "share"),
                           ("program_other_usd_per_year", "USD/year")):
            add(sc.costs, name, unit, f"costs.{name}")
        out.append({"name": "costs.program_staff",
                    "value": {k: v.model_dump() for k, v in sc.costs.program_staff.items()},
                    "unit": "FTE, USD/year", "source": _field_doc(sc.costs, "program_staff")
                    if not sc.costs.program_staff else f"set in scenario {sc.source}"
                    " (A-program-staff; see its comments)"})
    out.append({"name": "budget.annual_usd", "value": sc.budget.annual_usd, "unit": "USD/year",
                "source": f"set in scenario {sc.source} (see its comments)"})
    add(sc, "weeks_per_year", "weeks/year")
    add(sc.workforce, "paid_hours_per_fte", "hours/year per FTE", "workforce.paid_hours_per_fte")
    add(sc.workforce, "productive_share", "share of paid hours worked",
        "workforce.productive_share")
    doc = ("models/shared_coverage.md" if "hypercube" in coverage_model
           else "models/staggered_tours.md" if "staggered" in coverage_model
           else "models/isolated_coverage.md")
    out.append({"name": "coverage model", "value": coverage_model, "unit": "",
                "source": f"how a plan's coverage is computed ({doc})"})
    return out
