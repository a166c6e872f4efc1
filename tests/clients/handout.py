"""Opens a tour handout (HTML) in headless Chromium at each given width and
checks that it fits: the page does not scroll sideways and no element
reaches past the viewport's right edge. Saves a full-page screenshot per
width.

Usage: python handout.py CHROMIUM HANDOUT.html SCREENSHOT_DIR WIDTH...
Prints "ok", or exits non-zero naming what overflowed.
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

chromium, handout, shots = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
widths = [int(w) for w in sys.argv[4:]]
profile = tempfile.mkdtemp(prefix="detprob-chromium-")
browser = subprocess.Popen(
    [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
     "--disable-dev-shm-usage", "--remote-debugging-port=0", f"--user-data-dir={profile}",
     "--window-size=1280,1000", "about:blank"],
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fail(message):
    browser.kill()
    raise SystemExit("FAILED: " + message)


try:
    port_file = os.path.join(profile, "DevToolsActivePort")
    for _ in range(300):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.1)
    else:
        fail("Chromium did not start")
    port = open(port_file).read().split()[0]
    targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
    page = next(t for t in targets if t["type"] == "page")
    ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
    counter = 0

    def send(method, **params):
        global counter
        counter += 1
        ws.send(json.dumps({"id": counter, "method": method, "params": params}))
        while True:
            message = json.loads(ws.recv())
            if message.get("id") == counter:
                if "error" in message:
                    fail(f"{method}: {message['error']}")
                return message.get("result", {})

    def js(expression):
        result = send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            fail(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    for width in widths:
        send("Emulation.setDeviceMetricsOverride", width=width, height=900,
             deviceScaleFactor=1, mobile=False)
        send("Page.navigate", url="file://" + handout)
        for _ in range(100):
            if js("document.readyState") == "complete":
                break
            time.sleep(0.1)
        overflow = js("""(() => {
            const w = document.documentElement.clientWidth;
            const wide = [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > w + 1)
                .map(e => e.tagName + ' ' + Math.round(e.getBoundingClientRect().right));
            return {scroll: document.documentElement.scrollWidth, width: w, wide: wide.slice(0, 5)};
        })()""")
        if overflow["scroll"] > overflow["width"] or overflow["wide"]:
            fail(f"at {width} px: {overflow}")
        svgs = js("document.querySelectorAll('svg').length")
        if svgs == 0:
            fail("no chart in the handout")
        shot = send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        with open(os.path.join(shots, f"handout-{width}.png"), "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        print(f"{width} px: fits ({svgs} charts)")
    print("ok")
finally:
    browser.kill()
