from __future__ import annotations

from qbtsuite.cli import entry

entry()
