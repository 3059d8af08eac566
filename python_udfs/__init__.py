"""Pure, tested logic behind the customer_value dbt project.

Modules here never import dbt; only ``duckdb_plugin`` (the SQL functions) and
``report`` (which reads the warehouse) import duckdb.
"""
