"""Limits on what bheard reads and builds, so hostile or mistaken input is refused with a
message (exit 2) instead of exhausting memory or time. README "Limits" lists them.

Each limit has a default here; the ones a legitimate user may need to raise are read from an
environment variable at the time of use (so a test or a user can change them per run):

==============================  ==============================  =================================
limit                           default                         environment variable
==============================  ==============================  =================================
scenario file size              1 MiB                           ``BHEARD_MAX_SCENARIO_BYTES``
YAML nesting depth              50 levels                       (fixed)
YAML nodes after aliases        200,000                         (fixed)
``extends:`` chain              16 files                        (fixed)
demand table / OD CSV size      256 MiB                         ``BHEARD_MAX_TABLE_BYTES``
estimated model memory          8,192 MiB                       ``BHEARD_MAX_MODEL_MB``
simulated calls per replication 20,000,000                      ``BHEARD_MAX_SIM_CALLS``
frontier points                 1,000                           (fixed)
any number in a scenario        magnitude <= 1e15               (fixed)
folders scenario files may read the scenario's folder, shipped  ``BHEARD_ALLOW_PATHS`` or
                                ``scenarios/`` and ``data/``    ``bheard --allow-path DIR``
==============================  ==============================  =================================
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_YAML_DEPTH = 50
MAX_YAML_NODES = 200_000
MAX_EXTENDS_DEPTH = 16
MAX_FRONTIER_POINTS = 1_000
#: largest magnitude of any number in a scenario (USD, calls, minutes...): far above any real
#: value, far below where float arithmetic or HiGHS's coefficients break down
MAX_MAGNITUDE = 1e15

ALLOW_PATHS_ENV = "BHEARD_ALLOW_PATHS"


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        v = float(raw)
    except ValueError:
        return default
    return v if v > 0 else default


def max_scenario_bytes() -> int:
    """Largest scenario YAML file read, bytes (``BHEARD_MAX_SCENARIO_BYTES``, default 1 MiB)."""
    return int(_env_number("BHEARD_MAX_SCENARIO_BYTES", 1 << 20))


def max_table_bytes() -> int:
    """Largest demand table or travel-time CSV read, bytes (``BHEARD_MAX_TABLE_BYTES``)."""
    return int(_env_number("BHEARD_MAX_TABLE_BYTES", 256 << 20))


def max_model_mb() -> float:
    """Largest estimated memory of a model before it is built, MiB (``BHEARD_MAX_MODEL_MB``)."""
    return _env_number("BHEARD_MAX_MODEL_MB", 8192.0)


def max_sim_calls() -> float:
    """Most calls one simulation replication may generate (``BHEARD_MAX_SIM_CALLS``)."""
    return _env_number("BHEARD_MAX_SIM_CALLS", 2e7)


def allow_paths() -> list[Path]:
    """Extra folders scenario files may read (``BHEARD_ALLOW_PATHS``, ``os.pathsep``-separated;
    ``bheard --allow-path DIR`` adds to it)."""
    raw = os.environ.get(ALLOW_PATHS_ENV, "")
    return [Path(p).expanduser().resolve() for p in raw.split(os.pathsep) if p.strip()]


def add_allow_path(path: str | Path) -> None:
    """Add a folder to the allow-list of this process (and of the processes it starts)."""
    cur = [p for p in os.environ.get(ALLOW_PATHS_ENV, "").split(os.pathsep) if p.strip()]
    cur.append(str(Path(path).expanduser().resolve()))
    os.environ[ALLOW_PATHS_ENV] = os.pathsep.join(cur)
