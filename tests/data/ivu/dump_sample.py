"""How ``oracle_sample.npz`` / ``oracle_sample.json`` were made: the official pipeline called one
row at a time, as its README does, for every mode our sampler has (text-to-image at several
sizes, editing, text-then-image, text), with each step's latents recorded. Run in the oracle's
venv, never by CI:

    IVU_SRC=/tmp/ivu-src /tmp/ivu-venv/bin/python tests/data/ivu/dump_sample.py tests/data/ivu/tiny OUT

writes ``OUT.npz`` and ``OUT.json`` (the cases: prompt, mode, size, steps, seed, scales).
"""

import functools
import json
import os
import sys

sys.path.insert(0, os.environ.get("IVU_SRC", "/tmp/ivu-src"))
sys.path.insert(0, os.environ.get("IVU_ORACLE", "/work/shared/ivu_oracle"))

import numpy as np  # noqa: E402
import torch  # noqa: E402
from internvlu import InternVLUPipeline  # noqa: E402
from internvlu.vlm.modeling_internvlu_chat import InternVLUChatModel  # noqa: E402
from run_oracle import synthetic_image  # noqa: E402

#: (name, mode, prompt, image (w, h, seed) or None, height, width, steps, seed, extra kwargs)
CASES = [
    ("t2i_a", "image", "a small red cube and a blue sphere on a wooden table, studio lighting", None, 64, 64, 4, 42, {}),
    ("t2i_b", "image", "A poster that says \"OPEN\"", None, 96, 64, 4, 7, {}),
    ("t2i_c", "image", "sunset over the sea!", None, 72, 40, 4, 123456789, {}),
    ("t2i_d", "image", "a red bicycle", None, 64, 64, 20, 5, {"all_cfg_scale": 6.0, "part_cfg_scale": 1.0}),
    ("edit_a", "image", "make the block blue", (64, 64, 2), 64, 64, 4, 42, {}),
    ("edit_b", "image", "Remove the red square", (96, 64, 3), 64, 96, 4, 11, {}),
    ("cot_a", "text_image", "a cat sitting on a mat", None, 64, 64, 4, 42, {"max_new_tokens": 8}),
    ("cot_b", "text_image", "a watercolour painting of a lighthouse in the morning fog", None, 64, 80, 4, 3,
     {"max_new_tokens": 24}),
    ("und_a", "text", "Describe a sunny day.", None, 0, 0, 0, 0, {"max_new_tokens": 16}),
    ("und_b", "text", "What is shown in the picture?", (56, 56, 1), 0, 0, 0, 0, {"max_new_tokens": 12}),
]  # fmt: skip


#: Source images the processor resizes (w, h, seed of run_oracle.synthetic_image): both pixel paths.
PROCESSOR_IMAGES = [(96, 64, 3), (200, 120, 5), (50, 90, 4)]


def main() -> None:
    torch.set_num_threads(1)
    pipe = InternVLUPipeline.from_pretrained(sys.argv[1], torch_dtype=torch.float32)
    extract = InternVLUChatModel.extract_feature  # the oracle's workaround: bf16 pixels cast for the ViT
    InternVLUChatModel.extract_feature = lambda self, px, grid_thw=None: extract(
        self, px.to(torch.float32), grid_thw
    )
    sched = pipe.image_pipeline.scheduler
    steps: list[torch.Tensor] = []
    step = sched.step

    @functools.wraps(step)
    def recording_step(*a, **k):
        out = step(*a, **k)
        steps.append(out[0].detach().clone())
        return out

    sched.step = recording_step
    # The head's sinusoidal time features, per timestep: the official code scales t (0..1000) by
    # 1000 before sin/cos, so a one-ulp difference in float32 exp between two CPUs moves a phase by
    # ~0.015 rad. Tests on another machine use these features, not their own (see the test).
    features: dict[float, np.ndarray] = {}
    time_proj = pipe.generation_decoder.decoder.time_text_embed.time_proj
    time_proj.register_forward_hook(
        lambda mod, a, out: features.update(
            {float(t): f for t, f in zip(a[0].tolist(), out.numpy(), strict=True)}
        )
    )
    arrays, cases = {}, []
    for name, mode, prompt, image, h, w, n, seed, extra in CASES:
        steps.clear()
        kwargs = dict(extra)
        if mode != "text":
            kwargs.update(
                height=h, width=w, num_inference_steps=n, generator=torch.Generator("cpu").manual_seed(seed)
            )
        img = synthetic_image(*image) if image else None
        with torch.no_grad():
            out = pipe(prompt=prompt, image=img, generation_mode=mode, **kwargs)
        for i, z in enumerate(steps):
            arrays[f"{name}.step.{i}"] = z.numpy()
        if out.images is not None:
            arrays[f"{name}.image"] = np.asarray(out.images[0])
        if out.generate_output is not None:
            arrays[f"{name}.ids"] = out.generate_output[0].numpy()
        if mode != "text":
            arrays[f"{name}.timesteps"] = sched.timesteps.numpy()
            arrays[f"{name}.sigmas"] = sched.sigmas.numpy()
        cases.append(
            {"name": name, "mode": mode, "prompt": prompt, "image": image, "height": h, "width": w,
             "steps": n, "seed": seed, "kwargs": {k: v for k, v in extra.items()}}
        )  # fmt: skip
    for w, h, seed in PROCESSOR_IMAGES:
        batch = pipe.processor(prompt="Remove the red square", image=synthetic_image(w, h, seed), generation_mode="image",
                               padding=True, return_tensors="pt", height=64, width=96, system_prompt=None)  # fmt: skip
        arrays[f"proc.{w}x{h}.pixel_values"] = batch["pixel_values"].float().numpy()
        arrays[f"proc.{w}x{h}.pixel_values_gen"] = batch["pixel_values_gen"].float().numpy()
    with torch.no_grad():  # the t of the stored unit head calls (tests/data/ivu/oracle*.npz)
        time_proj(torch.tensor([500.0]))
    ts = sorted(features)
    arrays["time.t"] = np.array(ts, dtype=np.float32)
    arrays["time.features"] = np.stack([features[t] for t in ts])
    np.savez_compressed(sys.argv[2] + ".npz", **arrays)
    meta = {
        "made_by": "tests/data/ivu/dump_sample.py (official commit 018a59c1, float32, 1 thread)",
        "cases": cases,
        "versions": {"torch": torch.__version__},
    }
    with open(sys.argv[2] + ".json", "w") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    print({k: v.shape for k, v in arrays.items()})


if __name__ == "__main__":
    main()
