"""The README's shell examples work as written.

Every command of every ``sh`` block of README.md runs, in README order, in
one bash session in a fresh clone of this repository (its committed HEAD),
with an environment cleaned of this checkout's venv, dbt and CV_ variables,
exactly as a new user would type them. The only commands not run are listed
in ``NOT_RUN`` with the reason; an entry that no longer matches a README
command fails the test, so the list cannot rot.

The user's download step is done by the test: the real Online Retail and
REES46 files (``../shared/data``) are linked into the clone's ``data/`` under
the names the README uses. When they are absent, the commands that read them
are left out with a warning naming the file, and the rest still runs.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import warnings
from pathlib import Path

import duckdb
from conftest import EVENTS_SAMPLE, ONLINE_RETAIL, PROJECT_DIR

README = PROJECT_DIR / "README.md"

# Command prefix -> why it is not run.
NOT_RUN = {
    "make test": "it is the command that runs this test",
    "dbt docs serve": "a web server that runs until stopped",
    "0 2 * * *": "a crontab entry for a server (its /srv and /data paths)",
}

# Data a command needs (README path -> file the test links there).
DOWNLOADS = {
    "data/online_retail.csv": ONLINE_RETAIL,
    "data/2019-*.csv": EVENTS_SAMPLE,
}

EXAMPLE_TIMEOUT_SECONDS = 45 * 60


def readme_commands(text: str) -> list[str]:
    """The commands of the ``sh`` blocks, in order: one per logical line
    (backslash continuations joined), comment-only lines left out."""
    commands = []
    for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
        logical = ""
        for line in block.splitlines():
            logical += line.strip() if logical else line.rstrip()
            if logical.endswith("\\"):
                logical = logical[:-1].rstrip() + " "
                continue
            if logical.strip() and not logical.lstrip().startswith("#"):
                commands.append(logical.strip())
            logical = ""
    return commands


def _without_comment(command: str) -> str:
    return re.sub(r"\s+#\s.*$", "", command)


def _skip_reason(command: str) -> str | None:
    for prefix, reason in NOT_RUN.items():
        if _without_comment(command).startswith(prefix):
            return reason
    return None


def test_readme_commands_are_found_and_every_not_run_entry_is_used():
    commands = readme_commands(README.read_text())
    assert "make build" in [_without_comment(c) for c in commands]
    assert any(c.startswith("source .venv/bin/activate") for c in commands)
    assert any("input_format: online_retail" in c for c in commands)
    for prefix in NOT_RUN:
        assert any(_without_comment(c).startswith(prefix) for c in commands), (
            f"NOT_RUN entry {prefix!r} matches no README command: remove it"
        )


def test_readme_commands_parser_joins_continuations_and_drops_comments():
    text = "x\n```sh\n# note\nfoo \\\n  --bar  # why\nbaz\n```\n```sql\nno\n```\n"
    assert readme_commands(text) == ["foo --bar  # why", "baz"]


def _clean_env(home: Path) -> dict[str, str]:
    venv_bin = str(PROJECT_DIR / ".venv" / "bin")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CV_", "DBT_", "MAKE", "PYTEST"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH", "MFLAGS"}
    }
    env["PATH"] = os.pathsep.join(
        part
        for part in os.environ.get("PATH", "").split(os.pathsep)
        if part != venv_bin
    )
    env["HOME"] = str(home)
    return env


def test_readme_examples_run_in_order_in_a_fresh_clone(tmp_path):
    clone = tmp_path / "customer_value"
    subprocess.run(
        ["git", "clone", "--quiet", str(PROJECT_DIR), str(clone)], check=True
    )
    (tmp_path / "home").mkdir()

    missing = {}
    for readme_path, source in DOWNLOADS.items():
        if source.exists():
            target = clone / readme_path.replace("*", "Oct")
            target.symlink_to(source)
        else:
            missing[readme_path] = source

    script = ["set -euo pipefail"]
    ran = []
    for number, command in enumerate(readme_commands(README.read_text()), 1):
        reason = _skip_reason(command)
        needs = [path for path in missing if path in command]
        if reason is None and needs:
            reason = f"needs {missing[needs[0]]}, which is absent"
            warnings.warn(f"README example not run: {command} ({reason})", stacklevel=1)
        if reason is not None:
            continue
        ran.append(command)
        script.append(f"echo {shlex.quote(f'>>> README example {number}: {command}')}")
        script.append(command)
    script.append("echo '>>> all README examples passed'")

    log = tmp_path / "readme_examples.log"
    with log.open("w") as out:
        result = subprocess.run(
            ["bash", "-c", "\n".join(script)],
            cwd=clone,
            env=_clean_env(tmp_path / "home"),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=EXAMPLE_TIMEOUT_SECONDS,
            check=False,
        )
    output = log.read_text()
    started = re.findall(r"^>>> README example \d+: .*$", output, flags=re.M)
    assert result.returncode == 0, (
        f"{started[-1] if started else 'setup'} failed "
        f"(exit {result.returncode}); last output:\n{output[-6000:]}"
    )
    assert len(started) == len(ran)

    # What the examples left behind: the report of make build, the 10M-line
    # generated data, and a warehouse whose last build read the sample again.
    assert (clone / "reports" / "customer_value.html").stat().st_size > 0
    assert (clone / "data" / "big" / "order_lines.parquet").exists()
    serving = clone / "warehouse" / "customer_value_serving.duckdb"
    with duckdb.connect(str(serving), read_only=True) as con:
        inputs = con.execute(
            "select distinct input_format, input_path from fct_input_summary"
        ).fetchall()
        customers = con.execute("select count(*) from dim_customers").fetchone()[0]
    assert inputs == [("transactions", "data/sample/order_lines.parquet")]
    assert customers > 10_000
