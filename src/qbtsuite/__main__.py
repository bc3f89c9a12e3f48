from __future__ import annotations

from qbtsuite.cli import main

raise SystemExit(main())
