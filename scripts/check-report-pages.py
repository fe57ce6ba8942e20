#!/usr/bin/env python3
"""Loads every page of a zbench report in headless Chromium and fails on broken links.

    scripts/check-report-pages.py REPORT_DIR

Serves REPORT_DIR on 127.0.0.1 (a free port, this process only), loads each *.html with
`chromium --headless --dump-dom`, and checks, from the server's own log of what Chromium
requested: every page loaded (200), every <img> in the rendered DOM was fetched with 200 and
an image content type, and every local <a href> names a file that exists. Exit 0 when all
pages pass, 1 on any broken page, image or link (each one printed), 2 on bad usage. When
Chromium is absent it prints why the check is skipped and exits 0 (CI installs Debian's
`chromium` when it can; see .ci/run).
"""

import html.parser
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import xml.etree.ElementTree

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.anchors = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "img":
            self.images.append(a.get("src") or "")
        elif tag == "a" and a.get("href"):
            self.anchors.append(a["href"])


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    root = os.path.abspath(sys.argv[1])
    pages = sorted(p for p in os.listdir(root) if p.endswith(".html")) if os.path.isdir(root) else []
    if "index.html" not in pages:
        print(f"{root} has no index.html: not a report directory", file=sys.stderr)
        return 1
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("skipped: chromium not found (Debian: apt-get install chromium); report pages not checked in a browser")
        return 0

    served = []  # (path, status, content type)
    lock = threading.Lock()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **k):
            super().__init__(*a, directory=root, **k)

        def send_response(self, code, message=None):
            self._code = code
            super().send_response(code, message)

        def send_header(self, key, value):
            if key.lower() == "content-type":
                with lock:
                    served.append((urllib.parse.unquote(self.path.split("?")[0]), self._code, value))
            super().send_header(key, value)

        def send_error(self, code, message=None, explain=None):
            with lock:
                served.append((urllib.parse.unquote(self.path.split("?")[0]), code, ""))
            super().send_error(code, message, explain)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    problems = []
    try:
        with tempfile.TemporaryDirectory() as profile:
            for page in pages:
                with lock:
                    served.clear()
                url = f"http://127.0.0.1:{port}/{page}"
                run = subprocess.run(
                    [chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
                    capture_output=True, text=True, timeout=120,
                )
                dom = run.stdout
                if run.returncode != 0 or "<html" not in dom:
                    problems.append(f"{page}: chromium failed (exit {run.returncode}): {run.stderr.strip()[-300:]}")
                    continue
                links = Links()
                links.feed(dom)
                with lock:
                    log = list(served)
                if not any(p == f"/{page}" and s == 200 for p, s, _ in log):
                    problems.append(f"{page}: the page itself did not load with 200")
                for src in links.images:
                    path = "/" + urllib.parse.urljoin(page, src)
                    hits = [(s, t) for p, s, t in log if p == path]
                    if not hits:
                        problems.append(f"{page}: image {src} was never requested")
                    elif not any(s == 200 and t.startswith("image/") for s, t in hits):
                        problems.append(f"{page}: image {src} is broken: {hits}")
                    elif src.endswith(".svg"):
                        try:
                            xml.etree.ElementTree.parse(os.path.join(root, urllib.parse.unquote(path[1:])))
                        except xml.etree.ElementTree.ParseError as e:
                            problems.append(f"{page}: image {src} is not well-formed SVG: {e}")
                for href in links.anchors:
                    parsed = urllib.parse.urlparse(href)
                    if parsed.scheme or href.startswith("#"):
                        continue
                    target = os.path.join(root, urllib.parse.unquote(parsed.path))
                    if not os.path.isfile(target):
                        problems.append(f"{page}: link {href} names no file")
                print(f"ok {page}: {len(links.images)} images, {len(links.anchors)} links" if not any(
                    p.startswith(page + ":") for p in problems) else f"BROKEN {page}")
    finally:
        server.shutdown()
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s) in {len(pages)} pages", file=sys.stderr)
        return 1
    print(f"all {len(pages)} pages load with every image and link intact")
    return 0


if __name__ == "__main__":
    sys.exit(main())
