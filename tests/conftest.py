"""One local Ray per test session, shared by every test that runs a pipeline."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
# Fake credentials for the moto S3 server in tests/test_s3.py; set before Ray starts so workers see them.
for _key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[_key] = "testing"


@pytest.fixture(scope="session")
def ray_session():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="session")
def text_cfg_sets():
    """Small, fast settings for text-render runs in tests (real fonts, real OCR, real photos)."""
    return ["runtime.unit_size=6", "render.sizes=[[512,512],[640,480]]", "verify.full_pass_every=4"]


TINY_CLIP = {
    "embed_dim": 32,
    "quick_gelu": True,
    "vision_cfg": {"image_size": 64, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
    "text_cfg": {"context_length": 16, "vocab_size": 1000, "width": 32, "heads": 2, "layers": 1},
}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory):
    """Random-weight models saved in the published on-disk formats, built the way their authors'
    code builds them (key names written out here, not taken from our loaders):

    - an open_clip architecture registered from JSON, its state dict as open_clip saves it;
    - LAION's improved aesthetic MLP (``self.layers = nn.Sequential(...)``) and linear head;
    - LAION's NSFW head as a plain dict of tensors (norm.mean/variance, linear_1..4);
    - LAION's watermark detector: timm efficientnet_b3a with its classifier replaced.
    """
    import json
    import warnings

    import open_clip
    import timm
    import torch
    from torch import nn

    d = tmp_path_factory.mktemp("models")
    arch = d / "TinyCLIP-test.json"
    arch.write_text(json.dumps(TINY_CLIP))
    open_clip.add_model_config(str(arch))
    torch.manual_seed(0)
    clip = open_clip.create_model("TinyCLIP-test")
    torch.save(clip.state_dict(), d / "open_clip_pytorch_model.bin")
    dim = TINY_CLIP["embed_dim"]

    class MLP(nn.Module):  # the shape of LAION's improved-aesthetic-predictor class
        def __init__(self, input_size):
            super().__init__()
            self.layers = nn.Sequential(
                nn.Linear(input_size, 1024), nn.Dropout(0.2), nn.Linear(1024, 128), nn.Dropout(0.2),
                nn.Linear(128, 64), nn.Dropout(0.1), nn.Linear(64, 16), nn.Linear(16, 1),
            )  # fmt: skip

    torch.save(MLP(dim).state_dict(), d / "aesthetic_mlp.pth")
    torch.save(MLP(768).state_dict(), d / "aesthetic_mlp_768.pth")
    torch.save(nn.Linear(dim, 1).state_dict(), d / "aesthetic_linear.pth")
    nsfw = {"norm.mean": torch.randn(1, dim) * 0.1, "norm.variance": torch.rand(1, dim) + 0.5}
    for i, (a, b) in enumerate([(dim, 64), (64, 512), (512, 256), (256, 1)], start=1):
        layer = nn.Linear(a, b)
        nsfw[f"linear_{i}.weight"], nsfw[f"linear_{i}.bias"] = layer.weight.data, layer.bias.data
    torch.save(nsfw, d / "nsfw_head.pth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wm = timm.create_model("efficientnet_b3a", pretrained=False, num_classes=2)
    wm.classifier = nn.Sequential(
        nn.Linear(in_features=1536, out_features=625), nn.ReLU(), nn.Dropout(p=0.3),
        nn.Linear(in_features=625, out_features=256), nn.ReLU(), nn.Linear(in_features=256, out_features=2),
    )  # fmt: skip
    torch.save(wm.state_dict(), d / "watermark_model_v1.pt")
    return {
        "dir": d,
        "clip_json": str(arch),
        "clip_model": "TinyCLIP-test",
        "clip": str(d / "open_clip_pytorch_model.bin"),
        "aesthetic": str(d / "aesthetic_mlp.pth"),
        "aesthetic_768": str(d / "aesthetic_mlp_768.pth"),
        "aesthetic_linear": str(d / "aesthetic_linear.pth"),
        "nsfw": str(d / "nsfw_head.pth"),
        "watermark": str(d / "watermark_model_v1.pt"),
    }


@pytest.fixture(scope="session")
def model_sets(tiny_models):
    """--set overrides that switch every model filter on with the tiny models."""
    m = tiny_models
    return [
        f"filters.clip.model={m['clip_model']}",
        f"filters.clip.model_json={m['clip_json']}",
        f"filters.clip.weights={m['clip']}",
        f"filters.aesthetic.head={m['aesthetic']}",
        f"filters.nsfw.head={m['nsfw']}",
        f"filters.watermark.weights={m['watermark']}",
    ]


class TinyLama:
    """Built lazily (torch imports slowly): see :func:`tiny_lama`."""

    def __new__(cls):
        import torch
        from torch import nn

        class _TinyLama(nn.Module):
            """LaMa's JIT wrapper in miniature: the generator sees the masked image and the mask, and
            the result is pasted into the input where the mask is 1."""

            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 3, 3, padding=1)

            def forward(self, image, mask):
                predicted = torch.sigmoid(self.conv(torch.cat([image * (1 - mask), mask], 1)))
                return mask * predicted + (1 - mask) * image

        return _TinyLama()


@pytest.fixture(scope="session")
def tiny_lama(tmp_path_factory):
    """(path, module): a random-weight inpainting model traced and saved as TorchScript in the
    big-lama.pt convention (``model(image, mask)``, RGB in [0, 1], mask 1 = hole)."""
    import torch

    torch.manual_seed(0)
    module = TinyLama().eval()
    traced = torch.jit.trace(module, (torch.rand(1, 3, 120, 120), torch.zeros(1, 1, 120, 120)))
    path = tmp_path_factory.mktemp("lama") / "big-lama.pt"
    traced.save(str(path))
    return str(path), module


@pytest.fixture(scope="session")
def llm_server(tmp_path_factory):
    """The real vLLM server (from ``.venv-llm``, made by ``make setup-llm``) serving a tiny
    random-weight vision-language model saved by ``tests/make_tiny_vlm.py`` (it answers text and
    image requests alike), started once per session through ``synth llm serve`` and stopped with
    Ctrl-C (SIGINT) at the end."""
    import signal
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    from synth.llm_server import llm_python
    from tests.ports import free_port

    d = tmp_path_factory.mktemp("llm")
    model = d / "tiny-vlm"
    subprocess.run(
        [llm_python(), str(Path(__file__).parent / "make_tiny_vlm.py"), str(model)],
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = d / "vllm.log"
    cmd = [sys.executable, "-m", "synth.cli.main", "llm", "serve", "--model", str(model), "--port", str(port),
           "--max-model-len", "1024", "--log", str(log), "--timeout", "600"]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 660
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"synth llm serve exited: {proc.stdout.read()}\n{log.read_text()[-3000:]}"
        try:
            with urllib.request.urlopen(url + "/models", timeout=2):
                break
        except OSError:
            time.sleep(2)
    else:
        proc.kill()
        raise RuntimeError(f"vLLM did not start; log tail:\n{log.read_text()[-3000:]}")
    yield {"url": url, "model": str(model), "proc": proc, "log": log}
    proc.send_signal(signal.SIGINT)
    proc.wait(90)


@pytest.fixture(scope="module")
def fake_llm():
    """Local OpenAI-compatible test servers: ``url = fake_llm(answer, model=..., usage=(in, out))``.

    ``answer(body)`` gets each chat request's JSON body and returns the message content (a str), a
    whole completion (a dict, e.g. with ``finish_reason``), or ``(status, raw bytes)`` to misbehave.
    ``GET /models`` lists ``model``."""
    import contextlib
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers = []

    def start(answer, model: str = "fake-llm", usage: tuple[int, int] = (10, 5)) -> str:
        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 - http.server's naming
                self._reply(200, json.dumps({"object": "list", "data": [{"id": model}]}).encode())

            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                out = answer(body)
                if isinstance(out, tuple):
                    self._reply(*out)
                    return
                if isinstance(out, str):
                    out = {
                        "choices": [
                            {"message": {"role": "assistant", "content": out}, "finish_reason": "stop"}
                        ]
                    }
                out.setdefault("usage", {"prompt_tokens": usage[0], "completion_tokens": usage[1]})
                with contextlib.suppress(BrokenPipeError):  # the client gave up (a timeout test)
                    self._reply(200, json.dumps(out, ensure_ascii=False).encode())

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            # llm.concurrency connections at once: the default backlog of 5 drops the rest, and
            # each dropped connection waits 1, 3, 7 s for the kernel to resend it
            request_queue_size = 1024

        server = Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
