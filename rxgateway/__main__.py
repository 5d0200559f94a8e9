"""``python -m rxgateway``: the same as the ``rxgateway`` command."""

from .cli import main

raise SystemExit(main())
