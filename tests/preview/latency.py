#!/usr/bin/env python3
"""Save-to-served time of kiln preview for a prose edit (README, "Previewing
while you write"): copies an article (default content/, with its cache) to a
temporary folder, starts `kiln preview` on it, then N times appends a new word
to the first paragraph of a chapter and measures, from the moment the file is
written, how long until GET of that chapter's page returns the new word. Never
trains: every result must be in the copied cache (--no-run).

    python3 tests/preview/latency.py [--kiln bin/kiln] [--content content] [-n 20]
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", default="bin/kiln")
    ap.add_argument("--content", default="content")
    ap.add_argument("--chapter", default=None, help="file name in content/ (default: the first chapter)")
    ap.add_argument("-n", type=int, default=20)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="kiln-latency-")
    content = os.path.join(tmp, "content")
    shutil.copytree(a.content, content)
    chapters = sorted(f for f in os.listdir(content) if f.endswith(".md") and f != "index.md")
    chapter = a.chapter or chapters[0]
    log = open(os.path.join(tmp, "log"), "w+")
    p = subprocess.Popen([os.path.abspath(a.kiln), "preview", "--no-run", "--port", "0", "--content", content,
                          "--out", os.path.join(tmp, "site")], stderr=log, cwd=os.getcwd())
    try:
        port = None
        for _ in range(600):
            log.seek(0)
            m = re.search(r"http://127\.0\.0\.1:(\d+)/", log.read())
            if m: port = int(m.group(1)); break
            if p.poll() is not None: sys.exit("kiln preview stopped:\n" + open(log.name).read())
            time.sleep(0.05)
        if not port: sys.exit("kiln preview did not start")
        page = "http://127.0.0.1:%d/%s" % (port, chapter[:-3] + ".html")
        path = os.path.join(content, chapter)
        text = open(path).read()
        times = []
        for i in range(a.n):
            word = "latencyprobe%d" % i
            new = re.sub(r"(\n\n[A-Z][^\n`{|#>]*?)(\.)", lambda m: m.group(1) + " " + word + m.group(2), text, count=1)
            t0 = time.monotonic()
            with open(path, "w") as f: f.write(new)
            while True:
                body = urllib.request.urlopen(page).read().decode()
                if word in body: break
                if time.monotonic() - t0 > 30: sys.exit("the edit did not show within 30 s:\n" + open(log.name).read())
                time.sleep(0.002)
            times.append((time.monotonic() - t0) * 1000)
            time.sleep(0.3)
        times.sort()
        print("kiln preview, save to served (%s, %d edits): median %.0f ms, min %.0f ms, max %.0f ms" %
              (chapter, len(times), statistics.median(times), times[0], times[-1]))
    finally:
        p.terminate()
        p.wait()
        shutil.rmtree(tmp, ignore_errors=True)

main()
