"""Ingest NYC Open Data 911 call exports into weekly counts per (precinct, hour of week).

Two public datasets are read as exported (CSV, optionally gzipped), with their real column
names (docs/sources.md S-nypd-cfs, S-ems-dispatch). Column names match case-insensitively (the Socrata API writes
them in lower case); only the needed columns are read, in chunks, so memory stays bounded.

===============  ===================  =================================================
dataset          detected by          columns read
===============  ===================  =================================================
FDNY EMS         ``CAD_INCIDENT_ID``  ``CAD_INCIDENT_ID, INCIDENT_DATETIME,
(``76xm-jjuj``)  ``INCIDENT_DATETIME``  INITIAL_CALL_TYPE, POLICEPRECINCT`` (+
                                      ``FINAL_CALL_TYPE`` if present, used when the
                                      initial type is empty)
NYPD calls for   ``CAD_EVNT_ID``      ``CAD_EVNT_ID, INCIDENT_DATE, INCIDENT_TIME,
service          ``RADIO_CODE``       RADIO_CODE, NYPD_PCT_CD``
(``d6zx-ckhd``)
===============  ===================  =================================================

Classification follows :class:`bheard.demand.rules.EligibilityRules`: EMS initial call types
``EDP*`` are mental-health (MH) calls and ``EDPM`` is eligible; NYPD radio codes ``54E*`` are MH
calls, of which a share (0.385) counts as eligible (NYPD has no eligibility code).

Every row is accounted for. Rows that are not MH calls are counted (``not_mental_health``,
``missing_call_type``); MH rows are checked in this order and the first failing check names the
reason the row is dropped: ``duplicate_id`` (an event id already seen among MH rows, in any
file; the first occurrence is kept), ``missing_time`` (empty or unparseable timestamp),
``out_of_range_date`` (outside ``[start, end)``, default 2005-01-01 to tomorrow),
``missing_precinct`` (empty or not an integer), ``unknown_precinct`` (not in the precinct
table). Kept calls in weeks only partly covered by the data are counted as ``partial_week``
and left out of the weekly counts. Timestamps: the export format ``01/31/2024 11:05:23 PM``
and ISO 8601 both parse; they are naive local times.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from bheard.demand.rules import EligibilityRules
from bheard.errors import InputError, Problem

EMS = "ems"
NYPD = "nypd"

#: Columns of the counts table / counts file written by :meth:`IngestResult.save_counts`.
COUNTS_COLUMNS = ("source", "week_start", "precinct", "hour_of_week", "mh_calls", "eligible_calls")

#: Drop reasons, in the order the checks run.
DROP_REASONS = (
    "duplicate_id",
    "missing_time",
    "out_of_range_date",
    "missing_precinct",
    "unknown_precinct",
    "partial_week",
)
DEFAULT_START = dt.date(2005, 1, 1)  # first year of the EMS dataset (S-ems-dispatch)
DEFAULT_CHUNK_ROWS = 250_000

_EMS_TIME_FORMAT = "%m/%d/%Y %I:%M:%S %p"


@dataclass(frozen=True)
class _Schema:
    name: str
    signature: tuple[str, ...]  # columns that identify the dataset
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


_SCHEMAS = (
    _Schema(
        EMS,
        ("CAD_INCIDENT_ID", "INCIDENT_DATETIME", "INITIAL_CALL_TYPE", "FINAL_CALL_TYPE", "POLICEPRECINCT"),
        ("CAD_INCIDENT_ID", "INCIDENT_DATETIME", "INITIAL_CALL_TYPE", "POLICEPRECINCT"),
        ("FINAL_CALL_TYPE",),
    ),
    _Schema(
        NYPD,
        ("CAD_EVNT_ID", "INCIDENT_DATE", "INCIDENT_TIME", "NYPD_PCT_CD", "RADIO_CODE", "TYP_DESC"),
        ("CAD_EVNT_ID", "INCIDENT_DATE", "INCIDENT_TIME", "RADIO_CODE", "NYPD_PCT_CD"),
    ),
)


@dataclass
class FileReport:
    """Row accounting for one input file (rows, by reason)."""

    path: str
    source: str
    rows: int = 0
    not_mental_health: int = 0
    missing_call_type: int = 0
    mental_health_rows: int = 0
    duplicate_id: int = 0
    missing_time: int = 0
    out_of_range_date: int = 0
    missing_precinct: int = 0
    unknown_precinct: int = 0
    partial_week: int = 0
    kept_mh_calls: int = 0
    kept_eligible_calls: float = 0.0

    @property
    def dropped(self) -> int:
        """MH rows dropped, all reasons."""
        return sum(getattr(self, r) for r in DROP_REASONS)


@dataclass
class IngestReport:
    """Row accounting for an ingest run: per file, totals and the covered period."""

    files: list[FileReport]
    covered_weeks: list[dt.date]  # Mondays of the full weeks kept (gaps possible between files)
    range_start: dt.date
    range_end: dt.date
    rules: dict

    @property
    def weeks(self) -> int:
        """Number of full weeks kept."""
        return len(self.covered_weeks)

    @property
    def period_start(self) -> dt.date | None:
        """First Monday of the kept weeks."""
        return self.covered_weeks[0] if self.covered_weeks else None

    @property
    def period_end(self) -> dt.date | None:
        """Day after the last kept week."""
        return self.covered_weeks[-1] + dt.timedelta(days=7) if self.covered_weeks else None

    @property
    def gap_weeks(self) -> list[dt.date]:
        """Mondays between the first and last kept week that no file covers fully."""
        if not self.covered_weeks:
            return []
        have = set(self.covered_weeks)
        n = (self.period_end - self.period_start).days // 7
        return [d for d in (self.period_start + dt.timedelta(days=7 * i) for i in range(n)) if d not in have]

    def totals(self) -> dict[str, float]:
        """Sum over files of every count (rows, reasons, kept calls)."""
        keys = [k for k in asdict(self.files[0]) if k not in ("path", "source")] if self.files else []
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_dict(self) -> dict:
        return {
            "files": [asdict(f) for f in self.files],
            "totals": self.totals(),
            "drop_reasons_in_check_order": list(DROP_REASONS),
            "period_start": str(self.period_start) if self.period_start else None,
            "period_end": str(self.period_end) if self.period_end else None,
            "full_weeks": self.weeks,
            "gap_weeks": [str(d) for d in self.gap_weeks],
            "date_range": [str(self.range_start), str(self.range_end)],
            "rules": self.rules,
        }

    def summary(self) -> str:
        t = self.totals()
        return (
            f"{t.get('rows', 0):,} rows in {len(self.files)} file(s); {t.get('mental_health_rows', 0):,} "
            f"mental-health rows, {t.get('kept_mh_calls', 0):,} kept in {self.weeks} full weeks "
            f"({self.period_start} to {self.period_end}); dropped: "
            + ", ".join(f"{r} {t.get(r, 0):,}" for r in DROP_REASONS)
            + (f"; {len(self.gap_weeks)} week(s) not covered by any file (left out)" if self.gap_weeks else "")
        )


@dataclass
class IngestResult:
    """Weekly counts plus the report. ``counts`` has :data:`COUNTS_COLUMNS` (calls/week per
    (source, week_start, precinct, hour_of_week) cell; cells with no call are absent)."""

    counts: pd.DataFrame = field(repr=False)
    report: IngestReport

    @property
    def week_starts(self) -> pd.DatetimeIndex:
        """Mondays of the full weeks covered (cells not in ``counts`` are zero; gaps possible)."""
        return pd.DatetimeIndex(pd.to_datetime(self.report.covered_weeks))

    def save_counts(self, path: str | Path) -> Path:
        """Write the counts file (CSV, :data:`COUNTS_COLUMNS`), atomically.

        Every covered week appears at least once: a week without any call gets one zero row, so
        that :func:`read_counts` restores exactly the covered weeks.
        """
        frame = self.counts.copy()
        have = set(pd.to_datetime(frame["week_start"]).dt.date) if len(frame) else set()
        missing = [w for w in self.report.covered_weeks if w not in have]
        if missing:
            src = frame["source"].iloc[0] if len(frame) else EMS
            zeros = pd.DataFrame(
                {"source": src, "week_start": pd.to_datetime(missing), "precinct": int(frame["precinct"].min()) if len(frame) else 1,
                 "hour_of_week": 0, "mh_calls": 0, "eligible_calls": 0.0}
            )
            frame = pd.concat([frame, zeros], ignore_index=True).sort_values(["source", "week_start", "precinct", "hour_of_week"])
        frame["week_start"] = pd.to_datetime(frame["week_start"]).dt.strftime("%Y-%m-%d")
        return atomic_write_text(Path(path), frame.to_csv(index=False))

    def save_report(self, path: str | Path) -> Path:
        """Write ``ingest_report.json`` atomically."""
        return atomic_write_text(Path(path), json.dumps(self.report.to_dict(), indent=2) + "\n")

    def summary(self) -> str:
        return self.report.summary()


def atomic_write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file in the same folder and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ----------------------------------------------------------------------------- header / schema


def _compression(path: Path) -> str | None:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    return "gzip" if magic == b"\x1f\x8b" else None


def read_header(path: str | Path) -> list[str]:
    """Column names of a CSV (gzipped or not). Raises :class:`InputError` if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise InputError.single(path, "(file)", str(path), "an existing CSV file (optionally .gz)")
    try:
        cols = pd.read_csv(path, nrows=0, compression=_compression(path), encoding="utf-8-sig").columns
    except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError, OSError, EOFError) as exc:
        raise InputError.single(path, "(header)", type(exc).__name__, f"a CSV header line ({exc})") from None
    return [str(c) for c in cols]


def detect_source(path: str | Path, header: Sequence[str] | None = None) -> str:
    """``"ems"`` or ``"nypd"`` from the header; :class:`InputError` listing missing columns."""
    header = list(header) if header is not None else read_header(path)
    upper = {c.strip().upper() for c in header}
    scores = [(sum(c in upper for c in s.signature), s) for s in _SCHEMAS]
    best_score, schema = max(scores, key=lambda x: x[0])
    if best_score == 0:
        raise InputError.single(
            path,
            "(columns)",
            header[:40],
            "an FDNY EMS Incident Dispatch export (CAD_INCIDENT_ID, INCIDENT_DATETIME, INITIAL_CALL_TYPE, "
            "POLICEPRECINCT, ...) or an NYPD Calls for Service export (CAD_EVNT_ID, INCIDENT_DATE, "
            "INCIDENT_TIME, RADIO_CODE, NYPD_PCT_CD, ...)",
        )
    missing = [c for c in schema.required if c not in upper]
    if missing:
        raise InputError(
            path,
            [
                Problem("(columns)", missing, f"the required {schema.name.upper()} columns {list(schema.required)}"),
                Problem("(columns found)", header, "the columns above to be present"),
            ],
        )
    return schema.name


def _schema(name: str) -> _Schema:
    return next(s for s in _SCHEMAS if s.name == name)


# ----------------------------------------------------------------------------- parsing


def parse_timestamps(values: pd.Series) -> pd.Series:
    """Export format (``01/31/2024 11:05:23 PM``) first, then ISO 8601, then 24-hour US format.

    Returns datetime64 with NaT where nothing parses.
    """
    s = values.astype(str).str.strip()
    out = pd.to_datetime(s, format=_EMS_TIME_FORMAT, errors="coerce")
    bad = out.isna() & (s != "")
    if bad.any():
        alt = pd.to_datetime(s[bad], format="ISO8601", errors="coerce")
        still = alt.isna()
        if still.any():
            alt[still] = pd.to_datetime(s[bad][still], format="%m/%d/%Y %H:%M:%S", errors="coerce")
        out[bad] = alt
    return out


def _parse_dates(values: pd.Series) -> pd.Series:
    s = values.astype(str).str.strip().str.slice(0, 10)
    out = pd.to_datetime(s, format="%m/%d/%Y", errors="coerce")
    bad = out.isna() & (s != "")
    if bad.any():
        out[bad] = pd.to_datetime(s[bad], format="%Y-%m-%d", errors="coerce")
    return out


def _parse_nypd_times(dates: pd.Series, times: pd.Series) -> pd.Series:
    d = _parse_dates(dates)
    t = times.astype(str).str.strip()
    # "23:05:23" (the export), also "11:05:23 PM"
    td = pd.to_timedelta(t, errors="coerce")
    bad = td.isna() & (t != "")
    if bad.any():
        alt = pd.to_datetime(t[bad], format="%I:%M:%S %p", errors="coerce")
        td[bad] = alt - alt.dt.normalize()
    return d + td


def _parse_precincts(values: pd.Series) -> np.ndarray:
    """Integer precinct or -1 (missing / not an integer)."""
    num = pd.to_numeric(values.astype(str).str.strip(), errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(num) & (num == np.round(num))
    return np.where(ok, num, -1).astype(np.int64)


# ----------------------------------------------------------------------------- main loop


def _history_files(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            found = sorted(
                f
                for f in p.iterdir()
                if f.is_file() and (f.name.endswith(".csv") or f.name.endswith(".csv.gz"))
            )
            if not found:
                raise InputError.single(p, "(folder)", str(p), "a folder holding export CSV files (*.csv, *.csv.gz)")
            files.extend(found)
        elif p.is_file():
            files.append(p)
        else:
            raise InputError.single(p, "(file)", str(p), "an existing file or folder")
    if not files:
        raise InputError.single(None, "files", [], "at least one export file")
    return files


def _to_date(value, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return pd.Timestamp(str(value)).date()
    except (ValueError, TypeError):
        raise InputError.single(None, name, value, "a date like 2024-01-01") from None


def ingest(
    paths: str | Path | Iterable[str | Path],
    *,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    rules: EligibilityRules | None = None,
    precincts: pd.DataFrame | Iterable[int] | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> IngestResult:
    """Read NYC 911 exports (files or folders of ``*.csv``/``*.csv.gz``) into weekly counts.

    ``start``/``end`` bound the accepted dates (``[start, end)``; default 2005-01-01 to
    tomorrow) and, when given, also fix the covered period (else it is the span of the kept
    MH calls, whole days, trimmed to full Monday-Sunday weeks). ``precincts`` is the table of
    valid precincts (default :func:`bheard.data.precincts`). Memory is bounded by
    ``chunk_rows`` rows of the needed columns plus the kept MH calls (a few bytes each).
    """
    rules = rules or EligibilityRules()
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = _history_files(paths)
    valid_precincts = _valid_precincts(precincts)
    range_start = _to_date(start, "start") if start is not None else DEFAULT_START
    range_end = _to_date(end, "end") if end is not None else dt.date.today() + dt.timedelta(days=2)
    if range_end <= range_start:
        raise InputError.single(None, "end", str(range_end), f"a date after start ({range_start})")
    lo = np.datetime64(range_start, "s")
    hi = np.datetime64(range_end, "s")
    max_pct = int(max(valid_precincts)) if valid_precincts else 0
    pct_ok = np.zeros(max(max_pct, 0) + 2, dtype=bool)
    for p in valid_precincts:
        pct_ok[p] = True

    headers = {f: read_header(f) for f in files}
    sources = {f: detect_source(f, headers[f]) for f in files}  # fail fast before reading
    seen: dict[str, set[str]] = {EMS: set(), NYPD: set()}
    reports: list[FileReport] = []
    kept_parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, FileReport]] = []

    for f in files:
        source = sources[f]
        schema = _schema(source)
        by_upper = {c.strip().upper(): c for c in headers[f]}
        wanted = [c for c in schema.required + schema.optional if c in by_upper]
        usecols = [by_upper[c] for c in wanted]
        rep = FileReport(path=str(f), source=source)
        reports.append(rep)
        try:
            reader = pd.read_csv(
                f,
                usecols=usecols,
                dtype=str,
                na_filter=False,
                chunksize=chunk_rows,
                compression=_compression(f),
                encoding="utf-8-sig",
                engine="c",
            )
            for chunk in reader:
                chunk = chunk.rename(columns={by_upper[c]: c for c in wanted})
                part = _process_chunk(chunk, source, rules, seen[source], lo, hi, pct_ok, rep)
                if part is not None:
                    kept_parts.append((source, *part, rep))
        except (pd.errors.ParserError, UnicodeDecodeError, EOFError, OSError) as exc:
            raise InputError.single(f, f"(row after {rep.rows})", type(exc).__name__, f"a well-formed CSV ({exc})") from None

    # ---- covered weeks: per file, the full Monday-Sunday weeks inside the span of its kept MH
    # calls (whole days) or inside [start, end) when given; the union over files (gaps allowed)
    spans: dict[int, list[np.datetime64]] = {}
    for _source, t, _pct, _elig, rep in kept_parts:
        lo_hi = spans.setdefault(id(rep), [t.min(), t.max()])
        lo_hi[0], lo_hi[1] = min(lo_hi[0], t.min()), max(lo_hi[1], t.max())
    covered: set[int] = set()
    for lo_t, hi_t in spans.values():
        d0 = int(np.datetime64(range_start, "D").astype(np.int64)) if start is not None else int(lo_t.astype("datetime64[D]").astype(np.int64))
        d1 = int(np.datetime64(range_end, "D").astype(np.int64)) if end is not None else int(hi_t.astype("datetime64[D]").astype(np.int64)) + 1
        covered.update(_full_weeks(d0, d1))
    if start is not None and end is not None:
        covered.update(_full_weeks(int(np.datetime64(range_start, "D").astype(np.int64)), int(np.datetime64(range_end, "D").astype(np.int64))))
    week_days = np.array(sorted(covered), dtype=np.int64)  # Mondays, days since 1970-01-01

    frames = []
    for source, t, pct, elig, rep in kept_parts:
        hours = t.astype("datetime64[h]").astype(np.int64)
        day = hours // 24
        monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday (Monday = 0)
        inside = np.isin(monday, week_days)
        rep.partial_week += int((~inside).sum())
        rep.kept_mh_calls -= int((~inside).sum())
        rep.kept_eligible_calls -= float(elig[~inside].sum())
        if inside.any():
            how = ((day[inside] + 3) % 7) * 24 + hours[inside] % 24
            frames.append(
                pd.DataFrame(
                    {"source": source, "monday": monday[inside], "precinct": pct[inside], "hour_of_week": how, "mh_calls": 1, "eligible_calls": elig[inside]}
                )
            )
    if frames:
        allk = pd.concat(frames, ignore_index=True)
        counts = allk.groupby(["source", "monday", "precinct", "hour_of_week"], sort=True, as_index=False).agg(
            mh_calls=("mh_calls", "sum"), eligible_calls=("eligible_calls", "sum")
        )
        counts.insert(1, "week_start", pd.Timestamp("1970-01-01") + pd.to_timedelta(counts["monday"], unit="D"))
        counts = counts.drop(columns="monday")
    else:
        counts = _empty_counts()
    counts = _typed_counts(counts)
    for rep in reports:
        rep.kept_eligible_calls = round(rep.kept_eligible_calls, 6)
    covered_dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in week_days]
    report = IngestReport(
        files=reports,
        covered_weeks=covered_dates,
        range_start=range_start,
        range_end=range_end,
        rules=rules.model_dump(mode="json"),
    )
    return IngestResult(counts=counts, report=report)


def _full_weeks(d0: int, d1: int) -> list[int]:
    """Mondays (days since 1970-01-01) of the weeks fully inside days [d0, d1)."""
    first = d0 + (7 - (d0 + 3) % 7) % 7
    return list(range(first, d1 - 6, 7))


def _empty_counts() -> pd.DataFrame:
    types = ["str", "datetime64[ns]", "int64", "int64", "int64", "float64"]
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(COUNTS_COLUMNS, types)})


def _typed_counts(counts: pd.DataFrame) -> pd.DataFrame:
    counts = counts[list(COUNTS_COLUMNS)].copy()
    counts["precinct"] = counts["precinct"].astype(np.int64)
    counts["hour_of_week"] = counts["hour_of_week"].astype(np.int64)
    counts["mh_calls"] = counts["mh_calls"].astype(np.int64)
    counts["eligible_calls"] = counts["eligible_calls"].astype(float)
    return counts.reset_index(drop=True)


def _valid_precincts(precincts) -> list[int]:
    if precincts is None:
        from bheard.data import precincts as _load

        try:
            precincts = _load()
        except FileNotFoundError as exc:
            raise InputError.single(exc.filename, "(file)", exc.filename, "the shipped precinct table data/precincts.csv") from None
    if isinstance(precincts, pd.DataFrame):
        return sorted(int(p) for p in precincts["precinct"])
    return sorted(int(p) for p in precincts)


def _process_chunk(chunk, source, rules, seen, lo, hi, pct_ok, rep):
    n = len(chunk)
    rep.rows += n
    if source == EMS:
        ctype = chunk["INITIAL_CALL_TYPE"].str.strip()
        if "FINAL_CALL_TYPE" in chunk:
            ctype = ctype.mask(ctype == "", chunk["FINAL_CALL_TYPE"].str.strip())
        prefix = rules.ems_mental_health_prefix.upper()
    else:
        ctype = chunk["RADIO_CODE"].str.strip()
        prefix = rules.nypd_mental_health_prefix.upper()
    ctype = ctype.str.upper()
    missing_type = (ctype == "").to_numpy()
    is_mh = ctype.str.startswith(prefix).to_numpy()
    rep.missing_call_type += int(missing_type.sum())
    rep.not_mental_health += int((~is_mh & ~missing_type).sum())
    n_mh = int(is_mh.sum())
    rep.mental_health_rows += n_mh
    if n_mh == 0:
        return None
    mh = chunk.loc[is_mh]
    ctype = ctype[is_mh]
    alive = np.ones(n_mh, dtype=bool)

    # duplicate_id: repeated (non-empty) id among MH rows, in this or an earlier chunk/file
    id_col = "CAD_INCIDENT_ID" if source == EMS else "CAD_EVNT_ID"
    ids = mh[id_col].str.strip().to_numpy(dtype=object)
    dup = np.zeros(n_mh, dtype=bool)
    for i, x in enumerate(ids):
        if x == "":
            continue
        if x in seen:
            dup[i] = True
        else:
            seen.add(x)
    rep.duplicate_id += int(dup.sum())
    alive &= ~dup

    # missing_time
    if source == EMS:
        ts = parse_timestamps(mh["INCIDENT_DATETIME"])
    else:
        ts = _parse_nypd_times(mh["INCIDENT_DATE"], mh["INCIDENT_TIME"])
    t = ts.to_numpy(dtype="datetime64[s]")
    bad_t = np.isnat(t)
    rep.missing_time += int((alive & bad_t).sum())
    alive &= ~bad_t

    # out_of_range_date
    oor = np.zeros(n_mh, dtype=bool)
    oor[~bad_t] = (t[~bad_t] < lo) | (t[~bad_t] >= hi)
    rep.out_of_range_date += int((alive & oor).sum())
    alive &= ~oor

    # missing_precinct / unknown_precinct
    pct = _parse_precincts(mh["POLICEPRECINCT"] if source == EMS else mh["NYPD_PCT_CD"])
    missing_p = pct < 0
    rep.missing_precinct += int((alive & missing_p).sum())
    alive &= ~missing_p
    known = np.zeros(n_mh, dtype=bool)
    in_table = (pct >= 0) & (pct < len(pct_ok))
    known[in_table] = pct_ok[pct[in_table]]
    rep.unknown_precinct += int((alive & ~known).sum())
    alive &= known

    if source == EMS:
        codes = {c.upper() for c in rules.ems_eligible_codes}
        elig = ctype.isin(codes).to_numpy(dtype=float)
    else:
        elig = np.full(n_mh, float(rules.nypd_eligible_share))
    rep.kept_mh_calls += int(alive.sum())
    rep.kept_eligible_calls += float(elig[alive].sum())
    if not alive.any():
        return None
    return t[alive], pct[alive].astype(np.int16), elig[alive]


# ----------------------------------------------------------------------------- counts files


def is_counts_file(header: Sequence[str]) -> bool:
    """True for a counts file written by :meth:`IngestResult.save_counts`."""
    return {"week_start", "precinct", "hour_of_week", "mh_calls"} <= {c.strip().lower() for c in header}


def read_counts(path: str | Path) -> IngestResult:
    """Load a counts file (:data:`COUNTS_COLUMNS`; ``source`` and ``eligible_calls`` optional).

    The covered weeks are the distinct ``week_start`` values in the file (a week with no calls
    needs one zero row, as :meth:`IngestResult.save_counts` writes); absent cells are zero.
    """
    path = Path(path)
    header = read_header(path)
    if not is_counts_file(header):
        raise InputError.single(path, "(columns)", header, f"a counts file with columns {list(COUNTS_COLUMNS)}")
    df = pd.read_csv(path, compression=_compression(path))
    df.columns = [c.strip().lower() for c in df.columns]
    problems = []
    ws = pd.to_datetime(df["week_start"], format="%Y-%m-%d", errors="coerce")
    if ws.isna().any():
        problems.append(Problem("week_start", df.loc[ws.isna(), "week_start"].iloc[0], "a date YYYY-MM-DD"))
    elif (ws.dt.day_of_week != 0).any():
        problems.append(Problem("week_start", str(ws[ws.dt.day_of_week != 0].iloc[0].date()), "a Monday"))
    how = pd.to_numeric(df["hour_of_week"], errors="coerce")
    if how.isna().any() or ((how < 0) | (how > 167)).any():
        problems.append(Problem("hour_of_week", how[how.isna() | (how < 0) | (how > 167)].iloc[0], "an integer 0..167"))
    mh = pd.to_numeric(df["mh_calls"], errors="coerce")
    if mh.isna().any() or (mh < 0).any():
        problems.append(Problem("mh_calls", mh[mh.isna() | (mh < 0)].iloc[0], "a count >= 0 (calls/week in the cell)"))
    pct = pd.to_numeric(df["precinct"], errors="coerce")
    if pct.isna().any():
        problems.append(Problem("precinct", df.loc[pct.isna(), "precinct"].iloc[0], "an integer precinct"))
    if problems:
        raise InputError(path, problems)
    out = pd.DataFrame(
        {
            "source": df["source"].astype(str) if "source" in df else EMS,
            "week_start": ws,
            "precinct": pct.astype(np.int64),
            "hour_of_week": how.astype(np.int64),
            "mh_calls": mh.astype(np.int64),
            "eligible_calls": pd.to_numeric(df["eligible_calls"], errors="coerce").fillna(0.0).astype(float)
            if "eligible_calls" in df
            else np.nan,
        }
    )
    if out.empty:
        raise InputError.single(path, "(rows)", 0, "at least one counts row")
    covered = sorted(set(ws.dt.date))
    rep = FileReport(path=str(path), source=",".join(sorted(out["source"].unique())), rows=len(df))
    rep.kept_mh_calls = int(out["mh_calls"].sum())
    rep.kept_eligible_calls = float(out["eligible_calls"].sum())
    report = IngestReport(
        files=[rep],
        covered_weeks=covered,
        range_start=covered[0],
        range_end=covered[-1] + dt.timedelta(days=7),
        rules={},
    )
    out = out[(out["mh_calls"] > 0) | (out["eligible_calls"] > 0)]
    return IngestResult(counts=_typed_counts(out), report=report)


def load_history(
    history: str | Path | Sequence[str | Path],
    *,
    rules: EligibilityRules | None = None,
    precincts: pd.DataFrame | Iterable[int] | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> IngestResult:
    """History for forecasting: a counts file, an export file, or a folder of export files."""
    if isinstance(history, (str, Path)):
        p = Path(history)
        if p.is_file() and is_counts_file(read_header(p)):
            return read_counts(p)
    return ingest(history, rules=rules, precincts=precincts, start=start, end=end)
