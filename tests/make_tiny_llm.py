"""Save a tiny random-weight Qwen2 causal LM with an offline-trained BPE tokenizer and a chat
template, in Hugging Face format: the model the test suite serves with vLLM.

Run with the vLLM environment's Python (it has transformers and tokenizers):
    .venv-llm/bin/python tests/make_tiny_llm.py OUT_DIR
Head size 64 (vLLM's CPU attention kernels reject 16), 2 layers, vocab of about 600 tokens.
"""

from __future__ import annotations

import sys
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}{% else %}{% for c in m['content'] %}"
    "{% if c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    '{"answer": "yes", "caption": "a red circle on a white background", "count": 3}',
    "A block of mass 2 kg rests on an incline; find the friction force. 一个木块静止在斜面上。",
    "Translate the caption into Chinese: 把标题翻译成中文。红色 圆形 白色 背景",
    '{"objective": "draw", "subtasks": ["a", "b"], "constraints": [], "operations": []}',
] * 50


def main(out: str) -> None:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    special = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(
            vocab_size=600, special_tokens=special, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
        ),
    )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    cfg = Qwen2Config(
        vocab_size=len(fast),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=2048,
        tie_word_embeddings=True,
        eos_token_id=fast.convert_tokens_to_ids("<|im_end|>"),
        bos_token_id=None,
        pad_token_id=fast.pad_token_id,
    )
    model = Qwen2ForCausalLM(cfg)
    Path(out).mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    fast.save_pretrained(out)


if __name__ == "__main__":
    main(sys.argv[1])
