"""Pure, tested logic behind the customer_value dbt project.

Modules here never import dbt; only ``duckdb_plugin`` imports duckdb.
"""
