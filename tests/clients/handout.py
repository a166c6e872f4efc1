"""Opens a tour handout (HTML) in headless Chromium at each given width and
checks that it fits: the page does not scroll sideways and no element
reaches past the viewport's right edge. Saves a full-page screenshot per
width.

Usage: python handout.py CHROMIUM HANDOUT.html SCREENSHOT_DIR WIDTH...
Prints "ok", or exits non-zero naming what overflowed.
"""
import base64
import os
import sys
import time

from devtools import Browser

chromium, handout, shots = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
widths = [int(w) for w in sys.argv[4:]]
browser = Browser(chromium)
send, js, fail = browser.send, browser.js, browser.fail

try:
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
    browser.close()
