"""Empty domains: every registered measure gives NaN + EmptyDomainWarning (issue #15).

A domain of ``by=`` whose rows have no usable value (here: every income missing, with
``na_rm=True``) has NaN estimates and SEs and an :class:`EmptyDomainWarning` naming it,
through the one finaliser (:func:`remitpov.core.statistic.finalise`), for poverty, means,
inequality and the convey measures alike. The other domains are unaffected: same answer
by two routes -- the call with the empty domain and the call where the empty domain's
rows are labelled as another domain (where they are unusable, so that domain is the same
set of units) agree on every other domain's estimate and SE.
"""
from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

import remitpov as rp
from remitpov import measures
from remitpov.core.statistic import EmptyDomainWarning

#: same units, same weights, same arithmetic on the other domains; the influence-value
#: matrix only gains zero columns, so sums may be regrouped (observed differences 0)
RTOL = 1e-12
LINE = 9000.0


def _survey(replicates: bool = False):
    rng = np.random.default_rng(3)
    H, P, m = 6, 6, 12
    h = np.repeat(np.arange(H), P * m)
    psu = np.repeat(np.arange(H * P), m)
    y = np.exp(9 + rng.normal(0, 0.3, H * P)[psu] + rng.normal(0, 0.6, h.size))
    g = rng.choice(np.array(["a", "b", "c"]), h.size)
    y_nan = np.where(g == "b", np.nan, y)
    df = pd.DataFrame({"stratum": h, "psu": psu, "w": rng.uniform(50, 150, h.size), "y": y_nan,
                       "y2": y_nan * rng.uniform(0.7, 1.0, h.size), "age": rng.integers(0, 90, h.size),
                       "g": g, "g_merged": np.where(g == "b", "c", g)})
    s = rp.Survey(df, weight="w", strata="stratum", psu="psu", unit="person")
    return s.with_replicates("bootstrap", 20, seed=2) if replicates else s


def _call(m, s, by):
    """The measure's public function on ``s`` by ``by``, its required arguments from its signature."""
    fn = getattr(rp, m.function)
    params = inspect.signature(fn).parameters
    args = {"income": "y", "variables": "y", "numerator": "y", "denominator": "y2", "line": LINE, "age": "age"}
    pos = []
    for name, par in list(params.items())[1:]:
        if name == "by":
            break
        if par.default is inspect.Parameter.empty:
            assert name in args, f"{m.name}: add its required argument {name!r} to this test"
            pos.append(args[name])
    return fn(s, *pos, by=by, na_rm=True, deff=False)


def _check(f, fr, col="g"):
    """Frames ``f`` (by g, with the empty domain b) and ``fr`` (by g_merged): b is NaN, the rest equal."""
    empty = f[col] == "b"
    assert empty.any() and f.loc[empty, ["estimate", "se"]].isna().all().all()
    rest = f[~empty].reset_index(drop=True)
    fr = fr.rename(columns={"g_merged": col}).reset_index(drop=True)
    assert (rest[col].to_numpy() == fr[col].to_numpy()).all()
    assert rest[["estimate", "se"]].notna().all().all()
    np.testing.assert_allclose(rest["estimate"], fr["estimate"], rtol=RTOL)
    np.testing.assert_allclose(rest["se"], fr["se"], rtol=RTOL)


@pytest.mark.parametrize("replicates", [False, True], ids=["linearised", "replicates"])
@pytest.mark.parametrize("name", measures.names())
def test_every_measure_empty_domain_is_nan_with_warning(name, replicates):
    m = measures.get(name)
    s = _survey(replicates)
    with pytest.warns(EmptyDomainWarning, match=r"no unit of positive weight \(e\.g\. .*'g': 'b'.*drop or merge"):
        t = _call(m, s, "g")
    with warnings.catch_warnings():
        warnings.simplefilter("error", EmptyDomainWarning)
        ref = _call(m, s, "g_merged")
    _check(t.to_frame(), ref.to_frame())


@pytest.mark.parametrize("name", measures.names(joint=True))
def test_compare_empty_domain_is_nan_with_warning(name):
    """compare (and compare_inequality) on two concepts: the empty domain's rows, differences included."""
    s = _survey()
    poverty = measures.get(name).family == "poverty"
    kw = dict(line=LINE) if poverty else {}
    with pytest.warns(EmptyDomainWarning, match="'g': 'b'"):
        t = rp.compare(s, {"one": "y", "two": "y2"}, by="g", measure=name, na_rm=True, deff=False, **kw)
    ref = rp.compare(s, {"one": "y", "two": "y2"}, by="g_merged", measure=name, na_rm=True, deff=False, **kw)
    assert set(t.to_frame().loc[lambda f: f.g == "b", "concept"]) == {"one", "two", "one - two"}
    _check(t.to_frame(), ref.to_frame())


def test_every_domain_empty_is_an_input_error():
    s = _survey()
    s = s.with_columns(y_all=np.full(s.n, np.nan))
    for fn in (rp.gini, rp.rmpg):
        with pytest.raises(rp.InputError, match="no usable observation|no observation with a positive weight"):
            fn(s, "y_all", by="g", na_rm=True, deff=False)


def test_curves_and_gini_decomposition_empty_domain_is_nan_with_warning():
    """lorenz, concentration_curve and gini_decomposition (not registry measures) follow the same rule."""
    s = _survey()
    calls = {
        "lorenz": lambda by: rp.lorenz(s, "y", points=4, by=by, na_rm=True, deff=False),
        "generalized_lorenz": lambda by: rp.lorenz(s, "y", points=4, by=by, generalized=True, na_rm=True,
                                                   deff=False),
        "concentration": lambda by: rp.concentration_curve(s, "y2", "y", points=4, by=by, na_rm=True, deff=False),
        "decomposition": lambda by: rp.gini_decomposition(s, {"one": "y2", "two": "y"}, by=by, na_rm=True,
                                                          deff=False).to_frame(),
    }
    for name, call in calls.items():
        with pytest.warns(EmptyDomainWarning, match="'g': 'b'"):
            f = call("g")
        _check(f, call("g_merged"))
