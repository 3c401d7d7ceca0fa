"""Queueing formulas used by the staffing models (vectorised with numpy).

Erlang B (the Erlang loss formula) gives the share of calls that find all ``k`` servers busy
in an M/G/k/k system with offered load ``a = lambda * tau`` (Erlangs). It holds for any
service-time distribution with mean ``tau`` (insensitivity), which is why the coverage model
needs only the mean busy time per call.
"""

from __future__ import annotations

import numpy as np


def erlang_b(k, a):
    """Erlang B blocking probability ``B(k, a)`` for ``k`` servers and offered load ``a`` Erlangs.

    Uses the numerically stable recursion

    .. math:: B(0, a) = 1,\\qquad B(j, a) = \\frac{a\\,B(j-1, a)}{j + a\\,B(j-1, a)},

    which never forms factorials or powers, so it is exact to rounding for ``k`` and ``a`` in the
    hundreds. ``k`` (int >= 0) and ``a`` (float >= 0) broadcast against each other.
    """
    k = np.asarray(k)
    a = np.asarray(a, dtype=float)
    if np.any(k < 0) or np.any(a < 0):
        raise ValueError("erlang_b needs k >= 0 and a >= 0")
    k, a = np.broadcast_arrays(k.astype(np.int64), a)
    kmax = int(k.max()) if k.size else 0
    b = np.ones(a.shape, dtype=float)
    out = np.where(k == 0, 1.0, 0.0)
    for j in range(1, kmax + 1):
        ab = a * b
        b = ab / (j + ab)
        out = np.where(k == j, b, out)
    return out if out.shape else float(out)


def erlang_b_table(a, kmax: int) -> np.ndarray:
    """``B(j, a)`` for ``j = 0..kmax`` along a new last axis: shape ``a.shape + (kmax + 1,)``.

    One pass of the recursion fills every level; used to build all incremental coverage gains
    of a model at once.
    """
    a = np.asarray(a, dtype=float)
    if np.any(a < 0):
        raise ValueError("erlang_b_table needs a >= 0")
    out = np.empty(a.shape + (kmax + 1,), dtype=float)
    b = np.ones(a.shape, dtype=float)
    out[..., 0] = b
    for j in range(1, kmax + 1):
        ab = a * b
        b = ab / (j + ab)
        out[..., j] = b
    return out


def erlang_c(n, a):
    """Erlang C: probability that an arriving call waits in an M/M/n queue with load ``a`` < n.

    Computed from Erlang B: ``C = n B / (n - a (1 - B))``.
    """
    n = np.asarray(n, dtype=float)
    a = np.asarray(a, dtype=float)
    b = erlang_b(n.astype(np.int64), a)
    return n * b / (n - a * (1.0 - b))
