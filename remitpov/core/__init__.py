"""The one copy of each numeric routine and input check the estimators share.

* :mod:`remitpov.core.validate` -- checks at the API boundary (confidence level, interval
  distribution, ``na_rm``, FGT parameters, weights whose sums would overflow) and the one
  numeric-column reader (text cells are an error, never silently missing).

Nothing here imports an estimator module: ``core`` sits below ``design``, ``estimation``,
``poverty`` and ``inequality`` in the import graph (see ``tests/test_imports.py``).
"""
