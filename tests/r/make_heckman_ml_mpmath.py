"""Independent high-precision reference for the Heckman ML fit on Mroz (PSID1976).

R's sampleSelection is not packaged for Debian, so the reference for
``Heckman.fit("ml")`` standard errors is computed here, independently of remitpov:

* the bivariate-normal selection log-likelihood is written from its textbook form
  (Heckman 1979; Stata ``heckman``) with mpmath at 40 significant digits;
* the MLE is found by Newton's method with the gradient and Hessian both taken by
  central finite differences of the log-likelihood VALUES at that precision (step 1e-12
  for the gradient and 1e-9 for the Hessian: truncation errors ~1e-24 and ~1e-18,
  rounding ~1e-28 and ~1e-22), started from a plain probit + OLS (not from remitpov);
* the covariance is the inverse of minus that Hessian at the optimum (observed
  information, OIM, as Stata).

Parameters are ordered as in remitpov: outcome (Intercept, educ, exper, expersq),
selection (Intercept, nwifeinc, educ, exper, expersq, age, kidslt6, kidsge6), athrho,
lnsigma. Run from the repository root (takes a few minutes):

    REMITPOV_SHARED=../shared python tests/r/make_heckman_ml_mpmath.py

Writes fixtures/heckman_ml_mroz.json.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import mpmath as mp
import numpy as np
import pandas as pd

mp.mp.dps = 40

shared = Path(os.environ.get("REMITPOV_SHARED", "../shared"))
d = pd.read_csv(shared / "data" / "econ" / "PSID1976.csv.gz")
s = (d["participation"] == "yes").to_numpy()
educ = d["education"].to_numpy(float)
exper = d["experience"].to_numpy(float)
nwifeinc = ((d["fincome"] - d["hours"] * d["wage"]) / 1000).to_numpy(float)
X = np.column_stack([np.ones(len(d)), educ, exper, exper**2])
Z = np.column_stack([np.ones(len(d)), nwifeinc, educ, exper, exper**2, d["age"], d["youngkids"], d["oldkids"]])
y = np.where(s, np.log(d["wage"].where(d["wage"] > 0).fillna(1.0)), 0.0)
k, m = X.shape[1], Z.shape[1]
p = k + m + 2
# exact decimal -> mpf conversion of the float64 data (the data are what float64 holds)
Xm = [[mp.mpf(float(v)) for v in row] for row in X]
Zm = [[mp.mpf(float(v)) for v in row] for row in Z]
ym = [mp.mpf(float(v)) for v in y]
LOG2PI = mp.log(2 * mp.pi)


def loglik(theta):
    b, g, tau, ls = theta[:k], theta[k:k + m], theta[k + m], theta[k + m + 1]
    rho, sig = mp.tanh(tau), mp.exp(ls)
    sq = mp.sqrt(1 - rho**2)
    tot = mp.mpf(0)
    for i in range(len(ym)):
        q = mp.fsum(Zm[i][j] * g[j] for j in range(m))
        if s[i]:
            r = (ym[i] - mp.fsum(Xm[i][j] * b[j] for j in range(k))) / sig
            tot += -LOG2PI / 2 - r * r / 2 - ls + mp.log(mp.ncdf((q + rho * r) / sq))
        else:
            tot += mp.log(mp.ncdf(-q))
    return tot


def gradient(theta, h=mp.mpf("1e-12")):
    g = []
    for j in range(p):
        e = [mp.mpf(0)] * p
        e[j] = h
        g.append((loglik([a + b for a, b in zip(theta, e)]) - loglik([a - b for a, b in zip(theta, e)])) / (2 * h))
    return mp.matrix(g)


def hessian(theta, h=mp.mpf("1e-9")):
    H = mp.matrix(p, p)
    f0 = loglik(theta)

    def at(i, si, j, sj):
        t = list(theta)
        t[i] += si * h
        t[j] += sj * h
        return loglik(t)

    for i in range(p):
        H[i, i] = (at(i, 1, i, 1) - 2 * f0 + at(i, -1, i, -1)) / (4 * h * h)
        for j in range(i + 1, p):
            H[i, j] = H[j, i] = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h * h)
    return H


def start():
    import statsmodels.api as sm

    g0 = sm.Probit(s.astype(float), Z).fit(disp=0, tol=1e-12).params
    b0 = np.linalg.lstsq(X[s], y[s], rcond=None)[0]
    sig0 = np.std(y[s] - X[s] @ b0)
    return [mp.mpf(float(v)) for v in np.concatenate([b0, g0, [0.0, np.log(sig0)]])]


theta = start()
for it in range(30):
    H = hessian(theta)
    gr = gradient(theta)
    step = mp.lu_solve(-H, gr)
    # step halving keeps the likelihood increasing from the plain start
    t, cur = mp.mpf(1), loglik(theta)
    while loglik([a + t * b for a, b in zip(theta, step)]) < cur and t > 1e-6:
        t /= 2
    theta = [a + t * b for a, b in zip(theta, step)]
    gmax = max(abs(v) for v in gradient(theta))
    print(f"iteration {it + 1}: max |gradient| = {mp.nstr(gmax, 5)}", file=sys.stderr)
    if gmax < mp.mpf("1e-20"):
        break
H = hessian(theta)
V = mp.inverse(-H)
names = (["Intercept", "educ", "exper", "expersq"]
         + [f"selection:{n}" for n in ("Intercept", "nwifeinc", "educ", "exper", "expersq", "age", "kidslt6",
                                      "kidsge6")] + ["athrho", "lnsigma"])
out = {
    "meta": {
        "generator": "tests/r/make_heckman_ml_mpmath.py",
        "method": ("mpmath (40 digits): Newton on the bivariate-normal selection log-likelihood with "
                   "finite-difference gradient (h=1e-12) and Hessian (h=1e-9) of log-likelihood values; "
                   "covariance = inverse of minus the Hessian (OIM)"),
        "data": "data/econ/PSID1976.csv.gz (Mroz 1987, 753 women, 428 in the labour force)",
        "model": "lwage ~ educ + exper + expersq; inlf ~ nwifeinc + educ + exper + expersq + age + kidslt6 + kidsge6",
        "mpmath": mp.__version__,
        "max_abs_gradient": float(max(abs(v) for v in gradient(theta))),
    },
    "loglik": float(loglik(theta)),
    "params": {n: float(v) for n, v in zip(names, theta)},
    "std_errors": {n: float(mp.sqrt(V[j, j])) for j, n in enumerate(names)},
    # 20 significant digits as strings for anyone checking beyond float64
    "std_errors_20": {n: mp.nstr(mp.sqrt(V[j, j]), 20) for j, n in enumerate(names)},
}
Path("fixtures/heckman_ml_mroz.json").write_text(json.dumps(out, indent=2) + "\n")
print(json.dumps(out["std_errors"], indent=1))
