"""``python -m python_udfs.report``: see :func:`python_udfs.report.cli.main`."""

import sys

from python_udfs.report.cli import main

sys.exit(main())
