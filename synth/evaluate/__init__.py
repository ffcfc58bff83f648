"""Metrics shared by verifiers and ``synth eval``: one definition, so they cannot drift apart."""
