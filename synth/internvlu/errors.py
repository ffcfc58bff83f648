"""The errors a caller of ``synth.internvlu`` handles, importable without torch (the CLI
lists it among user errors and must not pay torch's import for commands that never load a model)."""

from __future__ import annotations

from pathlib import Path


class CheckpointError(ValueError):
    """A folder that is not a loadable InternVL-U checkpoint; the message lists every problem."""

    def __init__(self, root: str | Path, problems: list[str]):
        self.problems = problems
        lines = "\n  - ".join(problems)
        super().__init__(f"{root} is not a loadable InternVL-U checkpoint:\n  - {lines}")


class TrainError(ValueError):
    """A training run that cannot start as asked; the message says what to change."""


class DataError(ValueError):
    """Sources or a data config that cannot feed training; the message says what was expected."""
