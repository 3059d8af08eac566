"""python_udfs._imports: first imports of the scientific modules run one
thread at a time (two dbt Python models start together in one process)."""

from __future__ import annotations

import importlib
import subprocess
import sys
import threading
import time

from python_udfs import _imports


def test_imports_through_the_lock_never_overlap(monkeypatch):
    inside, overlaps = [0], []

    def slow_import(name):
        inside[0] += 1
        overlaps.append(inside[0])
        time.sleep(0.05)
        inside[0] -= 1
        return name

    monkeypatch.setattr(_imports.importlib, "import_module", slow_import)
    threads = [
        threading.Thread(target=_imports.import_serially, args=(f"m{n}", "x"))
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 8
    assert max(overlaps) == 1


def test_the_scientific_stack_is_imported_under_the_lock():
    """In a fresh interpreter, importing the clustering package and the
    first CLV name imports scikit-learn and scipy while the lock is held."""
    probe = (
        "import importlib, sys\n"
        "from python_udfs import _imports\n"
        "held = []\n"
        "real = importlib.import_module\n"
        "def spy(name, package=None):\n"
        "    held.append((name, _imports._LOCK._is_owned()))\n"
        "    return real(name, package)\n"
        "_imports.importlib.import_module = spy\n"
        "import python_udfs.clustering\n"
        "from python_udfs.clv import fit_clv_params_from_config\n"
        "print(sorted({n for n, owned in held if owned}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    imported = done.stdout
    expected = ("sklearn.cluster", "scipy.cluster.hierarchy", "python_udfs.clv.tables")
    for name in expected:
        assert f"'{name}'" in imported, imported
    assert importlib.import_module("python_udfs._imports") is _imports
