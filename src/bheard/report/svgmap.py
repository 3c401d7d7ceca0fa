"""The precinct map as inline SVG for the HTML report: readable on a screen, with hover.

Each precinct is a path coloured by its coverage share (a light-to-dark blue ramp, the same
stops in Python and in the report's script, :data:`RAMP`), with a ``<title>`` (hover: precinct,
borough, teams on duty per tour, coverage, calls). Its number is printed on it. Precincts with
a team get a dark circle whose area is proportional to team-shifts/week; precincts without a
team get no mark (and a hatched grey fill, so they read as "no team", not as "0% coverage").
Borough outlines are drawn on top; a legend explains colours and circle sizes. The shapes come
from the shipped boundaries (:func:`bheard.data.boundaries`), simplified, projected with
x = longitude x cos(40.7 degrees), y = -latitude.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

#: coverage share -> colour stops (share, hex), also used by the report's slider script
RAMP = [(0.0, "#f7fbff"), (0.2, "#c6dbef"), (0.4, "#6baed6"), (0.6, "#2171b5"),
        (0.8, "#08519c"), (1.0, "#08306b")]
NO_TEAM_FILL = "url(#noteam)"
WIDTH = 900  # px; the SVG scales to the page
SIMPLIFY_DEG = 0.0005
#: circle radius (px) for the largest team-shifts/week on the map
MAX_RADIUS = 14.0


def ramp_color(share: float) -> str:
    if share is None or not math.isfinite(share):
        return "#d9d9d9"
    s = min(max(float(share), 0.0), 1.0)
    for (a, ca), (b, cb) in zip(RAMP, RAMP[1:]):
        if s <= b:
            t = 0.0 if b == a else (s - a) / (b - a)
            x = [int(ca[i:i + 2], 16) + t * (int(cb[i:i + 2], 16) - int(ca[i:i + 2], 16))
                 for i in (1, 3, 5)]
            return "#" + "".join(f"{int(round(v)):02x}" for v in x)
    return RAMP[-1][1]


class Projection:
    def __init__(self, bounds):
        x0, y0, x1, y1 = bounds
        self.k = math.cos(math.radians(40.7))
        self.x0, self.y1 = x0, y1
        self.scale = WIDTH / ((x1 - x0) * self.k)
        self.height = (y1 - y0) * self.scale

    def xy(self, lon, lat):
        return (lon - self.x0) * self.k * self.scale, (self.y1 - lat) * self.scale


def _path(geom, proj: Projection) -> str:
    parts = []
    polys = getattr(geom, "geoms", [geom])
    for poly in polys:
        for ring in [poly.exterior, *poly.interiors]:
            pts = [proj.xy(x, y) for x, y in ring.coords]
            if len(pts) < 3:
                continue
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


def map_svg(by_precinct: pd.DataFrame, tour_names: list[str], svg_id: str = "map",
            title: str = "", ref_team_shifts: float | None = None) -> str:
    """Inline SVG of the plan's precincts (``by_precinct``: :meth:`bheard.Plan.by_precinct`).

    Element ids: ``{svg_id}-p{precinct}`` (shape), ``{svg_id}-c{precinct}`` (circle, hidden
    when the precinct has no team), so the report's script can recolour them per budget."""
    from bheard.data import boundaries

    g = boundaries()
    proj = Projection(g.total_bounds)
    data = by_precinct.set_index("precinct") if len(by_precinct) else pd.DataFrame()
    tsw = data["team_shifts_per_week"].astype(float) if len(data) else pd.Series(dtype=float)
    ref = (float(ref_team_shifts) if ref_team_shifts else
           max(float(tsw.max()) if len(tsw) else 0.0, 1.0))
    shapes, circles, labels = [], [], []
    for rec in g.itertuples(index=False):
        p = int(rec.precinct)
        geom = rec.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True)
        d = _path(geom, proj)
        cx, cy = proj.xy(*rec.geometry.representative_point().coords[0])
        if p not in data.index:
            shapes.append(f'<path d="{d}" fill="#eeeeee" stroke="#ffffff" stroke-width="0.6">'
                          f"<title>precinct {p}: not in this plan's scenario</title></path>")
            continue
        r = data.loc[p]
        has = float(r["team_shifts_per_week"]) > 0
        tours = "; ".join(f"{t} {float(r.get(f'teams_on_duty_{t}', 0.0)):.1f}"
                          for t in tour_names)
        tip = (f"precinct {p} ({r['borough']}): {int(r['team_shifts_per_week'])} team-shifts/"
               f"week; teams on duty {tours}; coverage {100 * float(r['coverage_share']):.1f}%"
               f" of {float(r['eligible_calls']):,.0f} eligible calls/year")
        fill = ramp_color(float(r["coverage_share"])) if has else NO_TEAM_FILL
        shapes.append(f'<path id="{svg_id}-p{p}" d="{d}" fill="{fill}" stroke="#ffffff" '
                      f'stroke-width="0.6"><title>{html.escape(tip)}</title></path>')
        rad = MAX_RADIUS * math.sqrt(float(r["team_shifts_per_week"]) / ref) if has else 0.0
        vis = "" if has else ' visibility="hidden"'
        circles.append(f'<circle id="{svg_id}-c{p}" cx="{cx:.1f}" cy="{cy:.1f}" r="{rad:.1f}" '
                       f'fill="#e6550d" fill-opacity="0.75" stroke="#5a2500" stroke-width="0.5"'
                       f'{vis} pointer-events="none"/>')
        ly = cy - rad - 2 if has else cy + 4
        labels.append(f'<text id="{svg_id}-l{p}" x="{cx:.1f}" y="{ly:.1f}" class="plabel" '
                      f'data-cy="{cy:.1f}">{p}</text>')
    outlines = []
    for borough, geom in g.dissolve(by="borough").geometry.items():
        outlines.append(f'<path d="{_path(geom.simplify(SIMPLIFY_DEG), proj)}" fill="none" '
                        f'stroke="#333333" stroke-width="1.6" pointer-events="none">'
                        f"<title>{html.escape(str(borough))}</title></path>")
    legend = _legend(ref, proj.height)
    h = proj.height
    return (f'<svg id="{svg_id}" class="map" viewBox="0 0 {WIDTH + 230} {h:.0f}" '
            f'role="img" aria-label="{html.escape(title or "precinct map")}" '
            f'xmlns="http://www.w3.org/2000/svg" data-ref-team-shifts="{ref:g}">'
            '<defs><pattern id="noteam" width="6" height="6" patternUnits="userSpaceOnUse" '
            'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f0f0f0"/>'
            '<line x1="0" y1="0" x2="0" y2="6" stroke="#c8c8c8" stroke-width="2"/></pattern>'
            "</defs><style>.plabel{font:10px sans-serif;text-anchor:middle;paint-order:"
            "stroke;stroke:#ffffff;stroke-width:2.5px;fill:#111;pointer-events:none}</style>"
            + "".join(shapes) + "".join(outlines) + "".join(circles)
            + "<g class=\"labels\">" + "".join(labels) + "</g>" + legend + "</svg>")


def _legend(ref: float, height: float) -> str:
    x, y = WIDTH + 20, 30
    out = [f'<g class="legend" font-size="12"><text x="{x}" y="{y}" font-weight="600">'
           "coverage of eligible calls</text>"]
    for i, s in enumerate(np.linspace(0, 1, 6)):
        yy = y + 12 + i * 20
        out.append(f'<rect x="{x}" y="{yy}" width="24" height="18" fill="{ramp_color(s)}" '
                   f'stroke="#999"/><text x="{x + 32}" y="{yy + 13}">{100 * s:.0f}%</text>')
    y2 = y + 12 + 6 * 20 + 10
    out.append(f'<rect x="{x}" y="{y2}" width="24" height="18" fill="url(#noteam)" '
               f'stroke="#999"/><text x="{x + 32}" y="{y2 + 13}">no team</text>')
    out.append(f'<rect x="{x}" y="{y2 + 24}" width="24" height="18" fill="#eeeeee" '
               f'stroke="#999"/><text x="{x + 32}" y="{y2 + 37}">not in scenario</text>')
    y3 = y2 + 70
    out.append(f'<text x="{x}" y="{y3}" font-weight="600">team-shifts/week</text>')
    yy = y3 + 10
    for v in sorted({max(int(round(ref / 4)), 1), max(int(round(ref / 2)), 1), int(ref)}):
        r = MAX_RADIUS * math.sqrt(v / ref)
        yy += 2 * MAX_RADIUS + 4
        out.append(f'<circle cx="{x + 12}" cy="{yy - MAX_RADIUS}" r="{r:.1f}" fill="#e6550d" '
                   f'fill-opacity="0.75" stroke="#5a2500" stroke-width="0.5"/>'
                   f'<text x="{x + 32}" y="{yy - MAX_RADIUS + 4}">{v}</text>')
    out.append(f'<text x="{x}" y="{yy + 20}" fill="#555">thick lines: borough</text>'
               f'<text x="{x}" y="{yy + 36}" fill="#555">hover a precinct for details</text>')
    out.append("</g>")
    return "".join(out)


__all__ = ["map_svg", "ramp_color", "RAMP", "MAX_RADIUS"]
