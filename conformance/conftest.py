"""The conformance suite's configuration: everything lives in the qbtsuite plugin."""

pytest_plugins = ["qbtsuite.harness.plugin"]
