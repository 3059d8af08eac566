"""``python -m python_udfs.generator``: the same as ``cv-generate``."""

import sys

from python_udfs.generator.cli import main

sys.exit(main())
