"""Constants shared by every stage: the week, crew roles, plan statuses, the tie-break.

One place for each: code anywhere in bheard imports these names instead of redefining them.
"""

from __future__ import annotations

#: days of the week, in the order slots and hours of week are numbered (Monday = 0)
DAYS: tuple[str, ...] = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
#: day name -> index 0..6
DAY_INDEX: dict[str, int] = {d: i for i, d in enumerate(DAYS)}
#: hours in a week; hour of week 0 is Monday 00:00-01:00
HOURS_PER_WEEK: int = 168

#: crew roles a team can have (persons per team in ``teams.crew``)
ROLES: tuple[str, ...] = ("emt", "paramedic", "social_worker", "peer")

#: statuses a plan can carry, and what each means:
#: ``optimal`` the certified gap is within ``solver.mip_rel_gap`` (and, in shared mode, the
#: busy-probability fixed point converged); ``time_limit_feasible`` a plan stopped by the time
#: limit, with its gap; ``feasible`` a plan stopped for another reason (the reason is in
#: ``Plan.solver.termination``); ``infeasible`` no plan meets the constraints (``diagnosis``
#: names them); ``error`` the solver failed.
STATUSES: tuple[str, ...] = ("optimal", "time_limit_feasible", "feasible", "infeasible", "error")
#: statuses that carry a plan
FEASIBLE_STATUSES: tuple[str, ...] = ("optimal", "time_limit_feasible", "feasible")

#: relative size of the cost tie-break in every MIP objective: ``eps * budget = TIE_BREAK_REL *
#: (incumbent coverage)``. Among plans of equal coverage the cheaper one wins; the tie-break
#: can cost at most ``TIE_BREAK_REL`` of the coverage (models/isolated_coverage.md).
TIE_BREAK_REL: float = 1e-7

#: every ``bound_source`` value a solve can report (``Plan.solver.bound_source``)
BOUND_SOURCES: dict[str, str] = {
    "lagrangian_lp": "LP relaxation bound computed by bheard's Lagrangian bisection (exact LP"
                     " value, models/isolated_coverage.md)",
    "highs_lp": "LP relaxation solved by HiGHS",
    "slot_lp": "LP relaxation bound with the budget priced out: one LP per slot solved by HiGHS,"
               " minimised over the budget price (a valid bound at every price; the LP value at"
               " the best one; models/shared_coverage.md)",
    "slot_count": "the best affordable team counts per slot, each slot bounded by its LP with"
                  " that many teams (concave in the count) and the counts enumerated per cost"
                  " class: the LP relaxation without the fraction of a team the budget's"
                  " remainder buys (models/shared_coverage.md)",
    "highs_mip": "HiGHS's MIP bound on the reduced model, lifted to the full model",
    "count_relaxation": "buildout: HiGHS's bound on the count relaxation (team counts per period"
                        " and tour with every staff, hiring and budget row, each valued at its"
                        " column LP's value, an upper bound on any placement of that many teams;"
                        " models/buildout.md)",
    "decided": "every team decided by fixing (reduced-cost and exchange): the plan is the only"
                " candidate",
    "count_enumeration": "the exact optimum over the team counts of the exchange groups (every"
                         " optimal plan is one of them; models/isolated_coverage.md)",
    "empty": "no decision can cover any call: the empty plan is optimal",
    "demand": "every eligible call covered: the trivial bound, reported when neither the LP"
              " relaxation nor the MIP gave a bound within the time limit",
    "class_count": "exact enumeration over the number of teams of each cost class (no slot cap"
                   " binds, at most 3 team costs): for each affordable count the best plan takes"
                   " the largest gains of each class; the bound adds the tie-break allowance"
                   " (models/stochastic.md)",
    "expected_saa": "the plan maximizes a risk objective (demand.uncertainty.objective: cvar);"
                    " the bound is the best expected coverage of any plan over the optimization"
                    " samples (the SAA bound), so the gap is the expected coverage given up for"
                    " the tail; the risk objective's own bound and gap are in"
                    " Plan.uncertainty.risk (models/stochastic.md)",
}
