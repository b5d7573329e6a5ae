"""The one copy of each numeric routine and input check the estimators share.

* :mod:`remitpov.core.validate` -- checks at the API boundary (confidence level, interval
  distribution, ``na_rm``, ``deff``, FGT parameters, weights whose sums would overflow)
  and the one numeric-column reader (text cells are an error, never silently missing).
* :mod:`remitpov.core.inputs` -- design resolution (an empty survey is refused here),
  numeric columns and the ``na_rm`` rule (:func:`~remitpov.core.inputs.usable_columns`),
  one domain variable's codes, :func:`~remitpov.core.inputs.is_dask`.
* :mod:`remitpov.core.domains` -- the domain factoriser (one or several ``by`` variables),
  domain masks and the whole-sample row of ``total=``.
* :mod:`remitpov.core.gini` -- the weighted Gini of a vector and its influence values (Sen, SST).
* :mod:`remitpov.core.quantile` -- weighted quantiles and the one set of rule names.
* :mod:`remitpov.core.ranked` -- the ranking behind the rank-based inequality measures (tie
  blocks, weighted mid-ranks), concentration coefficients and partial sums below population
  shares, with their influence values.
* :mod:`remitpov.core.density` -- kernel densities and bandwidths (convey, Silverman).
* :mod:`remitpov.core.jacobian` -- the complex-step Jacobian (delta method).
* :mod:`remitpov.core.statistic` -- :class:`~remitpov.core.statistic.Statistic` (a measure's
  estimates and influence values before the variance) and the ONE finaliser
  :func:`~remitpov.core.statistic.finalise` (variance path, design effects, CIs, empty and
  single-PSU domains).

``core`` imports no estimator module (``estimation``, ``poverty``, ``inequality``,
``distributed``): it sits below them in the import graph (``tests/test_imports.py``).
"""
