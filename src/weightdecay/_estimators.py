r"""scikit-learn estimators on the book's solvers: ``Ridge``, ``Lasso`` and ``ElasticNet``.

Public through :mod:`weightdecay.linear` (``wd.linear.Ridge`` ...); kept in their own module
so that ``import weightdecay.linear`` does not import scikit-learn.

Each minimises, over ``w`` and an intercept ``b``,

.. math::

    \frac{1}{2n}\lVert y - Xw - b\rVert_2^2 + \lambda R(w),

with the book's :math:`R` (ridge: :math:`\tfrac12\lVert w\rVert_2^2`; lasso:
:math:`\lVert w\rVert_1`; elastic net: :math:`\rho\lVert w\rVert_1 +
\tfrac{1-\rho}{2}\lVert w\rVert_2^2`, :math:`\rho` = ``l1_ratio``).  The intercept is not
penalised, so it is fitted by centring: :math:`w` solves the centred problem and
:math:`b = \bar y - \bar x^\top w`.  In scikit-learn's parametrisation these are
``sklearn.linear_model.Ridge(alpha=n * lam)``, ``Lasso(alpha=lam)`` and
``ElasticNet(alpha=lam, l1_ratio=l1_ratio)``.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from . import linear
from .validation import check_lambda

__all__ = ["Ridge", "Lasso", "ElasticNet"]


class _BookLinearModel(RegressorMixin, BaseEstimator):
    """Shared fit/predict: validation, centring for the intercept, one solver call."""

    def _solve(self, X, y):  # pragma: no cover - each subclass defines it
        raise NotImplementedError

    def _coordinate_descent(self, X, y, l1_ratio):
        """The solver of :func:`weightdecay.linear.elastic_net`; records ``n_iter_``."""
        X, y, tol, max_iter, precompute, _ = linear._validate_solver_args(X, y, self.tol, self.max_iter, "auto")
        l1_ratio = linear._check_l1_ratio(l1_ratio)
        lam = np.array([check_lambda(self.lam)])
        fit = linear._fit_path(X, y, lam, l1_ratio, None, tol, max_iter, precompute, type(self).__name__)
        self.n_iter_ = int(fit.n_sweeps[0])  # 0 when w = 0 already satisfies the KKT conditions
        return fit.coefs[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # With an L1 penalty the default lam = 1 zeroes every coefficient of standardised
        # data (|x_j^T y| / n <= 1 for unit-variance y), as scikit-learn's Lasso(alpha=1)
        # does: scikit-learn's checks must not expect a good fit at the default.
        tags.regressor_tags.poor_score = self._l1_penalty
        return tags

    def fit(self, X, y):
        """Fit the coefficients ``coef_`` and the intercept ``intercept_``.

        With ``fit_intercept=True`` the columns of ``X`` and ``y`` are centred, the book's
        solver is run on the centred data, and ``intercept_ = y.mean() - X.mean(0) @ coef_``;
        the intercept is not penalised.  With ``fit_intercept=False`` the solver sees ``X``
        and ``y`` as given and fits through the origin, without the
        :class:`~weightdecay.linear.UncenteredDataWarning` of the functional solvers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training design, in any units: no centring is needed.  Scale it (for example
            with ``StandardScaler`` in a ``Pipeline``) if the penalty should treat the
            features alike.
        y : array-like of shape (n_samples,)
            Training response.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        ValueError
            If ``lam`` is negative (or, for the elastic net, ``l1_ratio`` lies outside
            [0, 1]), or if ``X`` or ``y`` contain NaN or infinity or have different numbers
            of rows.
        """
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64)
        check_lambda(self.lam)
        if self.fit_intercept:
            x_mean, y_mean = X.mean(axis=0), float(y.mean())
            self.coef_ = self._solve(X - x_mean, y - y_mean)
            self.intercept_ = y_mean - float(x_mean @ self.coef_)
        else:
            self.coef_ = self._solve(X, y)
            self.intercept_ = 0.0
        return self

    def predict(self, X):
        """Predictions ``X @ coef_ + intercept_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Design in the units of the training data, with its number of features.

        Returns
        -------
        ndarray of shape (n_samples,)
            The predicted responses.

        Raises
        ------
        sklearn.exceptions.NotFittedError
            If the estimator has not been fitted.
        ValueError
            If ``X`` has a different number of features from the training data.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        return X @ self.coef_ + self.intercept_


class Ridge(_BookLinearModel):
    r"""Ridge regression with an intercept, at the book's λ.

    Minimises :math:`\frac{1}{2n}\lVert y - Xw - b\rVert^2 + \frac{\lambda}{2}\lVert w\rVert^2`
    with :func:`weightdecay.linear.ridge` (one SVD).  Equal to scikit-learn's
    ``Ridge(alpha=n * lam)``.

    Parameters
    ----------
    lam : float, default 1.0
        Penalty strength λ ≥ 0 (``lam = 0`` is minimum-norm least squares).
    fit_intercept : bool, default True
        Fit an unpenalised intercept (by centring ``X`` and ``y``).

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The coefficients :math:`w`, in the units of the data passed to ``fit``.
    intercept_ : float
        The intercept :math:`b` (0.0 with ``fit_intercept=False``).
    n_features_in_ : int
        Number of features seen by ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import Ridge
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = Ridge(lam=0.0).fit(X, 10 + 2 * X[:, 0])
    >>> round(model.intercept_, 6), np.round(model.coef_, 6)
    (10.0, array([2.]))
    >>> np.round(model.predict([[4.0]]), 6)
    array([18.])

    On uncentred data it agrees with scikit-learn at ``alpha = n * lam``:

    >>> from sklearn import linear_model
    >>> from weightdecay.conventions import sklearn_ridge_alpha_from_lam
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(loc=5.0, size=(30, 3))
    >>> y = 100 + X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=30)
    >>> ours = Ridge(lam=0.1).fit(X, y)
    >>> alpha = sklearn_ridge_alpha_from_lam(0.1, n_samples=30)
    >>> ref = linear_model.Ridge(alpha=alpha).fit(X, y)
    >>> bool(np.abs(ours.coef_ - ref.coef_).max() < 1e-8)
    True
    >>> bool(abs(ours.intercept_ - ref.intercept_) < 1e-8)
    True
    """

    _l1_penalty = False

    def __init__(self, lam=1.0, *, fit_intercept=True):
        self.lam = lam
        self.fit_intercept = fit_intercept

    def _solve(self, X, y):
        # without the functional ridge's check for uncentred data: fit() has centred them,
        # or fit_intercept=False asks for a fit through the origin explicitly
        return linear._ridge_coefs(X, y, self.lam)[0]


class Lasso(_BookLinearModel):
    r"""The lasso with an intercept, at the book's λ, by coordinate descent.

    Minimises :math:`\frac{1}{2n}\lVert y - Xw - b\rVert^2 + \lambda\lVert w\rVert_1` with
    :func:`weightdecay.linear.lasso`.  Equal to scikit-learn's ``Lasso(alpha=lam)``.

    Parameters
    ----------
    lam : float, default 1.0
        Penalty strength λ ≥ 0.
    fit_intercept : bool, default True
        Fit an unpenalised intercept (by centring ``X`` and ``y``).
    tol : float, default 1e-5
        Relative KKT tolerance of the solver (see :func:`weightdecay.linear.lasso`).
    max_iter : int, default 10000
        Maximum number of coordinate-descent sweeps.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The coefficients :math:`w`; exactly zero for the features the lasso leaves out.
    intercept_ : float
        The intercept :math:`b` (0.0 with ``fit_intercept=False``).
    n_iter_ : int
        Coordinate-descent sweeps used (0 when :math:`w = 0` already satisfies the
        optimality conditions).
    n_features_in_ : int
        Number of features seen by ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import Lasso
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3))
    >>> y = 5 + 3 * X[:, 0] + 0.1 * rng.normal(size=50)
    >>> model = Lasso(lam=0.5).fit(X, y)
    >>> int(np.count_nonzero(model.coef_))
    1
    >>> bool(abs(model.intercept_ - 5) < 0.2)
    True
    """

    _l1_penalty = True

    def __init__(self, lam=1.0, *, fit_intercept=True, tol=linear.DEFAULT_TOL, max_iter=linear.DEFAULT_MAX_ITER):
        self.lam = lam
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _solve(self, X, y):
        return self._coordinate_descent(X, y, 1.0)


class ElasticNet(_BookLinearModel):
    r"""The elastic net with an intercept, at the book's λ, by coordinate descent.

    Minimises :math:`\frac{1}{2n}\lVert y - Xw - b\rVert^2 + \lambda\big(\rho\lVert
    w\rVert_1 + \frac{1-\rho}{2}\lVert w\rVert_2^2\big)` with
    :func:`weightdecay.linear.elastic_net`, :math:`\rho` = ``l1_ratio``.  Equal to
    scikit-learn's ``ElasticNet(alpha=lam, l1_ratio=l1_ratio)``.

    Parameters
    ----------
    lam : float, default 1.0
        Penalty strength λ ≥ 0.
    l1_ratio : float in [0, 1], default 0.5
        Share of the L1 penalty (1: lasso, 0: ridge).
    fit_intercept : bool, default True
        Fit an unpenalised intercept (by centring ``X`` and ``y``).
    tol : float, default 1e-5
        Relative KKT tolerance of the solver.
    max_iter : int, default 10000
        Maximum number of coordinate-descent sweeps.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        The coefficients :math:`w`, in the units of the data passed to ``fit``.
    intercept_ : float
        The intercept :math:`b` (0.0 with ``fit_intercept=False``).
    n_iter_ : int
        Coordinate-descent sweeps used (0 when :math:`w = 0` already satisfies the
        optimality conditions).
    n_features_in_ : int
        Number of features seen by ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from weightdecay.linear import ElasticNet
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 3))
    >>> y = 5 + 3 * X[:, 0] + 0.1 * rng.normal(size=50)
    >>> model = ElasticNet(lam=0.5, l1_ratio=0.9).fit(X, y)
    >>> bool(model.score(X, y) > 0.9)
    True
    """

    _l1_penalty = True

    def __init__(
        self, lam=1.0, *, l1_ratio=0.5, fit_intercept=True, tol=linear.DEFAULT_TOL, max_iter=linear.DEFAULT_MAX_ITER
    ):
        self.lam = lam
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter

    def _solve(self, X, y):
        return self._coordinate_descent(X, y, self.l1_ratio)
