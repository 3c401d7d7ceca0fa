import numpy as np
import pytest

from bheard.queueing import (erlang_b, erlang_b_table, erlang_c, loss_with_breaks_at,
                             loss_with_breaks_table)


@pytest.mark.parametrize("k,a,expected", [
    (0, 3.0, 1.0),          # definition: no server blocks every call
    (1, 1.0, 0.5),          # a/(1+a)
    (2, 1.0, 0.2),          # (a^2/2)/(1+a+a^2/2) = 0.5/2.5
    (10, 5.0, 0.0183846),   # standard Erlang B table value (e.g. Cooper, Intro to Queueing Theory)
])
def test_erlang_b_known_values(k, a, expected):
    """Published / hand-computed Erlang B values."""
    assert erlang_b(k, a) == pytest.approx(expected, abs=5e-8)


def test_erlang_b_matches_closed_form_for_small_k():
    """Recursion equals (a^k/k!) / sum_j a^j/j! computed directly for k <= 12."""
    from math import factorial

    for a in (0.1, 1.7, 6.0, 11.5):
        for k in range(13):
            direct = (a**k / factorial(k)) / sum(a**j / factorial(j) for j in range(k + 1))
            assert erlang_b(k, a) == pytest.approx(direct, rel=1e-12)


def test_erlang_b_stable_up_to_200():
    """k, a up to 200: finite, in (0, 1], decreasing and convex in k (no overflow)."""
    a = np.array([0.01, 1.0, 50.0, 150.0, 200.0])
    t = erlang_b_table(a, 200)
    assert np.all(np.isfinite(t)) and np.all(t >= 0) and np.all(t <= 1)  # B(200, 0.01) ~ 1e-600 underflows to 0
    d = np.diff(t, axis=-1)
    assert np.all(d <= 0)
    assert np.all(np.diff(d, axis=-1) >= -1e-15)  # convex in k: the basis of the exact MIP
    # B(200, 200) ~ 0.0544: asymptotic 1/sqrt(pi a/2) * ... reference value from the recursion
    # cross-checked with log-space evaluation
    from math import lgamma, log, exp

    logs = [j * log(200.0) - lgamma(j + 1) for j in range(201)]
    m = max(logs)
    direct = exp(logs[200] - m) / sum(exp(x - m) for x in logs)
    assert t[-1, 200] == pytest.approx(direct, rel=1e-10)


def test_erlang_b_zero_load():
    """No load: nothing is blocked with one or more servers."""
    assert erlang_b(3, 0.0) == 0.0


def test_erlang_c_known_value():
    """Erlang C(3, 1.5) = 0.2368 (M/M/3 at 50% utilisation; Larson & Odoni 5.5.3 via 1-0.763158)."""
    assert erlang_c(3, 1.5) == pytest.approx(1 - 0.763158, abs=1e-6)


@pytest.mark.parametrize("alpha", [1.0, 0.8, 0.55])
def test_loss_with_breaks_at_each_cells_count_is_the_tables_entry_to_the_bit(alpha):
    """One level per cell (``loss_with_breaks_at``) against the whole table's entry at that
    level: equal to the last bit (the same root-finding and arithmetic), zero teams lose all."""
    rng = np.random.default_rng(3)
    a = rng.uniform(0, 6, (40, 25))
    a[0, :5] = 0.0
    k = rng.integers(0, 7, (40, 25))
    table = loss_with_breaks_table(a, alpha, 6)
    got = loss_with_breaks_at(a, alpha, k)
    assert np.array_equal(got, np.take_along_axis(table, k[..., None], axis=-1)[..., 0])
    assert (got[k == 0] == 1.0).all()


@pytest.mark.parametrize("alpha", [0.95, 0.77, 0.5])
def test_loss_with_breaks_solves_its_defining_equation_at_every_load(alpha):
    """The loss with breaks is ``L = B(k, a')`` with ``(a' - a)(1 - L) = k (1 - alpha)``
    (models/dispatch.md): so ``B(k, a + k (1 - alpha) / (1 - L)) = L`` must hold for every
    load, also far above the number of teams (a = 40 with k = 2), where the root lies near
    ``a / alpha``, beyond the bisection's first bracket (the former bisection returned the
    loss at that bracket's end there: off by up to 0.025 at alpha = 0.5). And the loss falls
    with k and rises with a."""
    rng = np.random.default_rng(7)
    a = np.concatenate([rng.uniform(0, 3, 400), rng.uniform(3, 60, 400), [0.0, 1e-9, 500.0]])
    L = loss_with_breaks_table(a, alpha, 10)
    k = np.arange(1, 11)[None, :]
    a_eff = a[:, None] + k * (1.0 - alpha) / (1.0 - L[:, 1:])
    assert np.allclose(erlang_b(np.broadcast_to(k, a_eff.shape), a_eff), L[:, 1:],
                       rtol=1e-11, atol=1e-15)
    assert (np.diff(L, axis=1) <= 1e-15).all()
    order = np.argsort(a)
    assert (np.diff(L[order], axis=0) >= -1e-15).all()


def test_erlang_b_one_k_equals_the_broadcast_path():
    """The scalar-k recursion returns what the per-cell path returns for the same k."""
    a = np.linspace(0.0, 12.0, 97)
    for k in range(0, 9):
        assert np.array_equal(erlang_b(k, a), erlang_b(np.full(a.shape, k), a))
    assert erlang_b(3, 2.0) == pytest.approx((8 / 6) / (1 + 2 + 2 + 8 / 6))


def test_load_for_occupancy_solves_its_equation_and_the_one_server_closed_form():
    """The load placing k servers at occupancy rho: one server has carried load a / (1 + a),
    so a = rho / (1 - rho) exactly; for every fleet (recursion below CLOSED_FORM_MIN_K teams,
    closed form above) the carried load a (1 - B(k, a)) / k equals rho to 1e-12 relative,
    and an occupancy of 0 needs no load."""
    from bheard.queueing import CLOSED_FORM_MIN_K, carried_load, load_for_occupancy

    rho = np.linspace(0.001, 0.999, 120)
    one = load_for_occupancy(np.ones(rho.size, dtype=int), rho)
    assert np.allclose(one, rho / (1 - rho), rtol=1e-11, atol=0)
    for k in (2, 7, 32, CLOSED_FORM_MIN_K - 1, CLOSED_FORM_MIN_K, 400):
        for closed in (False, True):
            a = load_for_occupancy(np.full(rho.size, k), rho, closed_form=closed)
            occ = carried_load(np.full(rho.size, k), a, closed_form=closed) / k
            assert np.allclose(occ, rho, rtol=1e-12, atol=0), (k, closed)
            assert np.all(a >= rho * k)  # the carried load never exceeds the offered
    assert load_for_occupancy(5, 0.0) == 0.0
