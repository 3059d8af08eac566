"""Checksums of every mart of a built warehouse, to prove a change left the
marts bit-identical (a refactoring) or to see which marts it changed.

A mart's checksum covers its column names and types and every row, each
row as JSON (DuckDB writes doubles in their shortest round-trip form, so
two doubles that differ in one bit give different text), rows sorted, so
the order a table was written in does not count. The columns that record
the run rather than the data (``RUN_COLUMNS``: computed_at, fitted_at, ...)
are left out.

The expected checksums live in ``tests/fixtures/mart_checksums.json``, one
entry per build that ``test_marts.py`` makes. After a change that is meant
to change marts, rewrite the entry of a build from its warehouse and commit
it with the change that explains it::

    python tests/python/mart_checksums.py WAREHOUSE.duckdb --build fixture \\
        --write tests/fixtures/mart_checksums.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from python_udfs.relations import RUN_COLUMNS, table_names  # noqa: E402

CHECKSUMS_FILE = Path(__file__).resolve().parents[1] / "fixtures"
CHECKSUMS_FILE /= "mart_checksums.json"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def mart_checksums(warehouse: Path) -> dict[str, dict[str, object]]:
    """Rows and checksum of every ``fct_``/``dim_`` table of ``warehouse``."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        out: dict[str, dict[str, object]] = {}
        for table in table_names(conn, ("fct", "dim")):
            columns = conn.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'main' and table_name = ? "
                "order by ordinal_position",
                [table],
            ).fetchall()
            kept = [(name, kind) for name, kind in columns if name not in RUN_COLUMNS]
            fields = ", ".join(f"{_quote(n)} := {_quote(n)}" for n, _ in kept)
            rows, digest = conn.execute(
                f"""
                select count(*), md5(coalesce(string_agg(row_json, chr(10)
                    order by row_json), ''))
                from (
                    select cast(to_json(struct_pack({fields})) as varchar)
                        as row_json
                    from main.{_quote(table)}
                )
                """
            ).fetchone()
            out[table] = {
                "columns": [f"{name} {kind}" for name, kind in kept],
                "rows": rows,
                "md5": digest,
            }
        return out


def expected_checksums(build: str) -> dict[str, dict[str, object]]:
    """The committed checksums of one build (``fixture``, ``online_retail``)."""
    return json.loads(CHECKSUMS_FILE.read_text())["builds"][build]


def differences(
    actual: dict[str, dict[str, object]], expected: dict[str, dict[str, object]]
) -> list[str]:
    """One line per mart that is missing, new, or differs, naming what differs."""
    lines = []
    for table in sorted(set(actual) | set(expected)):
        if table not in actual:
            lines.append(f"{table}: missing from the build")
        elif table not in expected:
            lines.append(f"{table}: new mart, not in {CHECKSUMS_FILE.name}")
        else:
            changed = [
                key
                for key in ("columns", "rows", "md5")
                if actual[table][key] != expected[table][key]
            ]
            if changed:
                lines.append(f"{table}: {', '.join(changed)} differ")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warehouse", type=Path)
    parser.add_argument("--build", required=True, help="entry name, e.g. fixture")
    parser.add_argument("--write", type=Path, help="update this checksums file")
    args = parser.parse_args(argv)
    checksums = mart_checksums(args.warehouse)
    if args.write:
        stored = (
            json.loads(args.write.read_text())
            if args.write.exists()
            else {"builds": {}}
        )
        stored["builds"][args.build] = checksums
        args.write.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
    else:
        print(json.dumps(checksums, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
