"""Certification: the product's identity, the signed certificate of a run folder,
its verification, and the instructions to reproduce the run."""
