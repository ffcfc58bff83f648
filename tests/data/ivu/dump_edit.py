"""How ``oracle_edit.npz`` was made: the official pipeline's editing call on the tiny checkpoint,
with the head's inputs and output of its first step and the VLM condition recorded (what
``../shared/ivu_oracle/run_oracle.py`` does not dump). Run in the oracle's venv, never by CI:

    IVU_SRC=/tmp/ivu-src /tmp/ivu-venv/bin/python tests/data/ivu/dump_edit.py tests/data/ivu/tiny OUT.npz
"""

import os
import sys

sys.path.insert(0, os.environ.get("IVU_SRC", "/tmp/ivu-src"))
sys.path.insert(0, os.environ.get("IVU_ORACLE", "/work/shared/ivu_oracle"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from internvlu import InternVLUPipeline  # noqa: E402
from internvlu.vlm.modeling_internvlu_chat import InternVLUChatModel  # noqa: E402
from run_oracle import synthetic_image  # noqa: E402

torch.set_num_threads(1)
pipe = InternVLUPipeline.from_pretrained(sys.argv[1], torch_dtype=torch.float32)
extract = InternVLUChatModel.extract_feature  # the oracle's one workaround: bf16 pixels cast for the ViT
InternVLUChatModel.extract_feature = lambda self, px, grid_thw=None: extract(
    self, px.to(torch.float32), grid_thw
)
rec = {}


def head_hook(mod, args, kwargs, out):
    if "head" not in rec:
        rec["head"] = (args[0] if args else kwargs["hidden_states"], dict(kwargs), out[0])


pipe.generation_decoder.decoder.register_forward_hook(head_hook, with_kwargs=True)
orig = pipe._prepare_diffusion_inputs
pipe._prepare_diffusion_inputs = lambda **kw: rec.setdefault("di", (kw, orig(**kw)))[1]
with torch.no_grad():
    pipe(
        prompt="make the block blue",
        image=synthetic_image(64, 64, 2),
        generation_mode="image",
        height=64,
        width=64,
        num_inference_steps=2,
        generator=torch.Generator().manual_seed(42),
    )
hidden, kw, out = rec["head"]
di_in, di = rec["di"]
arrays = {
    "head.hidden_states": hidden,
    "head.out": out,
    "head.timestep": kw["timestep"],
    "head.encoder_hidden_states": kw["encoder_hidden_states"],
    "head.encoder_attention_mask": kw["encoder_attention_mask"],
    "head.encoder_image_token_mask": kw["encoder_image_token_mask"],
    "head.image_grid_thw_gen": kw["image_grid_thw_gen"],
    "proc.input_ids": di_in["input_ids"],
    "proc.attention_mask": di_in["attention_mask"],
    "proc.pixel_values": di_in["pixel_values"].float(),
}
for i, c in enumerate(kw["conditional_input"]):
    arrays[f"head.conditional_input.{i}"] = c
for i, g in enumerate(kw["image_grid_thw_gen_cond"]):
    arrays[f"head.image_grid_thw_gen_cond.{i}"] = g
for i, f in enumerate(kw["image_fhw_cond"]):
    arrays[f"head.image_fhw_cond.{i}"] = f
for i, (h, m) in enumerate(zip(di["encoder_hidden_states"], di["encoder_image_token_mask"], strict=True)):
    arrays[f"cond.{i}"], arrays[f"cond_image_mask.{i}"] = h, m
np.savez_compressed(sys.argv[2], **{k: v.detach().cpu().numpy() for k, v in arrays.items()})
print({k: tuple(v.shape) for k, v in arrays.items()})
