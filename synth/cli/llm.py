"""``synth llm serve``: vLLM's OpenAI-compatible server for a local model folder."""

from __future__ import annotations

import click

from synth.llm_server import MAX_MODEL_LEN_CAP


@click.group()
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
@click.option(
    "--max-model-len",
    type=int,
    default=None,
    help=f"Context length in tokens (default: the model's own, from its config.json, at most {MAX_MODEL_LEN_CAP}).",
)
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
