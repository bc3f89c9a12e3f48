"""The lines that tell the user how the run was throttled, and what to set about it."""

from __future__ import annotations

from qbtsuite.results.model import RunResults, ThrottleTotals

__all__ = ["pace_estimate", "throttle_lines"]


def _keys(roles: tuple[str, ...]) -> str:
    names = [r.replace("_", "-") if r else "unkeyed" for r in roles]
    if len(names) == 1:
        return f"the {names[0]} key" if roles[0] else "requests without a key"
    return "the " + ", ".join(names[:-1]) + f" and {names[-1]} keys"


def _minutes(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min"


def pace_estimate(rpm: int, planned: int) -> str:
    """What pacing the main key at ``rpm`` per minute costs a plan of ``planned``
    requests (an upper bound: some of them use other keys)."""
    minutes = max(0, planned - rpm) / rpm
    took = f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return (
        f"the main key's requests are spaced to {rpm} per minute "
        f"(QBTSUITE_MAIN_KEY_RPM): up to {took} for the {planned} planned requests"
    )


def _advice(totals: ThrottleTotals) -> str:
    wait = totals.max_throttle_wait
    bound = (
        f"--max-throttle-wait (now {wait:g} s)"
        if wait is not None
        else ("--max-throttle-wait")
    )
    rpm = totals.main_key_rpm
    if "main" not in totals.roles:
        return f"raise {bound}"
    if rpm:
        return f"lower QBTSUITE_MAIN_KEY_RPM (now {rpm}) or raise {bound}"
    return (
        "declare its limit with QBTSUITE_MAIN_KEY_RPM=<requests per minute> "
        f"(--main-key-rpm) or raise {bound}"
    )


def throttle_lines(results: RunResults) -> list[str]:
    """At most three lines: waits, pacing, and what could not be judged and why."""
    totals = results.run.throttle
    lines = []
    if totals.answers:
        lines.append(
            f"throttle waited {_minutes(totals.waited)} out for "
            f"{totals.answers} throttle answer(s), each request sent again"
        )
    if totals.paced >= 1:
        lines.append(
            f"pace     {_minutes(totals.paced)} spacing the main key's "
            f"requests (QBTSUITE_MAIN_KEY_RPM={totals.main_key_rpm})"
        )
    tests = totals.tests_without_evidence
    if tests:
        roles, statuses = totals.roles, totals.statuses
        if statuses == (402,):  # no credit: waiting does not help
            lines.append(
                f"throttled {_keys(roles)} answered 402 (no credit left): "
                f"{len(tests)} test(s) could not be judged (error); top up its credit"
            )
            return lines
        answered = "/".join(str(s) for s in statuses)
        lines.append(
            f"throttled {_keys(roles)} answered {answered} past what the run may "
            f"wait: {len(tests)} test(s) could not be judged (error); "
            + _advice(totals)
        )
    return lines
