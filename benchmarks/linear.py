"""Benchmark: ``weightdecay.linear`` against scikit-learn, in one process, same problems.

Lasso: ``lasso_path`` against ``sklearn.linear_model.lasso_path`` on the same data and the
same grid of 100 λ (scikit-learn's ``Lasso(alpha)`` is the book's objective with
λ = ``alpha``).  The two libraries stop on different criteria (a KKT tolerance here, a
duality gap there), so accuracy is measured the same way for both: the largest KKT
violation over the path, computed with :func:`weightdecay.linear.kkt_violation`.  For each
scikit-learn tolerance our tolerance is its default (``1e-5``) or, if scikit-learn's result
is more accurate than that, scikit-learn's achieved violation, so every row compares at
equal or better accuracy on our side.

Ridge: ``ridge_path`` (one SVD for all λ) against refitting ``ridge`` at every λ.

Each timing is the median of ``REPEATS`` runs after a warm-up run (numba compilation, BLAS
threads), our run and scikit-learn's alternating.  Targets: lasso time ratio <= 1.0 with
KKT violation <= scikit-learn's; ridge speed-up >= 10.

Run with ``python benchmarks/linear.py``.
"""

from __future__ import annotations

import datetime
import os
import platform
import time
import warnings

import numba
import numpy as np
import sklearn
from sklearn.linear_model import lasso_path as sklearn_lasso_path

import weightdecay as wd
from weightdecay.linear import (
    DEFAULT_TOL,
    kkt_violation,
    lambda_max,
    lasso_path,
    ridge,
    ridge_path,
    standardize,
)

REPEATS = 7
N_LAMS = 100
EPS = 1e-3
SKLEARN_TOLS = (1e-4, 1e-6)  # scikit-learn's default duality-gap tolerance, and a tight one


def sparse_problem(n: int, p: int, n_nonzero: int, seed: int):
    """Gaussian design, ``n_nonzero`` true coefficients of size 0.5–2 with random signs, unit noise."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = np.zeros(p)
    support = rng.choice(p, n_nonzero, replace=False)
    beta[support] = rng.choice([-1.0, 1.0], n_nonzero) * rng.uniform(0.5, 2.0, n_nonzero)
    y = X @ beta + rng.standard_normal(n)
    X, y, _ = standardize(X, y)
    return X, y


def problems():
    X, y, _ = wd.data.diabetes(standardized=True)
    yield "diabetes (442 x 10)", X, y
    yield "dense (2000 x 500, 20 true)", *sparse_problem(2000, 500, 20, seed=0)
    yield "wide (200 x 2000, 20 true)", *sparse_problem(200, 2000, 20, seed=1)


def median_times(fns, repeats=REPEATS, warm_up=True):
    """Warm each function up once, then time them alternately; return the median seconds."""
    for fn in fns if warm_up else ():
        fn()
    times = [[] for _ in fns]
    for _ in range(repeats):
        for fn, ts in zip(fns, times):
            start = time.perf_counter()
            fn()
            ts.append(time.perf_counter() - start)
    return [float(np.median(ts)) for ts in times]


def max_kkt(X, y, lams, coefs):
    return max(kkt_violation(X, y, w, lam) for lam, w in zip(lams, coefs))


def sklearn_path(X, y, lams, tol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence shows up in the KKT column
        alphas, coefs, _ = sklearn_lasso_path(X, y, alphas=lams, tol=tol)
    return alphas, coefs.T


def lasso_rows():
    rows = []
    for name, X, y in problems():
        top = lambda_max(X, y)
        lams = top * np.geomspace(1.0, EPS, N_LAMS)
        for sk_tol in SKLEARN_TOLS:
            alphas, sk_coefs = sklearn_path(X, y, lams, sk_tol)
            assert np.allclose(alphas, lams)
            sk_kkt = max_kkt(X, y, lams, sk_coefs)
            our_tol = min(DEFAULT_TOL, sk_kkt / top)
            ours_fn = lambda: lasso_path(X, y, lams, tol=our_tol)  # noqa: E731
            sk_fn = lambda: sklearn_path(X, y, lams, sk_tol)  # noqa: E731
            t_ours, t_sk = median_times([ours_fn, sk_fn])
            _, coefs = ours_fn()
            our_kkt = max_kkt(X, y, lams, coefs)
            rows.append(
                dict(
                    problem=name,
                    sk_tol=sk_tol,
                    our_tol=our_tol,
                    t_ours=t_ours,
                    t_sk=t_sk,
                    ratio=t_ours / t_sk,
                    kkt_ours=our_kkt,
                    kkt_sk=sk_kkt,
                    top=top,
                    ok=(t_ours <= t_sk) and (our_kkt <= sk_kkt),
                )
            )
    return rows


def ridge_rows():
    rows = []
    for name, X, y in problems():
        lams = lambda_max(X, y) * np.geomspace(1.0, EPS, N_LAMS)
        path_fn = lambda: ridge_path(X, y, lams)[1]  # noqa: E731  (ridge_path returns (lams, coefs))
        refit_fn = lambda: np.array([ridge(X, y, lam) for lam in lams])  # noqa: E731
        path_fn()  # warm-up; the refits warm each other up (100 identical calls per run)
        t_path, t_refit = median_times([path_fn, refit_fn], repeats=5, warm_up=False)
        gap = float(np.max(np.abs(path_fn() - refit_fn())))
        rows.append(dict(problem=name, t_path=t_path, t_refit=t_refit, speedup=t_refit / t_path, gap=gap))
    return rows


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main():
    print(f"date      {datetime.date.today().isoformat()}")
    print(f"machine   {cpu_name()}, {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}")
    print(f"versions  numpy {np.__version__}, scikit-learn {sklearn.__version__}, numba {numba.__version__}")
    print(f"grid      {N_LAMS} λ log-spaced from lambda_max to {EPS:g}·lambda_max; median of {REPEATS} runs\n")

    rows = lasso_rows()
    print("lasso path: weightdecay.linear.lasso_path vs sklearn.linear_model.lasso_path")
    header = (
        f"{'problem':<28} {'sk tol':>7} {'our tol':>8} {'ours ms':>9} {'sklearn ms':>10} "
        f"{'ratio':>6} {'KKT ours/λmax':>13} {'KKT sk/λmax':>12}  ok"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['problem']:<28} {r['sk_tol']:>7.0e} {r['our_tol']:>8.1e} {1e3 * r['t_ours']:>9.2f} "
            f"{1e3 * r['t_sk']:>10.2f} {r['ratio']:>6.2f} {r['kkt_ours'] / r['top']:>13.2e} "
            f"{r['kkt_sk'] / r['top']:>12.2e}  {'yes' if r['ok'] else 'NO'}"
        )
    print("(KKT = largest violation of the optimality conditions over the path, divided by lambda_max)\n")

    rrows = ridge_rows()
    print("ridge: ridge_path (one SVD) vs refitting ridge at each of the 100 λ")
    header = f"{'problem':<28} {'path ms':>9} {'refit ms':>9} {'speed-up':>9} {'max |Δw|':>9}"
    print(header)
    print("-" * len(header))
    for r in rrows:
        print(
            f"{r['problem']:<28} {1e3 * r['t_path']:>9.2f} {1e3 * r['t_refit']:>9.2f} "
            f"{r['speedup']:>8.1f}x {r['gap']:>9.1e}"
        )

    lasso_ok = all(r["ok"] for r in rows)
    ridge_ok = all(r["speedup"] >= 10 for r in rrows)
    print(f"\nlasso target (ratio <= 1.0 at equal or better KKT): {'met' if lasso_ok else 'NOT met'}")
    print(f"ridge target (speed-up >= 10): {'met' if ridge_ok else 'NOT met'}")


if __name__ == "__main__":
    main()
