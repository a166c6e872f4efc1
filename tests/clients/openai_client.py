"""Drives `detprob serve` with the official `openai` Python client.

Usage: python openai_client.py BASE_URL MODEL
Exits non-zero (with the failed assertion) when the server does not behave
as an OpenAI-compatible, seed-reproducible endpoint.
"""
import sys
from concurrent.futures import ThreadPoolExecutor

import openai
from openai import OpenAI

base, model = sys.argv[1], sys.argv[2]
client = OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=120)

# The model list.
ids = [m.id for m in client.models.list().data]
assert model in ids, ids

# Completions: a seed repeats, logprobs come with their alternatives.
def complete(seed, **extra):
    return client.completions.create(
        model=model, prompt="Once upon a time", max_tokens=16,
        temperature=0.9, top_p=0.95, seed=seed, **extra)

first = complete(7, logprobs=3)
again = complete(7, logprobs=3)
assert first.choices[0].text == again.choices[0].text, (first, again)
assert first.system_fingerprint and first.system_fingerprint == again.system_fingerprint
lp = first.choices[0].logprobs
assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == first.usage.completion_tokens
assert all(len(top) <= 3 for top in lp.top_logprobs)
assert "".join(lp.tokens) == first.choices[0].text, (lp.tokens, first.choices[0].text)
other = complete(8)
print("completion seed 7:", repr(first.choices[0].text))
print("completion seed 8:", repr(other.choices[0].text))

# Chat: streamed deltas join to the whole answer; usage comes last.
messages = [{"role": "user", "content": "Name three colours."}]
whole = client.chat.completions.create(
    model=model, messages=messages, max_tokens=24, temperature=0.8, seed=11,
    logprobs=True, top_logprobs=2)
content = whole.choices[0].message.content
assert whole.choices[0].message.role == "assistant"
assert len(whole.choices[0].logprobs.content) == whole.usage.completion_tokens
pieces, usage, finish = [], None, None
for chunk in client.chat.completions.create(
        model=model, messages=messages, max_tokens=24, temperature=0.8, seed=11,
        stream=True, stream_options={"include_usage": True}):
    if chunk.usage is not None:
        usage = chunk.usage
    for choice in chunk.choices:
        if choice.delta.content:
            pieces.append(choice.delta.content)
        if choice.finish_reason:
            finish = choice.finish_reason
assert "".join(pieces) == content, (pieces, content)
assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens, usage
assert finish == whole.choices[0].finish_reason
print("chat seed 11:", repr(content), finish)

# A seed gives the same text alone and among 31 concurrent requests, streamed or not.
alone = complete(42).choices[0].text
def crowd_member(i):
    if i == 0:
        return complete(42).choices[0].text
    if i == 1:
        stream = client.completions.create(
            model=model, prompt="Once upon a time", max_tokens=16, temperature=0.9,
            top_p=0.95, seed=42, stream=True)
        return "".join(c.choices[0].text for c in stream if c.choices)
    return complete(1000 + i).choices[0].text
with ThreadPoolExecutor(max_workers=32) as pool:
    results = list(pool.map(crowd_member, range(32)))
assert results[0] == alone and results[1] == alone, (alone, results[:2])
assert len(set(results[2:])) > 1, "different seeds should not all agree"
print("crowd: seed 42 identical alone and among 31 others;", len(set(results)), "distinct texts")

# Errors arrive as the client's typed exceptions.
for bad, param in [(dict(temperature=5), "temperature"), (dict(model="no-such-model"), "model")]:
    kwargs = dict(model=model, prompt="x", max_tokens=2)
    kwargs.update(bad)
    try:
        client.completions.create(**kwargs)
    except openai.BadRequestError as e:
        assert e.status_code == 400 and e.body["param"] == param, e.body
    else:
        raise AssertionError(f"{bad} was accepted")
print("ok")
