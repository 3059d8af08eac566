"""One lock for importing the scientific modules, so no two threads race.

dbt runs two Python models at once in one interpreter (``threads: 2``), and
DuckDB calls the scoring functions from threads of its own. CPython imports
each module under a lock of its own, but scipy and scikit-learn import each
other in cycles, and when two threads enter such a cycle from different
ends CPython gives one of them a partially initialised module rather than
deadlock: a build then failed now and then (here about once in forty) with
``cannot import name 'euclidean' from partially initialized module
'scipy.spatial.distance' (most likely due to a circular import)``, when
the clustering and the CLV models started together. Every first import of
a module that pulls in scipy or scikit-learn goes through
:func:`import_serially`, so those imports run one thread at a time.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

__all__ = ["import_serially"]

# Reentrant: a module imported under it may itself import through it.
_LOCK = threading.RLock()


def import_serially(*names: str) -> list[ModuleType]:
    """Import the modules ``names``, one thread at a time; return them.

    Cheap once they are imported (a dict look-up under an uncontended lock).
    """
    with _LOCK:
        return [importlib.import_module(name) for name in names]
