"""``python -m rxgateway``: the same as the ``rxgateway`` command."""

from .tools.cli import main

raise SystemExit(main())
