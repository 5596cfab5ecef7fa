#!/usr/bin/env python3
"""Loads an `evaluate --report` page in headless Chromium and checks it against `evaluate --json`.

    report_browser.py REPORT.html EVALUATION.json [--screenshot OUT.png]

Through the DevTools protocol (a stdlib WebSocket client, below) it checks that the page
  - loads from its file with no console error, no exception and no request for anything but
    itself (Network.requestWillBeSent for any URL that is not file: or data:),
  - renders: a screenshot that is not blank (the PNG decoded with zlib, its colours counted),
  - has its axes and legends in the DOM (histograms, ROC curve, training curves),
  - plots the figures of the JSON: histogram counts, ROC points, operating points, the table,
    recall per kind and the training curves, read from the DOM's data-* attributes (written
    in the JSON's shortest round-trip text) and compared exactly.
Exit 0 = passed, 1 = failed (reasons on stderr), 77 = skipped (no chromium; the reason
printed). Chromium is Debian's `chromium` package (scripts/install-deps.sh).
"""
import base64
import hashlib
import json
import os
import pathlib
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import zlib

SKIP = 77


# --- a minimal WebSocket client (RFC 6455), enough for the DevTools protocol -------------
class WebSocket:
    def __init__(self, url):
        assert url.startswith("ws://"), url
        host_port, _, path = url[len("ws://"):].partition("/")
        host, _, port = host_port.partition(":")
        self.sock = socket.create_connection((host, int(port)), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (f"GET /{path} HTTP/1.1\r\nHost: {host_port}\r\nUpgrade: websocket\r\n"
             f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
             "Sec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            response += chunk
        head, _, self.buffer = response.partition(b"\r\n\r\n")
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise RuntimeError("websocket handshake refused: " + head.decode(errors="replace"))
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        if accept.encode() not in head:
            raise RuntimeError("websocket handshake: bad Sec-WebSocket-Accept")

    def _read(self, n):
        while len(self.buffer) < n:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def send(self, text):
        payload = text.encode()
        header = bytes([0x81])  # FIN, text
        n = len(payload)
        if n < 126:
            header += bytes([0x80 | n])
        elif n < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", n)
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", n)
        mask = os.urandom(4)  # clients must mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(header + mask + masked)

    def receive(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            opcode, n = b0 & 0x0F, b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._read(8))[0]
            mask = self._read(4) if b1 & 0x80 else None
            payload = self._read(n)
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                raise RuntimeError("websocket closed by the browser")
            if opcode == 0x9:  # ping: answer, then go on
                continue
            message += payload
            if b0 & 0x80:
                return message.decode()


class DevTools:
    """One page target: commands by id, events kept in order."""

    def __init__(self, url):
        self.ws = WebSocket(url)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.receive())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, method, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if any(e["method"] == method for e in self.events):
                return
            message = json.loads(self.ws.receive())
            if "method" in message:
                self.events.append(message)
        raise RuntimeError(f"no {method} within {timeout} s")


# --- PNG decoding with zlib: distinct colours of the screenshot ---------------------------
def png_pixels(png):
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise RuntimeError("screenshot is not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", data[:10])
            if depth != 8 or color_type not in (2, 6):
                raise RuntimeError(f"unexpected PNG format depth {depth} colour {color_type}")
            channels = 3 if color_type == 2 else 4
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                predictor = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + predictor) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, channels, rows


# --- what the DOM says -------------------------------------------------------------------
DOM_FIGURES = r"""
(() => {
  const nums = s => (s === null || s === '') ? [] : s.split(',').map(Number);
  const num = s => s === 'null' ? null : Number(s);
  const out = {histograms: {}, roc: {}, points: {}, table: [], kinds: [], training: {},
               axes: [], legends: [], counts: null, auc: null};
  for (const f of document.querySelectorAll('figure[data-chart="histogram"]')) {
    const h = {low: num(f.dataset.low), high: num(f.dataset.high),
               threshold: num(f.dataset.threshold)};
    for (const g of f.querySelectorAll('g.bars')) {
      h[g.dataset.class] = [...g.querySelectorAll('rect.bar')].map(r => Number(r.dataset.count));
    }
    const line = f.querySelector('line.threshold');
    h.line = line ? num(line.dataset.threshold) : null;
    out.histograms[f.dataset.series] = h;
  }
  for (const p of document.querySelectorAll('polyline.roc-curve')) {
    out.roc[p.dataset.series] = {fpr: nums(p.dataset.fpr), tpr: nums(p.dataset.tpr),
                                 auc: num(p.dataset.auc),
                                 drawn: p.getAttribute('points').trim().split(/\s+/).length};
  }
  for (const c of document.querySelectorAll('circle.operating-point')) {
    (out.points[c.dataset.series] ||= []).push(
        {target_fpr: num(c.dataset.targetFpr), fpr: num(c.dataset.fpr),
         recall: num(c.dataset.recall)});
  }
  for (const tr of document.querySelectorAll('#operating-points tbody tr')) {
    const row = {point: tr.dataset.point, target_fpr: num(tr.dataset.targetFpr), cells: {}};
    for (const td of tr.querySelectorAll('td')) {
      row.cells[td.dataset.series + '.' + td.dataset.field] = num(td.dataset.value);
    }
    out.table.push(row);
  }
  for (const tr of document.querySelectorAll('#by-kind tbody tr')) {
    const row = {kind: tr.dataset.kind, label: tr.querySelector('th').textContent, cells: {}};
    for (const td of tr.querySelectorAll('td')) {
      row.cells[td.dataset.series + '.' + td.dataset.field] = num(td.dataset.value);
    }
    out.kinds.push(row);
  }
  for (const f of document.querySelectorAll('figure[data-chart="training"]')) {
    out.training[f.id] = {epochs: nums(f.dataset.epochs), values: nums(f.dataset.values),
                          circles: f.querySelectorAll('circle.epoch-point').length};
  }
  for (const svg of document.querySelectorAll('figure svg')) {
    const id = svg.closest('figure').id;
    for (const a of svg.querySelectorAll('g.axis')) {
      const box = a.getBBox();
      out.axes.push({figure: id, cls: a.getAttribute('class'), title: a.dataset.title,
                     ticks: a.querySelectorAll('g.tick').length, width: box.width,
                     height: box.height});
    }
    for (const l of svg.querySelectorAll('g.legend')) {
      out.legends.push({figure: id, entries: [...l.querySelectorAll('g.legend-entry text')]
                                              .map(t => t.textContent)});
    }
  }
  const counts = document.getElementById('counts');
  out.counts = {normal: Number(counts.dataset.normal), anomalous: Number(counts.dataset.anomalous)};
  const auc = document.getElementById('auc');
  out.auc = {model: num(auc.dataset.model), oracle: auc.dataset.oracle ? num(auc.dataset.oracle) : null};
  out.trainingNote = document.getElementById('training-note')?.textContent ?? null;
  return JSON.stringify(out);
})()
"""


class Checker:
    def __init__(self):
        self.failures = []

    def equal(self, what, got, expected):
        if got != expected:
            shown = lambda v: (json.dumps(v)[:300])
            self.failures.append(f"{what}: page has {shown(got)}, evaluate --json has {shown(expected)}")

    def true(self, what, condition):
        if not condition:
            self.failures.append(what)


def check_figures(check, dom, figures, series):
    """One series (model or oracle) of the DOM against its JSON figures."""
    h, jh = dom["histograms"].get(series), figures["histogram"]
    check.true(f"{series}: no histogram in the page", h is not None)
    if h:
        check.equal(f"{series} histogram low", h["low"], jh["low"])
        check.equal(f"{series} histogram high", h["high"], jh["high"])
        check.equal(f"{series} histogram normal counts", h.get("normal"), jh["normal"])
        check.equal(f"{series} histogram anomalous counts", h.get("anomalous"), jh["anomalous"])
        check.equal(f"{series} histogram threshold", h["threshold"], figures["recommended_threshold"])
        if figures["recommended_threshold"] is not None:
            check.equal(f"{series} threshold line", h["line"], figures["recommended_threshold"])
    roc, jroc = dom["roc"].get(series), figures["roc"]
    check.true(f"{series}: no ROC curve in the page", roc is not None)
    if roc:
        check.equal(f"{series} ROC false-positive rates", roc["fpr"], jroc["false_positive_rate"])
        check.equal(f"{series} ROC true-positive rates", roc["tpr"], jroc["true_positive_rate"])
        check.equal(f"{series} ROC points drawn", roc["drawn"], len(jroc["false_positive_rate"]))
        check.equal(f"{series} ROC AUC", roc["auc"], figures["auc"])
    check.equal(f"{series} operating points", dom["points"].get(series),
                [{"target_fpr": r["target_fpr"], "fpr": r["false_positive_rate"],
                  "recall": r["recall"]} for r in figures["recall_at_fpr"]])
    # The table: the recommended row, then one per fixed rate.
    expected_rows = [("recommended", figures["at_recommended"])] + [
        ("fpr", r) for r in figures["recall_at_fpr"]]
    check.equal("table rows", len(dom["table"]), len(expected_rows))
    for row, (point, r) in zip(dom["table"], expected_rows):
        check.equal("table row kind", row["point"], point)
        fields = ["threshold", "recall", "precision"]
        if series == "model":
            fields += ["false_positive_rate", "alerts_per_day"]
        for field in fields:
            check.equal(f"table {point} {row['target_fpr']} {series}.{field}",
                        row["cells"].get(f"{series}.{field}"), r[field])
    if "by_kind" in figures:
        check.equal("kinds", [k["kind"] for k in dom["kinds"]],
                    [k["kind"] for k in figures["by_kind"]])
        for row, k in zip(dom["kinds"], figures["by_kind"]):
            check.equal("kind label", row["label"], k["kind"])
            check.equal(f"{k['kind']} {series} auc", row["cells"].get(f"{series}.auc"), k["auc"])
            check.equal(f"{k['kind']} {series} recall", row["cells"].get(f"{series}.recall"),
                        k["recall"])
            if series == "model":
                check.equal(f"{k['kind']} anomalies", row["cells"].get("model.anomalous"),
                            k["anomalous"])
                for target, recall in zip(figures["recall_at_fpr"], k["recall_at_fpr"]):
                    key = "model.recall_at_fpr:" + json.dumps(target["target_fpr"])
                    check.equal(f"{k['kind']} {key}", row["cells"].get(key), recall)
    else:
        check.equal("kinds (none in the JSON)", dom["kinds"], [])


def main():
    args = sys.argv[1:]
    screenshot_out = None
    if "--screenshot" in args:
        at = args.index("--screenshot")
        screenshot_out = args[at + 1]
        del args[at:at + 2]
    report, evaluation = os.path.abspath(args[0]), json.load(open(args[1]))
    chromium = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None)
    if not chromium:
        print("skipped: chromium is not installed (Debian's `chromium` package; "
              "scripts/install-deps.sh installs it)")
        return SKIP
    profile = tempfile.mkdtemp(prefix="ipinsights-chromium-")
    browser = subprocess.Popen(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,3200",
         f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if browser.poll() is not None or time.time() > deadline:
                print("chromium did not start: " + browser.stderr.read().decode(errors="replace")[-2000:],
                      file=sys.stderr)
                return 1
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Network", "Page"):
            tools.call(f"{domain}.enable")
        tools.events.clear()
        tools.call("Page.navigate", url=pathlib.Path(report).as_uri())
        tools.wait_for("Page.loadEventFired", 60)
        time.sleep(0.5)  # late console messages, requests after load
        dom = json.loads(tools.call("Runtime.evaluate", expression=DOM_FIGURES,
                                    returnByValue=True)["result"]["value"])
        shot = base64.b64decode(tools.call("Page.captureScreenshot", format="png",
                                           captureBeyondViewport=True)["data"])
        tools.call("Runtime.evaluate", expression="0")  # drain the events the screenshot raised
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=20)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    if screenshot_out:
        with open(screenshot_out, "wb") as f:
            f.write(shot)

    check = Checker()
    for event in tools.events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.exceptionThrown":
            check.failures.append("exception: " + json.dumps(params)[:500])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
            check.failures.append("console: " + json.dumps(params.get("args"))[:500])
        elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
            check.failures.append("log: " + params["entry"].get("text", "")[:500])
        elif method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if not (url.startswith("file:") or url.startswith("data:")):
                check.failures.append("network request: " + url)
    requests = [e for e in tools.events if e["method"] == "Network.requestWillBeSent"]
    check.true("the page itself was never requested", any(
        urllib.parse.unquote(e["params"]["request"]["url"]) == "file://" + report
        for e in requests))

    width, height, channels, rows = png_pixels(shot)
    colours = set()
    non_white = 0
    for row in rows[::4]:
        for x in range(0, width * channels, channels * 4):
            pixel = row[x:x + 3]
            colours.add(pixel)
            non_white += pixel != b"\xff\xff\xff"
    sampled = len(rows[::4]) * len(range(0, width * channels, channels * 4))
    check.true(f"screenshot blank or nearly: {len(colours)} colours", len(colours) >= 20)
    check.true(f"screenshot mostly empty: {non_white} of {sampled} sampled pixels drawn",
               non_white > sampled // 100)

    # Axes (an x and a y axis with ticks and a title, actually laid out) and legends.
    charts = ["histogram-model", "roc"] + (["histogram-oracle"] if "oracle" in evaluation else [])
    if evaluation.get("training"):
        charts += ["training-loss"]
        if any(e["validation_auc"] is not None for e in evaluation["training"]["epochs"]):
            charts += ["training-auc"]
    for chart in charts:
        for axis in ("x-axis", "y-axis"):
            found = [a for a in dom["axes"] if a["figure"] == chart and axis in a["cls"]]
            check.true(f"{chart}: no {axis}", len(found) == 1)
            for a in found:
                check.true(f"{chart} {axis}: {a['ticks']} ticks", a["ticks"] >= 2)
                check.true(f"{chart} {axis}: no title", bool(a["title"]))
                check.true(f"{chart} {axis}: not laid out", a["width"] > 0 and a["height"] > 0)
        legends = [l for l in dom["legends"] if l["figure"] == chart]
        check.true(f"{chart}: no legend", len(legends) == 1 and len(legends[0]["entries"]) >= 1)
    roc_legend = next((l["entries"] for l in dom["legends"] if l["figure"] == "roc"), [])
    check.true(f"roc legend lacks the model: {roc_legend}", any(e.startswith("model") for e in roc_legend))
    x_ticks = [a["ticks"] for a in dom["axes"] if a["figure"] == "roc" and "x-axis" in a["cls"]]
    check.equal("ROC x-axis decades (1e-4 .. 1)", x_ticks, [5])

    check.equal("counts", dom["counts"], {"normal": evaluation["normal"],
                                          "anomalous": evaluation["anomalous"]})
    check.equal("AUC", dom["auc"], {"model": evaluation["auc"],
                                    "oracle": evaluation["oracle"]["auc"] if "oracle" in evaluation else None})
    check_figures(check, dom, evaluation, "model")
    if "oracle" in evaluation:
        check_figures(check, dom, evaluation["oracle"], "oracle")
    else:
        check.true("an oracle series without oracle figures", "oracle" not in dom["roc"])

    training = evaluation.get("training")
    if training:
        epochs = training["epochs"]
        check.equal("loss per epoch", dom["training"].get("training-loss", {}).get("values"),
                    [e["loss"] for e in epochs])
        check.equal("loss epochs", dom["training"].get("training-loss", {}).get("epochs"),
                    [e["epoch"] for e in epochs])
        with_auc = [e for e in epochs if e["validation_auc"] is not None]
        check.equal("validation AUC per epoch", dom["training"].get("training-auc", {}).get("values"),
                    [e["validation_auc"] for e in with_auc])
        check.equal("loss points drawn", dom["training"].get("training-loss", {}).get("circles"),
                    len(epochs))
    else:
        check.equal("training note", dom["trainingNote"], evaluation.get("training_note"))

    if check.failures:
        for failure in check.failures:
            print("FAIL " + failure, file=sys.stderr)
        return 1
    print(f"ok: {len(requests)} request(s), all local; screenshot {width}x{height}, "
          f"{len(colours)} colours; {len(dom['axes'])} axes, {len(dom['legends'])} legends; "
          f"figures equal evaluate --json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
