#!/usr/bin/env python3
"""Produce detprob's parity references with llama.cpp (via llama-cpp-python).

Writes, next to this script:
  tokenizer_corpus.json          the corpus of test strings (shared by both models)
  tokenizer_<alias>.json         llama.cpp's token ids for every corpus string
  greedy_<alias>.json            llama.cpp's greedy continuation of each prompt,
                                 with the top-2 logit gap at every step

Usage:
  python3 -m pip install llama-cpp-python==0.3.36   # builds llama.cpp (~10 min)
  python3 tests/data/make_references.py --smollm2 PATH.gguf --gemma3 PATH.gguf \
      --qwen-0.5b PATH.gguf --qwen-1.5b PATH.gguf
Each model flag is optional: only the references of the models given are
written. (`detprob model path ALIAS` prints where detprob cached a model.)

Tokenization is llama.cpp's with special-token parsing on and the model's own
BOS rule (tokenize(text, add_bos=True, special=True) adds BOS only when the
GGUF asks for it).
"""
import argparse
import hashlib
import json
import os
import sys

import llama_cpp
import numpy

HERE = os.path.dirname(os.path.abspath(__file__))
GREEDY_STEPS = 32
SMOLLM_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


def corpus():
    """At least 200 varied strings: English, digits, whitespace runs, code,
    Chinese and other scripts, emoji and ZWJ sequences, special tokens."""
    base = [
        # English
        "Hello, world!", "hello world", "Hello World", "HELLO WORLD",
        "The quick brown fox jumps over the lazy dog.",
        "What is the capital of France?", "Paris is the capital of France.",
        "I can't believe it's not butter!", "They're here; we'll go, you'd stay.",
        "It's not bad at all.", "This movie was not good.", "absolutely terrible",
        "Once upon a time, there was a little robot.",
        "A language model samples from a probability distribution.",
        "supercalifragilisticexpialidocious", "antidisestablishmentarianism",
        "e.g. i.e. etc. Mr. Mrs. Dr.", "U.S.A.", "don't DON'T Don't",
        "naïve café résumé coöperate", "Zürich Straße Ærøskøbing",
        "seventeen plus twenty-five", "What is seventeen times three?",
        "Is 1900 a leap year?", "Convert 100 °C to °F.", "5 km in miles",
        # digits
        "0", "7", "42", "123", "2024", "123456789", "123456789 * 987654321",
        "3.14159", "-273.15", "1,000,000", "1e10", "0x1F", "v1.2.3",
        "2026-11-28", "12:30:45", "+1 (555) 010-9999", "100%", "$19.99", "€5,50",
        "1/3 + 2/3 = 1", "(12 + 7) × 3 ÷ 2", "12+7", "12 + 7 =", "99 bottles",
        "a1b2c3", "x²+y²=z²", "½ ¾ ⅓", "٣٤٥", "１２３",
        # whitespace runs
        " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n",
        " leading", "  two leading", "trailing ", "trailing   ", "a  b", "a   b",
        "a\tb", "a\n\nb", "line1\nline2\nline3", "  \n  \n", "\t\tindented",
        "word \n word", "end.\n\n\nNew paragraph", " \t \n mixed \t\n",
        # code
        "def f(x):\n    return x * 2\n", "fn main() {\n    println!(\"hi\");\n}",
        "for (int i = 0; i < n; ++i) { sum += a[i]; }", "#include <stdio.h>",
        "SELECT * FROM users WHERE id = 42;", "<div class=\"box\">Hi</div>",
        "{\"key\": [1, 2, 3], \"ok\": true}", "x = [i**2 for i in range(10)]",
        "if (a && b || !c) return -1;", "let v: Vec<u32> = Vec::new();",
        "// comment\n/* block */", "    indented_code()", "import numpy as np",
        "console.log(`template ${x}`);", "git commit -m \"fix: bug\"",
        "https://example.com/path?q=1&r=2#frag", "user@example.com",
        "C:\\Windows\\System32", "~/.config/detprob", "$ cargo test --release",
        # Chinese and other scripts
        "你好，世界！", "大语言模型", "大模型涌现能力及其产生原因",
        "普通程序：由人类编写的明确指令序列",
        "基于大量数据训练出的统计模型，通过概率预测生成输出",
        "确定性逻辑，每条指令精确执行", "概率性逻辑，输出基于上下文概率分布",
        "可能存在不确定性（同一输入可能多次得到不同输出）",
        "幻觉（hallucination）、偏差、上下文理解错误",
        "确定性 vs 概率性", "规则驱动 vs 数据驱动", "可解释性差异", "泛化能力",
        "法国的首都是哪里？", "中文English混合text", "１２３ＡＢＣ",
        "日本語のテキスト", "こんにちは", "안녕하세요", "Привет, мир!",
        "مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีครับ",
        "Ελληνικά γράμματα", "ẞ ǅ ﬁ ﬀ", "e\u0301 (combining acute)",
        "\u200b zero width space", "\u00a0non-breaking", "\ufeffbom",
        # emoji and ZWJ sequences
        "😀", "😀😃😄", "👍🏽", "👨‍👩‍👧‍👦", "👩‍💻", "🏳️‍🌈", "🇫🇷🇨🇳",
        "❤️", "I ❤️ Rust 🦀", "🤖 vs 📜", "1️⃣2️⃣", "🧑🏾‍🚀 in space",
        "emoji at end 🎉", "🎉 emoji at start",
        # special tokens
        "<|im_start|>", "<|im_end|>", "<|endoftext|>",
        "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
        "<|im_start|>system\nBe brief.<|im_end|>",
        "<start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\n",
        "<bos>", "<eos>", "<pad>", "<unk>", "<mask>", "<start_of_image>",
        "text<|im_end|>more", "<|im_start", "im_start|>", "< |im_end| >",
        "<start_of_turn", "<end_of_turn>x", "<0x41>", "<s></s>",
        # odd punctuation
        "...", "!!!???", "—–-", "«quotes» “curly” ‘single’", "#hashtag @mention",
        "a,b;c:d", "()[]{}<>", "~`^|\\", "* * *", "--flag=value",
    ]
    # Systematic mixes, so every category meets every other.
    words = ["Paris", "42", "  ", "\n", "中文", "👍", "<|im_end|>", "x=1", "\t"]
    mixes = [f"{a}{b}" for a in words for b in words if a != b]
    spaced = [f"{a} {b}" for a in words[:5] for b in words[:5] if a != b]
    numbers = [str(n) for n in (10, 100, 1000, 10000, 65536, 1234567890123)]
    out, seen = [], set()
    for s in base + mixes + spaced + numbers:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


GREEDY_PROMPTS = [
    "What is the capital of France?",
    "What is 17 + 25?",
    "Is the year 1900 a leap year?",
    "Convert 100 degrees Celsius to Fahrenheit.",
    "Write one sentence about the sea.",
    "Is this review positive or negative? \"It's not bad at all.\"",
    "What is the capital of Wakanda?",
    "List three colours.",
    "Explain what a language model is in one sentence.",
    "Translate to French: good morning",
    "What is 123456789 times 987654321?",
    "Name a planet.",
]

GEMMA_PROMPTS = [
    "The capital of France is",
    "17 + 25 =",
    "Once upon a time,",
    "The year 1900 was not a leap year because",
    "def fibonacci(n):",
    "A language model is",
    "Water boils at",
    "The three primary colours are",
    "Le petit déjeuner est",
    "大语言模型是",
    "My favourite food is",
    "The opposite of hot is",
]


# Held out from the tokenizer corpus and from the other models' prompts:
# English and Chinese questions for the Qwen2.5-Coder pair.
QWEN_PROMPTS = [
    "What is 48 * 52?",
    "What is the capital of Bhutan?",
    "Is 1900 a leap year?",
    "Name three primary colors.",
    "Write a Python function that reverses a string.",
    "Convert 100 degrees Celsius to Fahrenheit.",
    "法国的首都是哪里？",
    "1900年是闰年吗？",
    "48 × 52 等于多少？",
    "用一句话解释什么是大语言模型。",
    "这部电影不好看。这句话是正面还是负面？",
    "不丹的首都是什么？",
]


def chatml(system):
    def render(user):
        return (f"<|im_start|>system\n{system}<|im_end|>\n"
                f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n")
    return render


render_chatml = chatml(SMOLLM_SYSTEM)
QWEN_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tokenize_all(path, texts):
    llm = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    return [llm.tokenize(t.encode("utf-8"), add_bos=True, special=True) for t in texts]


def greedy(path, prompts, render):
    # logits_all: llama-cpp-python keeps the logits it returns only with it on.
    llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_threads=2, n_batch=512,
                          logits_all=True, verbose=False, seed=0)
    eos = {llm.token_eos()}
    for name in ("<|im_end|>", "<|endoftext|>", "<end_of_turn>"):
        ids = llm.tokenize(name.encode(), add_bos=False, special=True)
        if len(ids) == 1:
            eos.add(ids[0])
    cases = []
    for user in prompts:
        text = render(user)
        prompt_ids = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        llm.reset()
        llm.eval(prompt_ids)
        steps = []
        for _ in range(GREEDY_STEPS):
            logits = llm.scores[llm.n_tokens - 1]
            token = int(numpy.argmax(logits))  # first (lowest id) among ties
            rest = logits.copy()
            rest[token] = -numpy.inf
            runner_up = int(numpy.argmax(rest))
            steps.append({"token": token, "gap": float(logits[token] - logits[runner_up])})
            if token in eos:
                break
            llm.eval([token])
        cases.append({"prompt": user, "text": text, "prompt_ids": prompt_ids, "steps": steps})
    return cases


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smollm2")
    parser.add_argument("--gemma3")
    parser.add_argument("--qwen-0.5b", dest="qwen05")
    parser.add_argument("--qwen-1.5b", dest="qwen15")
    args = parser.parse_args()
    texts = corpus()
    assert len(texts) >= 200, len(texts)
    with open(os.path.join(HERE, "tokenizer_corpus.json"), "w", encoding="utf-8") as f:
        json.dump(texts, f, ensure_ascii=False, indent=0)
    models = [
        ("smollm2-135m", args.smollm2, GREEDY_PROMPTS, render_chatml),
        ("gemma3-270m", args.gemma3, GEMMA_PROMPTS, lambda s: s),
        ("qwen2.5-coder-0.5b", args.qwen05, QWEN_PROMPTS, chatml(QWEN_SYSTEM)),
        ("qwen2.5-coder-1.5b", args.qwen15, QWEN_PROMPTS, chatml(QWEN_SYSTEM)),
    ]
    for alias, path, prompts, render in models:
        if path is None:
            continue
        meta = {"model": alias, "sha256": sha256(path),
                "llama_cpp_python": llama_cpp.__version__}
        ids = tokenize_all(path, texts)
        with open(os.path.join(HERE, f"tokenizer_{alias}.json"), "w") as f:
            json.dump({**meta, "ids": ids}, f, separators=(",", ":"))
        cases = greedy(path, prompts, render)
        with open(os.path.join(HERE, f"greedy_{alias}.json"), "w", encoding="utf-8") as f:
            json.dump({**meta, "cases": cases}, f, ensure_ascii=False, indent=1)
        print(f"{alias}: {len(texts)} strings, {len(cases)} greedy prompts", file=sys.stderr)


if __name__ == "__main__":
    main()
