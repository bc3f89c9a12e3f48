"""Child processes and signals: starting children in groups of their own, stopping
them (and what is below them) on SIGTERM/SIGINT, and the ``/proc`` table that finds them."""
