"""A deliberately hostile Qubittron target and the measurements taken against it.

``server`` serves just enough of the API for a run to pass discovery, then misbehaves
in one chosen mode; ``matrix`` runs the suite against every mode and measures exit
code, wall time, peak memory, processes left behind and key leaks. Nothing here
imports ``qbtsuite``: the suite is driven over its command line and HTTP only.
"""
