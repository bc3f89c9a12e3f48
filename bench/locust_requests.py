"""One Locust process that sends N requests and stops: the child of ``loadgen_instructions.py``.

    python bench/locust_requests.py ChatUser|bare REQUESTS

``ChatUser`` is our user from ``load/locustfile.py`` (its hooks, context and sample
collector as in ``qbtsuite load``; the plan and keys come from ``QBTSUITE_LOAD_PLAN``
and ``QBTSUITE_LOAD_KEYS``), ``bare`` the user of ``bare_locustfile.py`` (``QBT_BENCH_*``).
Sixteen users, closed loop; the process stops as soon as Locust has counted REQUESTS
requests, and prints ``{"requests": ..., "failures": ...}``. It runs under an
instruction counter, so it keeps no timing of its own.
"""

from __future__ import annotations

# isort: off
import locust  # first: it monkey-patches the standard library for gevent

# isort: on

import argparse
import json
import os
import sys
from pathlib import Path

import gevent
from locust import events
from locust.env import Environment

from qbtsuite.resources import data_dir

USERS = 16


def _user_class(kind: str) -> type[locust.User]:
    if kind == "ChatUser":
        sys.path.insert(0, str(data_dir("load")))
        import locustfile

        cls: type[locust.User] = locustfile.ChatUser
        return cls
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bare_locustfile

    return bare_locustfile.BareChatUser


def main() -> None:
    kind, count = sys.argv[1], int(sys.argv[2])
    options = argparse.Namespace(
        qbt_plan=os.environ.get("QBTSUITE_LOAD_PLAN", ""), expect_workers=1, host=None
    )
    env = Environment(
        user_classes=[_user_class(kind)], events=events, parsed_options=options
    )
    runner = env.create_local_runner()
    events.init.fire(environment=env, runner=runner, web_ui=None)  # type: ignore[no-untyped-call]
    runner.start(USERS, spawn_rate=1000)
    while env.stats.total.num_requests < count:
        gevent.sleep(0.01)
    runner.quit()
    total = env.stats.total
    print(json.dumps({"requests": total.num_requests, "failures": total.num_failures}))


if __name__ == "__main__":
    main()
