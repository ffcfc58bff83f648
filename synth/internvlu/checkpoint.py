"""The official on-disk layout of an InternVL-U checkpoint: what is where, and its check.

```
model_index.json                 the five components and their official (library, class)
vlm/config.json, model*.safetensors            InternVLUChatModel
generation_decoder/config.json, model*.safetensors   InternVLUGenerationDecoder
vae/config.json, diffusion_pytorch_model*.safetensors   diffusers AutoencoderKLQwenImage
scheduler/scheduler_config.json                diffusers DPMSolverMultistepScheduler
processor/processor_config.json + tokenizer files    InternVLUProcessor
```

Checkpoints are untrusted input: only safetensors are read (never pickles), every file's header
is checked against its size before a byte of weights is used, and a folder that is not this
layout is refused with everything that is wrong, never half-loaded.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import torch

MODEL_INDEX = {
    "_class_name": "InternVLUPipeline",
    "vlm": ["internvlu.vlm.modeling_internvlu_chat", "InternVLUChatModel"],
    "generation_decoder": [
        "internvlu.diffusion.modeling_internvlu_generation_decoder",
        "InternVLUGenerationDecoder",
    ],
    "vae": ["diffusers", "AutoencoderKLQwenImage"],
    "scheduler": ["diffusers", "DPMSolverMultistepScheduler"],
    "processor": ["internvlu.processing_internvlu", "InternVLUProcessor"],
}
#: Component -> the stem of its weight files.
WEIGHTS = {"vlm": "model", "generation_decoder": "model", "vae": "diffusion_pytorch_model"}
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json")
#: The most a safetensors header may be (the format's own limit is 100 MB).
MAX_HEADER = 100 * 2**20
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
          "BOOL": torch.bool}  # fmt: skip


def read_json(path: Path) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Sorted keys and a final newline: the same dict writes the same bytes."""
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def weight_files(folder: Path, stem: str) -> list[Path]:
    """The component's weight files: one ``stem.safetensors`` or the shards its index names."""
    single = folder / f"{stem}.safetensors"
    index = folder / f"{stem}.safetensors.index.json"
    if index.exists():
        names = sorted(set(read_json(index)["weight_map"].values()))
        return [folder / n for n in names]
    if single.exists():
        return [single]
    pickles = [p.name for p in folder.glob("*.bin")] + [p.name for p in folder.glob("*.pt*")]
    hint = f" (found {pickles}: pickled weights are not read; convert them to safetensors)" if pickles else ""
    raise FileNotFoundError(f"{folder.name}/ has no {stem}.safetensors or its index{hint}")


def safetensors_header(path: Path) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Tensor name -> (dtype, shape) from the header, after checking the header and every
    tensor's byte range against the file's size (a truncated or forged file fails here)."""
    size = path.stat().st_size
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise ValueError(f"{path.name}: {size} bytes, too short for a safetensors file")
        (n,) = struct.unpack("<Q", raw)
        if n > min(MAX_HEADER, size - 8):
            raise ValueError(
                f"{path.name}: header of {n} bytes in a {size}-byte file (truncated or not safetensors)"
            )
        try:
            header = json.loads(f.read(n))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{path.name}: unreadable safetensors header ({e})") from None
    data = size - 8 - n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype, shape = info["dtype"], tuple(info["shape"])
        if dtype not in DTYPES:
            raise ValueError(f"{path.name}: {name} has dtype {dtype}, which is not read")
        numel = 1
        for s in shape:
            numel *= s
        if not 0 <= start <= end <= data or end - start != numel * DTYPES[dtype].itemsize:
            raise ValueError(
                f"{path.name}: {name} runs to byte {end} of {data} data bytes (the file is truncated or corrupt)"
            )
        out[name] = (dtype, shape)
    return out


def compare_tensors(
    component: str, expected: dict[str, tuple[int, ...]], found: dict[str, tuple[int, ...]]
) -> list[str]:
    """Problems between the tensors a component needs and those its files hold."""
    problems = []
    missing = sorted(set(expected) - set(found))
    unknown = sorted(set(found) - set(expected))
    if missing:
        problems.append(f"{component}: {len(missing)} tensor(s) missing, e.g. {missing[:3]}")
    if unknown:
        problems.append(f"{component}: {len(unknown)} unexpected tensor(s), e.g. {unknown[:3]}")
    for name in sorted(set(expected) & set(found)):
        if tuple(expected[name]) != tuple(found[name]):
            problems.append(
                f"{component}: {name} has shape {list(found[name])}, the config needs {list(expected[name])}"
            )
    return problems


def read_weights(
    files: list[Path], dtype: torch.dtype, device: str | torch.device
) -> dict[str, torch.Tensor]:
    """Every tensor of ``files`` (already checked by ``safetensors_header``), as ``dtype``
    where floating point."""
    from safetensors import safe_open

    out = {}
    for path in files:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            for name in f.keys():  # noqa: SIM118 - safe_open is not a dict
                t = f.get_tensor(name)
                out[name] = t.to(dtype) if t.is_floating_point() else t
    return out


def write_weights(folder: Path, stem: str, state: dict[str, torch.Tensor]) -> None:
    """One safetensors file, tensors in name order (same tensors, same bytes)."""
    from safetensors.torch import save_file

    tensors = {k: state[k].detach().to("cpu").contiguous().clone() for k in sorted(state)}
    tmp = folder / f".{stem}.safetensors.tmp-{os.getpid()}"
    save_file(tensors, str(tmp), metadata={"format": "pt"})
    os.replace(tmp, folder / f"{stem}.safetensors")
