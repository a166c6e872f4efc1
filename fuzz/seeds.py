#!/usr/bin/env python3
"""Writes small, complete GGUF files into corpus/gguf_header/ as seeds for
the fuzz target: a header that reaches the configuration and the tokenizer
(llama with a gpt2 and with a llama vocabulary, qwen2), in a few hundred
bytes instead of the real models' megabytes, so the fuzzer runs fast."""

import os
import struct

U32, I32, F32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9


def string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def value(kind, v):
    if kind == U32:
        return struct.pack("<I", v)
    if kind == I32:
        return struct.pack("<i", v)
    if kind == F32:
        return struct.pack("<f", v)
    if kind == BOOL:
        return struct.pack("<?", v)
    if kind == STRING:
        return string(v)
    inner, items = v
    return struct.pack("<IQ", inner, len(items)) + b"".join(value(inner, i) for i in items)


def gguf(metadata, tensors):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(metadata))
    for key, kind, v in metadata:
        out += string(key) + struct.pack("<I", kind) + value(kind, v)
    offset = 0
    for name, dims in tensors:
        out += string(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", 0, offset)  # F32
        size = 4
        for d in dims:
            size *= d
        offset += (size + 31) // 32 * 32
    out += b"\0" * (-len(out) % 32)
    return out + b"\0" * offset


def model(arch, vocabulary):
    tokens = ["<s>", "</s>", "a", "b", "ab", " ", "\u0120a"]
    metadata = [
        ("general.architecture", STRING, arch),
        (f"{arch}.attention.head_count", U32, 2),
        (f"{arch}.attention.head_count_kv", U32, 1),
        (f"{arch}.embedding_length", U32, 8),
        (f"{arch}.block_count", U32, 1),
        (f"{arch}.context_length", U32, 64),
        (f"{arch}.feed_forward_length", U32, 16),
        (f"{arch}.attention.layer_norm_rms_epsilon", F32, 1e-5),
        ("tokenizer.ggml.model", STRING, vocabulary),
        ("tokenizer.ggml.tokens", ARRAY, (STRING, tokens)),
        ("tokenizer.ggml.token_type", ARRAY, (I32, [3, 3] + [1] * (len(tokens) - 2))),
        ("tokenizer.ggml.bos_token_id", U32, 0),
        ("tokenizer.ggml.eos_token_id", U32, 1),
        ("tokenizer.chat_template", STRING, "{% for m in messages %}<|im_start|>{{ m.content }}{% endfor %}"),
    ]
    if vocabulary == "gpt2":
        metadata.append(("tokenizer.ggml.merges", ARRAY, (STRING, ["a b"])))
        metadata.append(("tokenizer.ggml.pre", STRING, "qwen2" if arch == "qwen2" else "smollm"))
    else:
        metadata.append(("tokenizer.ggml.scores", ARRAY, (F32, [0.0] * len(tokens))))
    return gguf(metadata, [("token_embd.weight", [8, len(tokens)])])


os.makedirs("corpus/gguf_header", exist_ok=True)
for arch, vocabulary in [("llama", "gpt2"), ("llama", "llama"), ("qwen2", "gpt2"), ("gemma3", "llama")]:
    with open(f"corpus/gguf_header/{arch}-{vocabulary}.gguf", "wb") as f:
        f.write(model(arch, vocabulary))
