"""Drives the classroom pages of `detprob serve` in headless Chromium over
the DevTools protocol, as a teacher and a student would: move the slider,
set a seed, press the buttons, and read what the page shows.

Usage: python browser.py CHROMIUM BASE_URL SCREENSHOT_DIR
Exits non-zero with the failed check.
"""
import base64
import json
import os
import sys
import time
import urllib.request

from devtools import Browser

chromium, base, shots = sys.argv[1], sys.argv[2], sys.argv[3]
browser = Browser(chromium)
send, js, fail = browser.send, browser.js, browser.fail

try:
    def wait_for(expression, what, seconds=60):
        deadline = time.time() + seconds
        while time.time() < deadline:
            if js(expression):
                return
            time.sleep(0.1)
        fail(f"timed out waiting for {what}: {expression}")

    def open_page(path):
        send("Page.navigate", url=base + path)
        wait_for("document.readyState === 'complete' && document.getElementById('question') "
                 "&& document.getElementById('question').textContent.length > 0", path)

    def screenshot(name):
        data = send("Page.captureScreenshot", format="png")["data"]
        with open(os.path.join(shots, name), "wb") as f:
            f.write(base64.b64decode(data))

    def state():
        return json.load(urllib.request.urlopen(base + "/class/state"))

    send("Page.enable")
    send("Runtime.enable")

    # A few of the class have drawn already (through the same endpoint).
    for seed in range(11, 19):
        request = urllib.request.Request(base + "/class/sample", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"temperature": 0.7, "seed": seed}).encode())
        urllib.request.urlopen(request).read()
    if state()["total"] != 8:
        fail(f"8 samples drawn, {state()['total']} counted")

    # The projector: slider to 1.2, seed 5, Sample.
    open_page("/")
    wait_for("document.querySelectorAll('#next .bar').length > 0", "the next-token bars")
    js("const s = document.getElementById('temperature'); s.value = '1.2';"
       "s.dispatchEvent(new Event('input')); document.getElementById('seed').value = '5'; true")
    wait_for("document.getElementById('temperature-value').textContent === '1.2'", "the slider's label")
    # The bars follow the slider: their probabilities change with the temperature.
    before = state()["total"]
    js("document.getElementById('sample').click(); true")
    wait_for("document.getElementById('verdict').textContent.includes('seed 5')", "the sample's verdict")
    shown = js("document.getElementById('output').textContent")
    recent = state()["recent"][0]
    if recent["seed"] != 5 or recent["temperature"] != 1.2:
        fail(f"the class counted {recent}")
    if shown.strip() != recent["text"]:
        fail(f"the page streamed {shown!r}, the server recorded {recent['text']!r}")
    if state()["total"] != before + 1:
        fail("the sample was not counted")
    wait_for(f"[...document.querySelectorAll('#histogram .bar .count')].map(e => +e.textContent)"
             f".reduce((a, b) => a + b, 0) === {before + 1}", "the histogram's count")
    # The answer read is a bar (the page words "cut off" / "no answer" itself).
    label = recent["answer"].get("text") or js(f"W[{json.dumps(recent['answer']['kind'])}]")
    bars = js("[...document.querySelectorAll('#histogram .bar .label')].map(e => e.textContent)")
    if not any(label in b for b in bars):
        fail(f"{label!r} not in the histogram {bars}")

    # Same seed again: the page says identical, and it is.
    js("document.getElementById('again').click(); true")
    wait_for("document.getElementById('verdict').textContent.includes('identical')", "'identical'", 60)
    if js("document.getElementById('output').textContent") != shown:
        fail("same seed, different text on the page")
    screenshot("projector.png")

    # A student, in Chinese: their own seed, their sample counted.
    open_page("/join?lang=zh")
    if "抽取我的样本" not in js("document.getElementById('sample').textContent"):
        fail("the student page is not in Chinese")
    before = state()["total"]
    js("document.getElementById('seed').value = '77'; document.getElementById('sample').click(); true")
    wait_for("document.getElementById('verdict').textContent.includes('77')", "the student's verdict")
    if state()["total"] != before + 1 or state()["recent"][0]["seed"] != 77:
        fail("the student's sample was not counted with its seed")
    if state()["recent"][0]["replay"] not in js("document.getElementById('replay').textContent"):
        fail("the replay command is not shown")
    send("Emulation.setDeviceMetricsOverride", width=400, height=900, deviceScaleFactor=1, mobile=True)
    screenshot("student.png")
    send("Emulation.clearDeviceMetricsOverride")

    # A question holding markup is shown as text, never run.
    hostile = "<img src=x onerror=\"window.hacked=1\"><script>window.hacked=2</script> What is 2 + 2?"
    request = urllib.request.Request(base + "/class/question", data=json.dumps({"question": hostile}).encode(),
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request)
    open_page("/")
    wait_for("document.getElementById('question').textContent.includes('What is 2 + 2')", "the new question")
    if js("document.getElementById('question').textContent") != hostile:
        fail("the question is not shown as it was typed")
    if js("document.querySelectorAll('#question *').length") != 0 or js("window.hacked === undefined") is not True:
        fail("the question's markup ran")
    print("ok")
finally:
    browser.close()
