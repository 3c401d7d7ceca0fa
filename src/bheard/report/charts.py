"""Report figures: matplotlib (Agg) figures rendered to PNG bytes, from plain DataFrames.

Every function takes data and returns PNG bytes; nothing reads files except :func:`precinct_map`
(the shipped boundaries via :func:`bheard.data.boundaries`).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from bheard.constants import DAYS, HOURS_PER_WEEK  # noqa: E402


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _png(fig, dpi: int = 100) -> bytes:
    plt = _plt()
    try:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        return buf.getvalue()
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------------------------
# data helpers
# ----------------------------------------------------------------------------------------
def hour_of_week_profile(assignments: pd.DataFrame, tours: list[dict]) -> pd.DataFrame:
    """Citywide eligible and expected covered calls/hour for each hour of the week (0 = Mon 00-01).

    Each (day, tour) slot spreads its mean rate over the hours it spans (a tour that passes
    midnight continues into the next day; Sun wraps to Mon). Covered calls/hour of a slot =
    calls/hour x the slot's coverage share (the plan's coverage model). Hours no
    tour spans have NaN (outside the scenario's schedule).
    """
    eligible = np.zeros(HOURS_PER_WEEK)
    covered = np.zeros(HOURS_PER_WEEK)
    teams = np.zeros(HOURS_PER_WEEK)
    spanned = np.zeros(HOURS_PER_WEEK, dtype=bool)
    tour_of = {t["name"]: t for t in tours}
    if assignments.empty or not tour_of:
        return pd.DataFrame({"hour_of_week": np.arange(HOURS_PER_WEEK), "eligible_calls_per_hour":
                             np.nan, "covered_calls_per_hour": np.nan, "teams_on_duty": np.nan})
    a = assignments.copy()
    a["covered_per_hour"] = a["calls_per_hour"] * a["coverage_share"].fillna(0.0)
    g = a.groupby(["day", "tour"], sort=False).agg(
        eligible=("calls_per_hour", "sum"), covered=("covered_per_hour", "sum"),
        teams=("teams", "sum")).reset_index()
    for r in g.itertuples(index=False):
        t = tour_of.get(r.tour)
        if t is None or r.day not in DAYS:
            continue
        start = DAYS.index(r.day) * 24 + float(t["start_hour"])
        # hour h gets the share of [h, h+1) the tour covers
        for h0 in range(int(np.floor(start)), int(np.ceil(start + float(t["hours"])))):
            frac = min(h0 + 1, start + t["hours"]) - max(h0, start)
            if frac <= 0:
                continue
            h = h0 % HOURS_PER_WEEK
            eligible[h] += frac * r.eligible
            covered[h] += frac * r.covered
            teams[h] += frac * r.teams
            spanned[h] = True
    out = pd.DataFrame({"hour_of_week": np.arange(HOURS_PER_WEEK),
                        "eligible_calls_per_hour": np.where(spanned, eligible, np.nan),
                        "covered_calls_per_hour": np.where(spanned, covered, np.nan),
                        "teams_on_duty": np.where(spanned, teams, np.nan)})
    return out


# ----------------------------------------------------------------------------------------
# figures
# ----------------------------------------------------------------------------------------
def precinct_map(by_precinct: pd.DataFrame, title: str = "") -> bytes:
    """The plan's map as a PNG a planner can read on a screen (12 x 12 in at 110 dpi):
    precincts coloured by expected coverage share, hatched grey where the precinct has no
    team (no circle), a circle sized by team-shifts/week on staffed precincts, every
    precinct's number, borough outlines, a colour bar and a circle-size legend. Precincts
    outside the scenario are light grey. ``by_precinct``: :meth:`bheard.Plan.by_precinct`.
    """
    from bheard.data import boundaries

    plt = _plt()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    gdf = boundaries()
    gdf = gdf.merge(by_precinct[["precinct", "team_shifts_per_week", "coverage_share"]],
                    on="precinct", how="left")
    in_plan = gdf["team_shifts_per_week"].notna()
    staffed = in_plan & (gdf["team_shifts_per_week"] > 0)
    fig, ax = plt.subplots(figsize=(12, 12))
    if (~in_plan).any():
        gdf[~in_plan].plot(ax=ax, color="#eeeeee", edgecolor="white", linewidth=0.5)
    unstaffed = in_plan & ~staffed
    if unstaffed.any():
        gdf[unstaffed].plot(ax=ax, color="#f0f0f0", edgecolor="white", linewidth=0.5,
                            hatch="///")
    if staffed.any():
        gdf[staffed].plot(ax=ax, column="coverage_share", cmap="Blues", vmin=0.0, vmax=1.0,
                          edgecolor="white", linewidth=0.5, legend=True,
                          legend_kwds={"label": "expected coverage of eligible calls (share)",
                                       "shrink": 0.5})
    gdf.dissolve(by="borough").boundary.plot(ax=ax, color="#333333", linewidth=1.4)
    pts = gdf.copy()
    pts["geometry"] = pts.geometry.representative_point()
    ref = max(float(gdf.loc[staffed, "team_shifts_per_week"].max()) if staffed.any() else 1.0,
              1.0)

    def area(v):
        return 400.0 * np.asarray(v, dtype=float) / ref

    if staffed.any():
        st = pts[staffed]
        ax.scatter(st.geometry.x, st.geometry.y, s=area(st["team_shifts_per_week"]),
                   facecolor="#e6550d", alpha=0.75, edgecolor="#5a2500", linewidth=0.5,
                   zorder=3)
    for x, y, p in zip(pts.geometry.x, pts.geometry.y, pts["precinct"]):
        ax.annotate(str(int(p)), (x, y), fontsize=7, ha="center", va="bottom",
                    xytext=(0, 5), textcoords="offset points", zorder=4,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none",
                          "alpha": 0.6})
    sizes = sorted({max(int(round(ref / 4)), 1), max(int(round(ref / 2)), 1), int(ref)})
    handles = [Line2D([], [], marker="o", linestyle="", markerfacecolor="#e6550d", alpha=0.75,
                      markeredgecolor="#5a2500", markersize=float(np.sqrt(area(v))),
                      label=f"{v} team-shifts/week") for v in sizes]
    handles += [Patch(facecolor="#f0f0f0", hatch="///", edgecolor="#999999",
                      label="no team (no circle)"),
                Patch(facecolor="#eeeeee", edgecolor="#999999", label="not in the scenario"),
                Line2D([], [], color="#333333", linewidth=1.4, label="borough boundary")]
    ax.legend(handles=handles, loc="upper left", fontsize=9, frameon=True, labelspacing=1.2)
    if in_plan.any() and (~in_plan).any():  # zoom to the scenario's precincts, with context
        x0, y0, x1, y1 = gdf[in_plan].total_bounds
        pad = max(x1 - x0, y1 - y0, 0.02) * 0.2
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    ax.set_axis_off()
    ax.set_title(title or "Coverage share and teams by precinct", fontsize=14)
    return _png(fig, dpi=110)


def hour_of_week_chart(profile: pd.DataFrame) -> bytes:
    """Top: eligible vs expected covered calls/hour over the week; bottom: coverage share (%)."""
    plt = _plt()
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(11, 4.8), sharex=True,
                                  gridspec_kw={"height_ratios": [2.2, 1]})
    # repeat the last hour at x = 168 so step="post" draws hour 167 to the end of the week
    x = np.append(profile["hour_of_week"].to_numpy(), HOURS_PER_WEEK)
    el = profile["eligible_calls_per_hour"].to_numpy()
    cv = profile["covered_calls_per_hour"].to_numpy()
    el, cv = np.append(el, el[-1:]), np.append(cv, cv[-1:])
    ax.fill_between(x, 0, el, step="post", color="#c6dbef", label="eligible calls/hour")
    ax.fill_between(x, 0, cv, step="post", color="#2171b5", label="expected covered calls/hour")
    ax.set_ylabel("calls/hour\n(citywide)")
    ax.legend(loc="upper left", fontsize=8, ncol=2)
    ax.set_title("Coverage by hour of week")
    ax.margins(y=0.15)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(el > 0, cv / np.where(el > 0, el, 1.0), np.nan)
    ax2.fill_between(x, 0, 100 * share, step="post", color="#e6550d", alpha=0.6)
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("coverage\nshare (%)")
    ax2.set_xlim(0, HOURS_PER_WEEK)
    ax2.set_xticks(np.arange(0, HOURS_PER_WEEK, 24) + 12, DAYS)
    for a in (ax, ax2):
        for d in range(1, 7):
            a.axvline(24 * d, color="grey", linewidth=0.5)
        a.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def group_coverage_chart(by_borough: pd.DataFrame, by_tour: pd.DataFrame) -> bytes:
    """Eligible vs expected covered calls/year by borough and by tour, share printed on bars."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8),
                             gridspec_kw={"width_ratios": [max(len(by_borough), 1),
                                                           max(len(by_tour), 1) + 0.5]})
    for ax, df, key, title in ((axes[0], by_borough, "borough", "Coverage by borough"),
                               (axes[1], by_tour, "tour", "Coverage by tour")):
        if df.empty:
            ax.set_axis_off()
            continue
        x = np.arange(len(df))
        ax.bar(x, df["eligible_calls"], color="#c6dbef", label="eligible calls/year")
        ax.bar(x, df["expected_covered_calls"], width=0.55, color="#2171b5",
               label="expected covered calls/year")
        for xi, (cov, el) in enumerate(zip(df["coverage_share"], df["eligible_calls"])):
            if pd.notna(cov):
                ax.annotate(f"{cov:.0%}", (xi, el), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(x, [str(v) for v in df[key]], fontsize=8,
                      rotation=20 if len(df) > 4 else 0)
        ax.set_ylabel("calls/year")
        ax.set_title(title)
        ax.margins(y=0.12)
    axes[0].legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return _png(fig)


def cost_chart(assignments: pd.DataFrame) -> bytes:
    """Annual cost (USD million/year) by borough, stacked by tour."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 3.8))
    if assignments.empty:
        ax.set_axis_off()
        return _png(fig)
    pv = (assignments.pivot_table(index="borough", columns="tour", values="annual_cost_usd",
                                  aggfunc="sum", fill_value=0.0) / 1e6)
    tours = list(dict.fromkeys(assignments["tour"]))
    pv = pv[[t for t in tours if t in pv.columns]]
    bottom = np.zeros(len(pv))
    colors = plt.get_cmap("Set2").colors
    for i, t in enumerate(pv.columns):
        ax.bar(pv.index.astype(str), pv[t], bottom=bottom, label=t, color=colors[i % len(colors)])
        bottom += pv[t].to_numpy()
    for xi, tot in enumerate(bottom):
        ax.annotate(f"${tot:,.1f}M", (xi, tot), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("USD million / year")
    ax.set_title("Annual cost by borough and tour")
    ax.legend(title="tour", fontsize=8, title_fontsize=8)
    ax.margins(y=0.12)
    return _png(fig)


def frontier_chart(table: pd.DataFrame, budget_usd: float | None = None) -> bytes:
    """Coverage share vs budget (with the plan's budget marked) and marginal calls per $1M."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 3.8))
    x = table["budget_usd"] / 1e6
    ax.plot(x, 100 * table["coverage_share"], marker="o", markersize=3, color="#2171b5",
            label="expected coverage share (%)")
    if "share_p10" in table.columns and "share_p90" in table.columns:
        # demand uncertainty: the plan's held-out P10-P90 band (models/stochastic.md)
        ax.fill_between(x, 100 * table["share_p10"], 100 * table["share_p90"], color="#2171b5",
                        alpha=0.18, label="held-out P10-P90 (demand uncertainty)")
    ax.set_xlabel("budget (USD million / year)")
    ax.set_ylabel("coverage share (%)", color="#2171b5")
    ax.grid(alpha=0.3)
    if budget_usd:
        ax.axvline(budget_usd / 1e6, color="black", linestyle="--", linewidth=0.8,
                   label="this plan's budget")
    ax2 = ax.twinx()
    width = 0.8 * float(np.median(np.diff(x))) if len(x) > 1 else 1.0
    mid = (x + x.shift(1)) / 2  # a marginal value describes the step from the previous budget
    ax2.bar(mid, table["marginal_calls_per_million_usd"], width=width, color="#e6550d",
            alpha=0.35, label="extra covered calls/year per extra $1M")
    ax2.set_ylabel("calls/year per extra $1M", color="#e6550d")
    ax.set_zorder(ax2.get_zorder() + 1)
    ax.patch.set_visible(False)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=8, loc="center right")
    ax.set_title("Budget frontier")
    return _png(fig)


def uncertainty_chart(u) -> bytes:
    """Demand uncertainty: held-out coverage share by borough and tour for the plan and the
    median plan (expected, with the P10-P90 range as a bar)."""
    plt = _plt()
    groups = [("borough", u.plan.by_borough, u.median_plan.by_borough),
              ("tour", u.plan.by_tour, u.median_plan.by_tour)]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6),
                             gridspec_kw={"width_ratios": [max(len(g[1]), 1) for g in groups]})
    for ax, (title, mine, med) in zip(axes, groups):
        pos = np.arange(len(mine))
        for off, rows, colour, label in ((-0.17, mine, "#2171b5", "this plan"),
                                         (0.17, med, "#969696", "median plan")):
            e = np.array([100 * r.expected_share for r in rows])
            lo = e - np.array([100 * r.share_p10 for r in rows])
            hi = np.array([100 * r.share_p90 for r in rows]) - e
            ax.errorbar(pos + off, e, yerr=[lo, hi], fmt="o", color=colour, capsize=3,
                        label=label)
        ax.set_xticks(pos, [r.name for r in mine], rotation=20, fontsize=8)
        ax.set_xlim(-0.6, len(mine) - 0.4)
        ax.set_title(f"by {title}: expected share, P10-P90 (held-out)", fontsize=9)
        ax.set_ylabel("coverage share (%)")
        ax.grid(alpha=0.3, axis="y")
    axes[0].legend(fontsize=8)
    return _png(fig)
