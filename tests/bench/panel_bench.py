#!/usr/bin/python3
"""panel_bench - how long boxmail.cgi takes to serve each panel page.

    tests/bench/panel_bench.py --build build [--bin build-static] [--runs 30]

Starts boxmaild + busybox httpd + the CGI (tests/web/panel_env.py) in a
private network namespace, logs in, then runs the CGI the way a web server
does (fork + exec with the CGI environment, body on stdin) RUNS times per
page and prints the median and the 95th percentile wall time; the status
page includes its three control-socket requests to boxmaild. The static
build's boxmail.cgi (--bin, the appliance's) is measured when it exists.
Target: every page under 50 ms on the build machine (slow ARM boards are
several times slower). Not a ctest test; `make bench` runs it.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
TARGET_MS = 50.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--bin", default=None)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not a.in_netns:
        cmd = [os.path.join(SOURCE, "tests/netns-run"), sys.executable, os.path.abspath(__file__), "--in-netns",
               "--build", a.build, "--runs", str(a.runs)] + (["--bin", a.bin] if a.bin else [])
        sys.exit(subprocess.call(cmd))

    cgi = os.path.abspath(os.path.join(a.build, "boxmail.cgi"))
    if a.bin and os.path.exists(os.path.join(a.bin, "boxmail.cgi")):
        cgi = os.path.abspath(os.path.join(a.bin, "boxmail.cgi"))
    d = tempfile.mkdtemp(prefix="boxmail-panel-bench-")
    env_proc = subprocess.Popen([sys.executable, os.path.join(SOURCE, "tests/web/panel_env.py"), "--build", a.build,
                                 "--dir", d, "--http", "127.0.0.1:18081", "--smtp-port", "12526",
                                 "--pop3-port", "11101", "--admin-password", "bench-password", "--demo",
                                 "--stdin-stop", "--cgi", cgi],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in env_proc.stdout:
        if "panel-env: ready" in line:
            break
    try:
        base = "http://127.0.0.1:18081/cgi-bin/boxmail.cgi"
        # The login form carries a CSRF token that must match its cookie.
        with urllib.request.urlopen(base + "/login") as r:
            login_cookie = r.headers["Set-Cookie"].split(";")[0]
            token = re.search(rb'name="csrf" value="([0-9a-f]{32}-[0-9]+-[0-9a-f]{32})"', r.read()).group(1).decode()
        req = urllib.request.Request(base + "/login", data=f"csrf={token}&user=admin&password=bench-password".encode(),
                                     headers={"Cookie": login_cookie})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(req)
        except urllib.error.HTTPError as e:
            cookie = next(c.split(";")[0] for c in e.headers.get_all("Set-Cookie") if c.startswith("boxmail_session="))
        page = urllib.request.urlopen(urllib.request.Request(base + "/status", headers={"Cookie": cookie})).read()
        csrf = re.search(rb'name="csrf" value="([0-9a-f]{32})"', page).group(1).decode()
        env = {"PATH": "/usr/bin:/bin", "GATEWAY_INTERFACE": "CGI/1.1", "SCRIPT_NAME": "/cgi-bin/boxmail.cgi",
               "REMOTE_ADDR": "127.0.0.1", "HTTP_COOKIE": cookie, "BOXMAIL_CONFIG": os.path.join(d, "boxmail.ini"),
               "BOXMAIL_ADMIN": os.path.join(d, "admin"), "BOXMAIL_PANEL_STATE": os.path.join(d, "panel")}
        cases = [("GET /login", "GET", "/login", "", b""),
                 ("GET /status", "GET", "/status", "", b""),
                 ("GET /mailboxes", "GET", "/mailboxes", "", b""),
                 ("GET /aliases", "GET", "/aliases", "", b""),
                 ("GET /feed", "GET", "/feed", "", b""),
                 ("GET /retrieval", "GET", "/retrieval", "", b""),
                 ("GET /backup", "GET", "/backup", "", b""),
                 ("GET /style.css", "GET", "/style.css", "", b""),
                 ("POST /feed (save + reload)", "POST", "/feed", "", None),
                 ("POST /feed (invalid)", "POST", "/feed", "",
                  urllib.parse.urlencode({"csrf": csrf, "feed_mode": "any", "smtp.max_message_size": "abc"}).encode())]
        print(f"panel bench: {cgi} ({os.path.getsize(cgi)} bytes), {a.runs} runs per page")
        print(f"{'page':32} {'median ms':>10} {'p95 ms':>8}")
        worst = 0.0
        for label, method, path, query, body in cases:
            times = []
            for i in range(a.runs):
                if label.startswith("POST /feed (save"):   # a real change each time: write + reload
                    body = urllib.parse.urlencode({"csrf": csrf, "feed_mode": "any",
                                                   "smtp.max_message_size": f"{20 + i % 2}M"}).encode()
                e = dict(env, REQUEST_METHOD=method, PATH_INFO=path, QUERY_STRING=query)
                if body:
                    e.update(CONTENT_TYPE="application/x-www-form-urlencoded", CONTENT_LENGTH=str(len(body)))
                t0 = time.perf_counter()
                out = subprocess.run([cgi], input=body, env=e, capture_output=True).stdout
                times.append((time.perf_counter() - t0) * 1000)
                if not out.startswith(b"Status: 200") and not out.startswith(b"Status: 303"):
                    raise SystemExit(f"{label}: {out[:200]!r}")
            times.sort()
            med = statistics.median(times)
            p95 = times[int(len(times) * 0.95) - 1]
            worst = max(worst, p95)
            print(f"{label:32} {med:10.1f} {p95:8.1f}")
        print(f"panel bench: slowest p95 {worst:.1f} ms ({'within' if worst < TARGET_MS else 'OVER'} the "
              f"{TARGET_MS:.0f} ms target)")
    finally:
        env_proc.stdin.close()
        env_proc.wait(timeout=60)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


if __name__ == "__main__":
    main()
