"""The fault matrix: the suite against each fault of the reference server."""
