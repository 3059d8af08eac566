"""Benchmarks of the customer_value pipeline (project issue 8).

``python -m bench.run`` generates (and caches) synthetic data with the
project's generator, then times three ways of computing the same customer
analytics on it, each in its own subprocess with a time and memory limit:

* ``dbt``: the project itself, a full ``dbt build`` (models and tests);
* ``pandas``: the classic notebook (``bench/pandas_pipeline.py``);
* ``duckdb``: hand-written DuckDB SQL without dbt, the floor for the
  project's approach (``bench/duckdb_floor.py``).

See ``bench/README.md``.
"""
