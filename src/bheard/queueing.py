"""Queueing formulas used by the staffing models (vectorised with numpy).

Erlang B (the Erlang loss formula) gives the share of calls that find all ``k`` servers busy
in an M/G/k/k system with offered load ``a = lambda * tau`` (Erlangs). It holds for any
service-time distribution with mean ``tau`` (insensitivity), which is why the coverage model
needs only the mean busy time per call.
"""

from __future__ import annotations

import numpy as np

#: the smallest fleet for which :func:`erlang_b_closed` uses the closed form; below, the
#: recursion (k steps) is as fast and needs no scipy.special, whose import costs about 0.2 s
#: of a command's start-up (measured 2026-11-30; the citywide fleets are 10-32 teams)
CLOSED_FORM_MIN_K = 65


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
    if k.ndim == 0:  # one k for every load: the recursion alone (the same arithmetic)
        b = _erlang_b_one(int(k), a)
        return b if b.shape else float(b)
    k, a = np.broadcast_arrays(k.astype(np.int64), a)
    kmax = int(k.max()) if k.size else 0
    b = np.ones(a.shape, dtype=float)
    out = np.where(k == 0, 1.0, 0.0)
    for j in range(1, kmax + 1):
        ab = a * b
        b = ab / (j + ab)
        out = np.where(k == j, b, out)
    return out if out.shape else float(out)


def _erlang_b_one(k: int, a: np.ndarray) -> np.ndarray:
    """:func:`erlang_b` for one ``k`` and an array of loads, unchecked (callers' loads are
    nonnegative by construction)."""
    b = np.ones(np.shape(a), dtype=float)
    for j in range(1, k + 1):
        ab = a * b
        b = ab / (j + ab)
    return b


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


# ----------------------------------------------------------------------------------------
# loss systems with unavailable servers, dependence factors, lagged load (models/dispatch.md)
# ----------------------------------------------------------------------------------------
def erlang_b_closed(k, a):
    """Erlang B without the k-step recursion of :func:`erlang_b`, for fleets of hundreds of
    teams: ``B(k, a) = P(X = k) / P(X <= k)`` for ``X`` Poisson(``a``) (the truncated Poisson
    law of busy servers) when ``a <= 1.5 k``; above, where ``P(X <= k)`` may underflow,
    ``1 / B = sum_j k (k - 1) ... (k - j + 1) / a^j`` summed over its first 100 terms (each at
    most 2/3 of the one before: truncation error below 1e-17). Agrees with the recursion to
    about 1e-10 relative (``tests/test_shared.py``). Fleets under :data:`CLOSED_FORM_MIN_K`
    teams use the recursion."""
    k, a = np.broadcast_arrays(np.asarray(k, dtype=float), np.asarray(a, dtype=float))
    if k.size == 0 or k.max() < CLOSED_FORM_MIN_K:
        return erlang_b(k.astype(np.int64), np.maximum(a, 0.0))
    from scipy.special import gammaincc, gammaln  # deferred: see CLOSED_FORM_MIN_K

    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        cdf = gammaincc(k + 1.0, a)
        log_pmf = k * np.log(np.maximum(a, 1e-300)) - a - gammaln(k + 1.0)
        b = np.exp(log_pmf - np.log(cdf))
        big = a > 1.5 * k
        if big.any():
            kb, ab = k[big], a[big]
            inv, term = np.ones(ab.shape), np.ones(ab.shape)
            for j in range(1, 101):
                term = term * np.maximum(kb - j + 1.0, 0.0) / ab
                inv = inv + term
            b[big] = 1.0 / inv
    out = np.where(a <= 0, np.where(k == 0, 1.0, 0.0), np.clip(b, 0.0, 1.0))
    return out if out.shape else float(out)


def carried_load(k, a, closed_form: bool = False):
    """Carried load of an M/G/k/k system, Erlangs: ``a (1 - B(k, a))`` (mean busy servers);
    ``closed_form``: ``B`` from :func:`erlang_b_closed`."""
    b = erlang_b_closed(k, a) if closed_form else erlang_b(k, a)
    return np.asarray(a, dtype=float) * (1.0 - b)


def load_for_occupancy(k, rho, iterations: int = 100, closed_form: bool = False):
    """Offered load ``a`` (Erlangs) at which an M/G/k/k system has occupancy ``rho``, i.e.
    ``a (1 - B(k, a)) / k = rho``.

    ``k`` (int >= 1) and ``rho`` in [0, 1) broadcast. Used to place a symmetric loss system
    with the same servers and occupancy as a plan (Jarvis's correction, :func:`busy_set_factors`).
    ``closed_form``: Erlang B from :func:`erlang_b_closed` (large ``k``).

    The root of ``a (1 - B(k, a)) = rho k`` by :func:`_carried_root` (safeguarded Newton,
    4-8 steps; the bisection it replaced took 80; the occupancy met to 1e-13 relative) in
    ``[rho k, hi]``: the carried load never exceeds the offered, and ``hi`` doubles until it
    carries at least ``rho k``.
    """
    k = np.asarray(k, dtype=np.int64)
    rho = np.clip(np.asarray(rho, dtype=float), 0.0, 1.0 - 1e-9)
    k, rho = np.broadcast_arrays(k, rho)
    target = rho * k
    hi = np.maximum(rho * k / np.maximum(1.0 - rho, 1e-9) + 1.0, 1.0)  # B(k, a) <= a/(k + a)
    while True:
        bad = carried_load(k, hi, closed_form) < target
        if not bad.any():
            break
        hi = np.where(bad, hi * 2.0, hi)
    kf = k.astype(float)
    erlang = (lambda x: erlang_b_closed(kf, x)) if closed_form else (lambda x: erlang_b(k, x))
    a = _carried_root(erlang, kf, np.zeros(target.shape), target, target.astype(float), hi,
                      start=target.astype(float), max_steps=iterations, rel_f=1e-13)
    out = np.where(target <= 0, 0.0, a)
    return out if out.shape else float(out)


def busy_set_factors(N: int, rho: float, kmax: int) -> np.ndarray:
    """Jarvis's dependence factors for a loss system: ``A[k] = P(k given servers all busy) /
    rho^k``, k = 0..kmax, in the symmetric M/G/N/N system whose occupancy is ``rho``.

    In that system the number busy is truncated Poisson with load ``a`` =
    :func:`load_for_occupancy` ``(N, rho)`` and, given m busy, the busy set is uniform, so
    ``P(k given busy) = E[m (m-1) ... (m-k+1)] / (N (N-1) ... (N-k+1))``. ``A[N] rho^N`` is
    Erlang's ``B(N, a)``; independent servers would have ``A = 1``. Approximate hypercube
    models (Larson 1975; Jarvis 1985) multiply products of individual busy probabilities by
    these factors. Returns zeros beyond ``k > N``.
    """
    A = np.zeros(kmax + 1)
    A[0] = 1.0
    if N < 1 or kmax < 1:
        return A
    rho = float(np.clip(rho, 0.0, 1.0 - 1e-12))
    if rho <= 0.0:
        return A
    return busy_set_factors_at_loads(N, np.array([load_for_occupancy(N, rho)]), kmax)[0]


def busy_set_factors_at_loads(N: int, loads: np.ndarray, kmax: int) -> np.ndarray:
    """(R, kmax + 1) :func:`busy_set_factors` of the symmetric N-server loss system at each
    offered load in ``loads`` (Erlangs, R of them, vectorised), each divided by the occupancy
    that load reaches; 0 beyond ``k > N``.

    Closed form: with ``Z_n = sum_{j <= n} a^j / j!``, the truncated Poisson law gives
    ``E[m (m-1) ... (m-k+1)] = a^k Z_{N-k} / Z_N`` and ``Z_{n-1} / Z_n = 1 - B(n, a)``, so

    .. math:: A[k] = \\prod_{i=0}^{k-1} \\frac{N\\,(1 - B(N - i, a))}{(N - i)\\,(1 - B(N, a))}

    (``A[1] = 1``): k Erlang B values a row instead of a sum over the N + 1 busy counts for
    every k (the fleet tables of a 2,000-precinct city need thousands of rows). Erlang B by
    the recursion up to 64 teams, in closed form above (:func:`erlang_b_closed`)."""
    loads = np.asarray(loads, dtype=float)
    A = np.zeros((len(loads), kmax + 1))
    A[:, 0] = 1.0
    K = min(kmax, N)
    if N < 1 or K < 1:
        return A
    n = N - np.arange(K)  # N, N - 1, ..., N - K + 1 servers
    B = (erlang_b(n[None, :], loads[:, None]) if N <= 64
         else erlang_b_closed(n[None, :], loads[:, None]))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = N * (1.0 - B) / (n[None, :] * (1.0 - B[:, :1]))
    A[:, 1:K + 1] = np.cumprod(ratio, axis=1)
    return A


def loss_with_breaks_table(a, alpha: float, kmax: int) -> np.ndarray:
    """P(a call finds every one of k teams busy or on a break), k = 0..kmax, along a new last
    axis; ``a`` offered load (Erlangs), ``alpha`` share of on-duty time available.

    Model (``models/dispatch.md``): breaks take ``k (1 - alpha)`` servers' worth of time and
    are never lost (a team on a call takes its break after it), so the k servers carry
    ``a (1 - L) + k (1 - alpha)``; the loss ``L`` is that of the symmetric M/G/k/k system with
    the same occupancy, ``L = B(k, a')`` with ``a' (1 - B(k, a')) = a (1 - B(k, a')) + k (1 -
    alpha)``, i.e. ``(a' - a)(1 - B(k, a')) = k (1 - alpha)`` (monotone in ``a'``: safeguarded
    Newton, :func:`_loss_with_breaks_k`).
    ``alpha = 1`` gives Erlang's ``B(k, a)`` exactly.
    """
    a = np.asarray(a, dtype=float)
    if np.any(a < 0):
        raise ValueError("loss_with_breaks_table needs a >= 0")
    out = np.empty(a.shape + (kmax + 1,))
    out[..., 0] = 1.0
    for k in range(1, kmax + 1):
        out[..., k] = erlang_b(k, a) if alpha >= 1.0 else _loss_with_breaks_k(a, k, alpha)
    return out


#: most safeguarded Newton steps of the breaks equation (it converges in 4-8; a step that would
#: leave the bracket is a bisection step, so 60 would reach the bracket's resolution anyway)
BREAKS_MAX_STEPS = 60
#: a cell stops when its Newton step is below this share of its load (Erlangs): the loss then
#: moves by about as much relatively, far below every tolerance downstream; a tighter rule
#: can stall on rounding noise in f
BREAKS_REL_STEP = 1e-13


def _carried_root(erlang, k, shift: np.ndarray, need: np.ndarray, lo: np.ndarray,
                  hi: np.ndarray, start: np.ndarray, max_steps: int = BREAKS_MAX_STEPS,
                  rel_f: float | None = None) -> np.ndarray:
    """The root ``x`` in ``[lo, hi]`` of ``f(x) = (x - shift) (1 - B(k, x)) - need``, which rises
    in ``x`` (``f(lo) <= 0 <= f(hi)``), cell by cell; ``erlang(x)`` gives ``B(k, x)``.
    Safeguarded Newton from ``start``: ``f'(x) = 1 - B - (x - shift) dB/dx`` with ``dB/dx =
    B (k / x - 1 + B)``; a step outside the bracket bisects it instead. Each cell stops when
    its step is below :data:`BREAKS_REL_STEP` of its iterate and keeps the new iterate, or
    (``rel_f``) when ``|f|`` is below ``rel_f * need`` and keeps its iterate, so a cell's
    result does not depend on the other cells computed with it. Used for the load at
    an occupancy (shift 0) and for the loss with breaks (shift = the load)."""
    lo, hi, x = lo.copy(), hi.copy(), start.copy()
    done = np.zeros(x.shape, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(max_steps):
            b = erlang(x)
            f = (x - shift) * (1.0 - b) - need
            up = f >= 0.0
            hi = np.where(up, x, hi)
            lo = np.where(up, lo, x)
            fp = (1.0 - b) - (x - shift) * b * (k / x - 1.0 + b)
            delta = f / fp
            step = x - delta
            ok = np.isfinite(step)
            # converged: the Newton step is below the resolution (taken; it may touch the
            # bracket's end, which a step that short cannot be told from)
            met = f == 0.0
            if rel_f is not None:  # the equation met to rel_f of its right side: x stays
                met |= np.abs(f) <= rel_f * np.maximum(need, 1e-300)
            stop = met | (ok & (np.abs(delta) <= BREAKS_REL_STEP * np.maximum(x, 1e-300)))
            nxt = np.where(ok & (step > lo) & (step < hi), step, 0.5 * (lo + hi))
            x = np.where(done | met, x, np.where(stop, step, nxt))
            done |= stop
            if done.all():
                break
    return x


def _loss_with_breaks_k(a: np.ndarray, k: int, alpha: float) -> np.ndarray:
    """:func:`loss_with_breaks_table`'s level ``k >= 1`` for the loads ``a`` (``alpha < 1``):
    ``B(k, a')`` at the root ``a'`` of ``f(x) = (x - a)(1 - B(k, x)) - k (1 - alpha)`` on
    ``[a, hi]`` (:func:`_carried_root`, started at ``hi``): f rises from ``-k (1 - alpha)``;
    ``hi`` starts at ``a + k (1 - alpha) / alpha + k`` and doubles its distance from ``a``
    until ``f(hi) >= 0`` (loads far above ``k``). A cell's result does not depend on the
    other cells computed with it (:func:`loss_with_breaks_at` equals the table to the bit)."""
    a = np.asarray(a, dtype=float)
    need = k * (1.0 - alpha)
    hi = a + need / max(alpha, 1e-9) + k
    # f(hi) >= 0 is needed: for loads far above k the root is near a / alpha, beyond that
    # first guess (f -> k alpha > 0 as x grows, so doubling the distance from a ends)
    for _ in range(BREAKS_MAX_STEPS):
        short = (hi - a) * (1.0 - _erlang_b_one(k, hi)) < need
        if not short.any():
            break
        hi = np.where(short, a + 2.0 * (hi - a), hi)
    x = _carried_root(lambda v: _erlang_b_one(k, v), float(k), a, np.full(a.shape, need),
                      a.copy(), hi, start=hi)
    return _erlang_b_one(k, x)


def loss_with_breaks_at(a, alpha: float, k) -> np.ndarray:
    """:func:`loss_with_breaks_table` at one number of teams per cell: ``k`` (int >= 0)
    broadcast against ``a``; the same root-finding and arithmetic cell by cell (equal to the
    table's entry ``[..., k]`` to the last bit), at the cost of one level instead of
    ``kmax``."""
    a = np.asarray(a, dtype=float)
    k = np.asarray(k, dtype=np.int64)
    a, k = np.broadcast_arrays(a, k)
    if alpha >= 1.0:
        return np.asarray(erlang_b(k, a), dtype=float)
    if np.any(k < 0) or np.any(a < 0):
        raise ValueError("loss_with_breaks_at needs k >= 0 and a >= 0")
    out = np.ones(a.shape)
    for kv in np.unique(k[k > 0]).tolist():  # the cells of each count together
        on = k == kv
        out[on] = _loss_with_breaks_k(a[on], kv, alpha)
    return out


def busy_time_survival(step_h: float, horizon_h: float, service_time_hours: float,
                       hospital_share: float, hospital_extra_hours: float,
                       trip_hours: float = 0.0) -> np.ndarray:
    """P(busy time > u) on the grid u = 0, step, ... < horizon (hours): the simulator's busy
    time (``bheard.simulate.engine.service_hours``: gamma(2) on-site part with mean
    ``service_time_hours - hospital_share x hospital_extra_hours``, plus a gamma(2) hospital
    part for a share ``hospital_share``) plus a fixed trip of ``trip_hours``."""
    u = np.arange(0.0, horizon_h, step_h)
    base = service_time_hours - hospital_share * hospital_extra_hours
    x = np.maximum(u - trip_hours, 0.0)

    def gamma2_sf(t, mean):
        th = mean / 2.0
        return np.exp(-t / th) * (1.0 + t / th)

    sf = gamma2_sf(x, base)
    if hospital_share > 0 and hospital_extra_hours > 0:
        # sum of two gamma(2): survival by numeric convolution of the densities on the grid
        fine = step_h / 4.0
        v = np.arange(0.0, horizon_h + fine, fine)
        th1, th2 = base / 2.0, hospital_extra_hours / 2.0
        f1 = v / th1 ** 2 * np.exp(-v / th1)
        f2 = v / th2 ** 2 * np.exp(-v / th2)
        dens = np.convolve(f1, f2)[: v.size] * fine
        cdf = np.cumsum(dens) * fine
        sf_sum = 1.0 - np.interp(x, v, np.minimum(cdf, 1.0))
        sf = (1.0 - hospital_share) * sf + hospital_share * sf_sum
    return np.where(u < trip_hours, 1.0, sf)


def lagged_rates(hourly: np.ndarray, survival: np.ndarray, step_h: float) -> np.ndarray:
    """Lagged arrival rate ``m(t) / E[S]`` on a grid of ``step_h`` hours over the week, with
    ``m(t) = int lambda(t - u) P(S > u) du`` the mean number of calls in service in an
    infinite-server system (Green, Kolesar & Soares 2001, lagged SIPP; Massey & Whitt 1994).

    ``hourly``: (..., 168) calls/hour per hour of week (periodic); ``survival``: P(S > u) on the
    same grid. Returns (..., 168 / step_h) calls/hour: the rate that, at the mean busy time,
    gives the load actually in service at each moment (the past rate, smoothed and delayed).
    """
    hourly = np.asarray(hourly, dtype=float)
    per = int(round(1.0 / step_h))
    grid = np.repeat(hourly, per, axis=-1)  # (..., G) piecewise constant
    G = grid.shape[-1]
    kern = np.zeros(G)
    sv = np.asarray(survival, dtype=float)
    n = min(sv.size, G)
    kern[:n] = sv[:n]
    if sv.size > G:  # fold a tail longer than a week (periodic demand)
        for start in range(G, sv.size, G):
            piece = sv[start:start + G]
            kern[:piece.size] += piece
    kern = kern / max(kern.sum(), 1e-300)
    out = np.fft.irfft(np.fft.rfft(grid, axis=-1) * np.fft.rfft(kern), n=G, axis=-1)
    return np.maximum(out, 0.0)
