"""The hand-off from ``qbtsuite run`` to the pytest session it starts in-process.

``qbtsuite run`` resolves the target itself (it prints it, probes it, owns the
embedded server) and passes :class:`TargetHandoff` in ``pytest.main(plugins=[...])``.
Its ``pytest_configure`` runs first and puts the target in ``config.stash`` under
:data:`HANDED_OVER`; the plugin's run state takes it from there instead of resolving
the target again. A plain ``pytest conformance`` session has no hand-off: the plugin
resolves the target from its ``--qbt-*`` options. pytest-xdist workers get the target
from the controller through ``workerinput`` (see :mod:`qbtsuite.harness.state`).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qbtsuite.target.config import TargetConfig

__all__ = ["HANDED_OVER", "TargetHandoff"]

# None: a dry run, which needs no target.
HANDED_OVER = pytest.StashKey[TargetConfig | None]()


@dataclass(frozen=True, eq=False)  # hashed by identity: pluggy keeps plugins in sets
class TargetHandoff:
    """The target ``qbtsuite run`` resolved, for the plugin of the session it starts."""

    target: TargetConfig | None

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[HANDED_OVER] = self.target
