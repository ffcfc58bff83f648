"""The ``synth`` command: one subcommand per domain pipeline (``domains.py``), plus inspect,
validate and preview (``outputs.py``), text-edit export (``text_edit.py``), eval (``eval.py``),
demo and llm serve. Each is a thin wrapper over the public API in ``synth/__init__.py`` (``synth.run``,
``synth.validate``, ``synth.inspect``, ``synth.preview``) that users call from Python."""

from __future__ import annotations

import logging
import sys

import click

from pipelines import MODULES, pipeline
from synth.cli.demo import demo
from synth.cli.domains import domain_command
from synth.cli.eval import eval_group
from synth.cli.llm import llm
from synth.cli.model import model
from synth.cli.outputs import inspect, migrate_cmd, preview, validate_cmd
from synth.cli.train import train
from synth.config import ConfigError
from synth.evaluate.units import EvalError
from synth.fonts import FontError
from synth.inputs import InputError
from synth.internvlu.errors import CheckpointError, DataError, TrainError
from synth.llm import LlmSetupError
from synth.llm_server import ServeError
from synth.migrate import MigrateError
from synth.models import ModelSetupError
from synth.ocr import OcrSetupError
from synth.runner import RunError

USER_ERRORS = (
    ConfigError,
    RunError,
    FontError,
    OcrSetupError,
    InputError,
    ModelSetupError,
    LlmSetupError,
    ServeError,
    MigrateError,
    CheckpointError,
    EvalError,
    TrainError,
    DataError,
    FileNotFoundError,
)


class DomainGroup(click.Group):
    """The ``synth`` group: a domain's command is built, and its pipeline imported, only when it
    is run or listed, so ``synth curate`` does not import every other domain."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name.replace("_", "-") for name in MODULES] + sorted(self.commands)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        key = cmd_name.replace("-", "_")
        if key in MODULES and cmd_name not in self.commands:
            self.add_command(domain_command(pipeline(key)))
        return self.commands.get(cmd_name)


@click.group(
    cls=DomainGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
def cli(verbose: bool) -> None:
    """Produce and check training data for unified multimodal models.

    \b
    Quick start:
      synth text-render --num 200 --out out/text     # draw, verify by OCR, write Parquet
      synth inspect out/text                         # counts by status and reason
      synth validate out/text                        # exit 0 only if the output is sound
      synth preview out/text                         # out/text/preview/index.html
    """
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )


for _command in (inspect, validate_cmd, preview, migrate_cmd, eval_group, demo, llm, model, train):
    cli.add_command(_command)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except USER_ERRORS as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
