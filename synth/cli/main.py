"""The ``synth`` command: one subcommand per domain pipeline, plus inspect, validate, preview, demo.

Each subcommand is a thin wrapper over a Python function (``run_pipeline``, ``validate``,
``write_preview``) that users can call directly."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from pipelines import registry
from synth.config import ConfigError, default_config_path, load_config
from synth.fonts import FontError
from synth.inputs import InputError
from synth.llm import LlmSetupError
from synth.llm_server import ServeError
from synth.models import ModelSetupError
from synth.ocr import OcrSetupError
from synth.pipeline import Pipeline
from synth.preview import write_preview
from synth.report import collect, summary_line
from synth.runner import RunError, run_pipeline
from synth.sources import SourceError
from synth.validate import validate
from synth.writer import OutputDir

USER_ERRORS = (
    ConfigError,
    RunError,
    FontError,
    OcrSetupError,
    SourceError,
    InputError,
    ModelSetupError,
    LlmSetupError,
    ServeError,
    FileNotFoundError,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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


def _common_options(func):
    """Options every pipeline command shares (applied bottom-up, so they list in this order)."""
    options = [
        click.option(
            "--out", default=None, help="Output folder: a path, s3://bucket/prefix or gs://... (required)"
        ),
        click.option(
            "--config",
            "config_path",
            type=click.Path(dir_okay=False),
            default=None,
            help="YAML config instead of the default.",
        ),
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a config key (YAML value), e.g. --set runtime.unit_size=128",
        ),
        click.option(
            "--address",
            default=None,
            help="Ray cluster address ('auto' inside a cluster); default: RAY_ADDRESS or a local Ray.",
        ),
        click.option("--workers", type=int, default=None, help="Parallel workers (default: one per CPU)."),
        click.option(
            "--overwrite", is_flag=True, help="Replace an existing output made with another config."
        ),
        click.option("--retry-errors", is_flag=True, help="Redo the units that hold rows with status=error."),
        click.option(
            "--preview/--no-preview", default=True, help="Write preview/index.html when done (default on)."
        ),
        click.option("--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _runtime_sets(common: dict) -> list[str]:
    """The --set overrides plus what the shared options say about the runtime."""
    sets = list(common["overrides"])
    if common["address"]:
        sets.append(f"runtime.address={json.dumps(common['address'])}")
    if common["workers"]:
        sets.append(f"runtime.workers={common['workers']}")
    return sets


def _run(pipeline: Pipeline, common: dict, sets: list[str], num: int | None = None, **flags) -> None:
    """Load the config with ``sets``, run, then print where the output went and its counts."""
    path = common["config_path"] or default_config_path(pipeline.name)
    cfg = load_config(pipeline.config_model, path, sets)
    out = common["out"]
    run = run_pipeline(
        pipeline,
        cfg,
        out,
        num,
        overwrite=common["overwrite"],
        retry_errors=common["retry_errors"],
        progress=not common["quiet"],
        **flags,
    )
    click.echo(f"wrote {OutputDir(out).uri}: {summary_line(run['report'])}")
    for name, state in (run.get("models") or {}).get("filters", {}).items():
        if state != "on":
            click.echo(f"  {name} filter {state}")
    if common["preview"]:
        click.echo(f"preview: {write_preview(out)}")


def _pipeline_command(pipeline: Pipeline) -> click.Command:
    word = pipeline.name.replace("_", "-")
    subcommands = SUBCOMMANDS.get(pipeline.name, [])
    fields = pipeline.config_model.model_fields
    has_sources = "sources" in fields  # photos and texts to draw with
    decorator = (
        click.group(name=word, help=pipeline_help(pipeline), invoke_without_command=True)
        if subcommands
        else click.command(name=word, help=pipeline_help(pipeline))
    )

    @decorator
    @click.option("--num", type=int, default=None, help="Samples to attempt (kept + rejected + error = NUM).")
    @click.option("--seed", type=int, default=None, help="Run seed (default: the config's, 0).")
    @click.option(
        "--input",
        "inputs",
        multiple=True,
        hidden="inputs" not in fields,
        help="Photos to work on instead of drawn scenes: a folder, files, .parquet or .tar shards "
        "(globs and {000..099} ranges quoted). Repeatable; --num is then not needed.",
    )
    @click.option(
        "--documents",
        multiple=True,
        hidden="documents" not in fields,
        help="Pages of problems (a folder, PDFs or page images) whose figures an LLM draws as SVG; "
        "needs --set llm.base_url=http://HOST:PORT/v1. Repeatable; --num is then not needed.",
    )
    @click.option(
        "--images",
        default=None,
        hidden=not has_sources,
        help="Photo folder or Parquet file for photo backgrounds.",
    )
    @click.option(
        "--corpus",
        default=None,
        hidden=not has_sources,
        type=click.Path(exists=True, dir_okay=False),
        help="Text file, one text per line.",
    )
    @_common_options
    @click.pass_context
    def command(ctx, num, seed, inputs, documents, images, corpus, **common):
        if ctx.invoked_subcommand:
            return
        for given, option, key in ((inputs, "--input", "inputs"), (documents, "--documents", "documents")):
            if given and key not in fields:
                raise click.UsageError(f"synth {word} takes no {option}")
        if (num is None and not inputs and not documents) or common["out"] is None:
            raise click.UsageError(
                "--num (or --input) and --out are required, e.g. --num 200 --out out/" + pipeline.name
            )
        sets = _runtime_sets(common)
        if inputs:
            sets.append(f"inputs={json.dumps(list(inputs))}")
        if documents:
            sets.append(f"documents={json.dumps(list(documents))}")
        if seed is not None:
            sets.append(f"seed={seed}")
        if (images or corpus) and not has_sources:
            raise click.UsageError(
                f"synth {word} draws no photos or texts: --images and --corpus do not apply"
            )
        if images:
            sets.append(f"sources.images={json.dumps(images)}")
        if corpus:
            sets.append(f"sources.corpus={json.dumps(corpus)}")
        _run(pipeline, common, sets, num)

    for sub in subcommands:
        command.add_command(sub)
    return command


def pipeline_help(pipeline: Pipeline) -> str:
    word = pipeline.name.replace("_", "-")
    extra = EXAMPLES.get(pipeline.name, f"synth {word} --num 200 --out out/{pipeline.name}")
    return f"{pipeline.summary}\n\n\b\nExamples:\n  {extra}\n\nDefaults: configs/{pipeline.name}.yaml."


EXAMPLES = {
    "text_edit": "synth text-edit --num 2000 --out out/text_edit\n"
    "  synth text-edit --input photos_with_text/ --out out/text_edit_real\n"
    "  synth text-edit --num 300 --out out/bench_te --set split=test\n"
    "  synth text-edit export out/bench_te --format textedit --out bench/\n"
    "  synth eval text-edit --pred model_outputs/ --bench bench/ --out report.json",
    "physics": "synth physics --num 2000 --out out/physics\n"
    "  synth physics --num 500 --out out/circuits --set kinds=[series_circuit,parallel_circuit] --set tasks={edit:1}\n"
    "  synth physics --documents exam_pages/ --out out/physics_docs --set llm.base_url=http://127.0.0.1:8000/v1",
    "caption": "synth caption --input out/curated --out out/captioned --set llm.base_url=http://127.0.0.1:8000/v1",
    "cot": "synth cot --input out/physics --out out/physics_cot --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth cot --input out/memes --out out/memes_cot --set flavour=meme",
    "translate": "synth translate --input out/text --out out/text_zh --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth translate --input out/text_zh --out out/text_en --set to=en --set llm.base_url=http://127.0.0.1:8000/v1",
    "rewrite": "synth rewrite --input out/text_edit --out out/text_edit_llm --set llm.base_url=http://127.0.0.1:8000/v1\n"
    "  synth rewrite --input out/cs_edits --out out/cs_edits_llm --set variants=5",
    "cs_diagram": "synth cs-diagram --num 2000 --out out/cs\n"
    "  synth cs-diagram --num 500 --out out/cs_some --set kinds=[bst,heap,graph_bfs,dfa,linked_list,bar_chart]\n"
    "  synth cs-diagram --num 500 --out out/cs_edits --set tasks={edit:1}",
}


@click.command(name="export")
@click.argument("run_dir")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["textedit"]),
    default="textedit",
    show_default=True,
    help="textedit: the open-compass/TextEdit benchmark layout.",
)
@click.option("--out", required=True, help="Folder for the benchmark files.")
def text_edit_export(run_dir: str, fmt: str, out: str) -> None:
    """Export the kept triplets of RUN_DIR as a benchmark folder (one <category>.jsonl per edit
    operation, images under <category>/image/{original,gt,mask}/, categories.json)."""
    from pipelines.text_edit.bench import export_textedit

    counts = export_textedit(run_dir, out)
    click.echo(f"wrote {sum(counts.values())} rows in {len(counts)} categories to {out}: {counts}")


SUBCOMMANDS = {"text_edit": [text_edit_export]}


def _inputs_command(pipeline: Pipeline) -> click.Command:
    word = pipeline.name.replace("_", "-")
    help_text = f"""{pipeline.summary}

    \b
    Examples:
      synth {word} --input photos/ --out out/curated
      synth {word} --input 'shards/*.parquet' --image-column image --out out/curated
      synth {word} --input 'tars/{{00000..00099}}.tar' --out out/curated
      synth {word} --input photos/ --out out/curated --set filters.phash.max_distance=6
      synth {word} --input photos/ --out out/curated --set filters.aesthetic.min=5.5 --rethreshold

    Model filters are on when their weights are set (README: 'Model weights').
    Defaults: configs/{pipeline.name}.yaml."""

    @click.command(name=word, help=help_text)
    @click.option(
        "--input",
        "inputs",
        multiple=True,
        required=True,
        help="A folder (recursive), image files, .parquet or WebDataset .tar shards; globs and "
        "{000..099} ranges work when quoted. Repeatable.",
    )
    @click.option("--image-column", default=None, help="Image column of Parquet inputs (default: image).")
    @click.option(
        "--against",
        multiple=True,
        help="An earlier curated output: images near-duplicating its kept ones are dropped. Repeatable.",
    )
    @click.option(
        "--rethreshold",
        is_flag=True,
        help="Re-decide an existing output with new thresholds from its stored scores (no model runs).",
    )
    @_common_options
    def command(inputs, image_column, against, rethreshold, **common):
        if common["out"] is None:
            raise click.UsageError("--out is required, e.g. --out out/" + pipeline.name)
        sets = [f"inputs={json.dumps(list(inputs))}"] + _runtime_sets(common)
        if image_column:
            sets.append(f"image_column={json.dumps(image_column)}")
        if against:
            sets.append(f"against={json.dumps(list(against))}")
        _run(pipeline, common, sets, rethreshold=rethreshold)

    return command


@cli.command()
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def inspect(out: str, as_json: bool) -> None:
    """Counts by status and reason, throughput and schema of an output folder."""
    folder = OutputDir(out)
    run = folder.read_json("run.json")
    if run is None:
        raise FileNotFoundError(f"{folder.uri} has no run.json: not a synth output folder")
    report = collect(folder, run)
    last = (run.get("invocations") or [{}])[-1]
    info = {
        "out": folder.uri,
        "pipeline": run["pipeline"],
        "status": run.get("status"),
        "content_hash": run["content_hash"],
        "seed": run["seed"],
        "split": run["split"],
        **report,
        "samples_per_second": last.get("samples_per_second"),
        "schema": _schema_summary(folder),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{info['pipeline']} at {info['out']} ({info['status']}, seed {info['seed']}, {info['split']}, config {info['content_hash']})"
    )
    click.echo(
        f"units: {report['units_done']}/{report['units_planned']} committed; inputs {report['inputs']}"
    )
    click.echo(summary_line(report))
    for reason, n in report["reasons"].items():
        click.echo(f"  {reason:<22} {n}")
    if info["samples_per_second"]:
        click.echo(f"throughput (last run): {info['samples_per_second']:.2f} samples/s")
    if report["stage_seconds"]:
        total = sum(report["stage_seconds"].values()) or 1
        click.echo(
            "worker time by stage: "
            + ", ".join(f"{k} {v / total:.0%}" for k, v in report["stage_seconds"].items())
        )
    click.echo(
        "columns (non-null in data/): " + ", ".join(f"{k}={v}" for k, v in info["schema"].items() if v)
    )


def _schema_summary(out: OutputDir) -> dict[str, int]:
    """Non-null counts per column over data/, from Parquet footers only."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for shard in out.list("data", ".parquet"):
        with out.fs.open_input_file(out.path(shard)) as f:
            meta = pq.ParquetFile(f).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                top = col.path_in_schema.split(".")[0]
                stats = col.statistics
                if stats is not None and stats.has_null_count and "." not in col.path_in_schema:
                    counts[top] = counts.get(top, 0) + group.num_rows - stats.null_count
                else:
                    counts.setdefault(top, 0)
    return counts


@cli.command(name="validate")
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--no-images", is_flag=True, help="Skip decoding every image (faster).")
def validate_cmd(out: str, as_json: bool, no_images: bool) -> None:
    """Exit 0 only if every shard matches the schema, images decode, ids are unique and counts add up."""
    result = validate(out, check_images=not no_images)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        c = result.counts
        click.echo(
            f"{'OK' if result.ok else 'INVALID'}: {result.rows} rows ({c['kept']} kept, {c['rejected']} rejected, {c['error']} error), {result.images_checked} images decoded"
        )
        for p in result.problems:
            click.echo(f"  - {p}")
    sys.exit(0 if result.ok else 1)


@cli.command()
@click.argument("out")
@click.option("--kept", default=36, help="Kept rows to show.")
@click.option("--rejected", default=12, help="Rejected/error rows to show.")
def preview(out: str, kept: int, rejected: int) -> None:
    """Write OUT/preview/index.html, a gallery a person can open in a browser."""
    click.echo(write_preview(out, kept, rejected))


@cli.group(name="eval")
def eval_group() -> None:
    """Score a model's outputs on a benchmark folder."""


@eval_group.command(name="text-edit")
@click.option(
    "--pred",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Model outputs: <pred>/<category>/<basename of original_image>.",
)
@click.option(
    "--bench",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A TextEdit-layout folder: `synth text-edit export` output or the released benchmark.",
)
@click.option("--out", "report_path", default=None, help="Write the full JSON report here.")
@click.option(
    "--ocr",
    "backend",
    type=click.Choice(["rapidocr", "paddleocr", "tesseract"]),
    default="rapidocr",
    show_default=True,
    help="OCR engine (TextEdit's own evaluator uses PaddleOCR).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def eval_text_edit(pred: str, bench: str, report_path: str | None, backend: str, quiet: bool) -> None:
    """Text-editing metrics: TextEdit's OA, OP, OR, F1 and ROI-NED, plus (on our exports) the
    verifier's correctness at the known text places and PSNR outside the edit mask; overall, per
    scene type and per operation."""
    from pipelines.text_edit.bench import evaluate, table
    from synth.ocr import OcrConfig

    report = evaluate(bench, pred, OcrConfig(backend=backend), progress=not quiet)
    click.echo(table(report))
    if report_path:
        Path(report_path).parent.mkdir(parents=True, exist_ok=True)
        Path(report_path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"report: {report_path}")


@cli.command()
@click.option("--out", default="out/demo", help="Folder for the demo outputs.")
@click.option("--num", default=60, help="Samples per domain.")
def demo(out: str, num: int) -> None:
    """The quickstart behind `make demo`: every domain on an embedded local Ray, validated, with previews
    (the LLM stages need a server, so they are left out: see `synth llm serve`).
    Curation runs on a folder of scikit-image's photos with planted duplicates and broken files, and
    text editing also on photos with signs drawn on them (real scenes: the text is found by OCR)."""
    from pipelines.curate.samples import write_sample_photos
    from pipelines.text_edit.samples import write_sample_scenes

    samples = {"curate": (write_sample_photos, "photos with planted duplicates and broken files"),
               "text_edit_real": (write_sample_scenes, "photos with signs, and some without usable text")}  # fmt: skip
    runs = [(name, name, p) for name, p in registry().items() if not p.needs_llm] + [
        ("text_edit_real", "text_edit", registry()["text_edit"])
    ]
    failed = []
    for folder_name, name, pipeline in runs:
        folder = str(Path(out) / folder_name)
        sets = ["seed=7"]
        if folder_name in samples:
            write, what = samples[folder_name]
            inputs = str(Path(out) / f"{folder_name}_inputs")
            expected = write(inputs)
            sets.append(f"inputs={json.dumps([inputs])}")
            click.echo(f"== {folder_name}: {len(expected)} {what} in {inputs} -> {folder}")
        else:
            click.echo(f"== {folder_name}: {num} samples -> {folder}")
        cfg = load_config(pipeline.config_model, default_config_path(name), sets)
        run = run_pipeline(pipeline, cfg, folder, num, overwrite=True)
        click.echo(f"   {summary_line(run['report'])}")
        result = validate(folder)
        click.echo(f"   validate: {'OK' if result.ok else 'INVALID'}; preview: {write_preview(folder)}")
        if not result.ok:
            failed.append(folder_name)
    if failed:
        raise RunError(f"demo outputs failed validation: {failed}")


@cli.group()
def llm() -> None:
    """Language-model serving: vLLM's OpenAI-compatible server from its own environment."""


@llm.command(name="serve")
@click.option(
    "--model",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Local Hugging Face model folder.",
)
@click.option("--port", default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="0.0.0.0 to serve other machines.")
@click.option("--max-model-len", default=4096, show_default=True, help="Context length.")
@click.option(
    "--structured-backend", default="guidance", show_default=True, help="vLLM's structured-output backend."
)
@click.option("--log", default=None, help="Log file (default: vllm-PORT.log here).")
@click.option("--timeout", default=900.0, show_default=True, help="Seconds to wait for readiness.")
def llm_serve(model, port, host, max_model_len, structured_backend, log, timeout) -> None:
    """Start vLLM for MODEL, wait until it answers, print the llm.base_url to use, stop on Ctrl-C.

    \b
    Example:
      synth llm serve --model /models/Qwen2.5-VL-7B-Instruct --port 8000
      synth caption ... --set llm.base_url=http://127.0.0.1:8000/v1   (another shell)
    """
    from synth.llm_server import LlmServer, serve_forever

    server = LlmServer(model, port, host, max_model_len, structured_backend, log)
    serve_forever(server, timeout, echo=click.echo)


for _pipeline in registry().values():
    cli.add_command((_inputs_command if _pipeline.inputs_required else _pipeline_command)(_pipeline))


def main() -> None:
    try:
        cli(standalone_mode=True)
    except USER_ERRORS as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
