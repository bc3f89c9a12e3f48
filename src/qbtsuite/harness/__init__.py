"""The pytest engine of the conformance run: plugin, run state, selection, recording."""
