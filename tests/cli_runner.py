"""The ``synth`` CLI run in-process, as the tests call it."""

from __future__ import annotations

from click.testing import CliRunner, Result

from synth.cli.main import cli


def invoke(*args: str) -> Result:
    """Exceptions propagate (``catch_exceptions=False``), so a failure shows its traceback."""
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)
