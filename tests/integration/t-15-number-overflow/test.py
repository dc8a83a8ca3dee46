"""t-15-number-overflow: an overflowing number in every numeric field is refused.

One checked parser (src/text/number.hpp) reads every number; none wraps
around. Client sends / boxmaild answers:

1. Configuration: every numeric key of boxmail.ini(5) (found in
   `boxmaild --print-schema`: number, size, duration) set to a value past
   2^64 (18446744073709551616, 99999999999G, 99999999999999999999h) and to
   2^64 - 1, and a listen port of 2^64: `--check-config` exits 2 naming
   FILE:LINE: [section] key. The same value on SIGHUP: the reload is
   refused naming file, line and key, the running configuration stays.
2. POP3: RETR 18446744073709551617, TOP 1 99999999999999999999,
   LIST 18446744073709551616, DELE 4294967296, UIDL 99999999999999999999
   -> -ERR; the session goes on (RETR 1 -> +OK) and nothing is deleted.
3. Control protocol: `log 99999999999999999999` -> "error log: N must be
   1..200" (an error naming the range); `log 18446744073709551616` the
   same; `log 5` -> ok.
4. Web panel (boxmail.cgi run as a CGI process with the environment a web
   server gives it, logged in as admin): adding a mailbox with quota
   99999999999G (or 17179869184G = 2^64 octets) is refused with the form's
   error and no mailbox is added; changing alice's quota to it is refused
   and her quota stays; 500M is taken (quota=524288000).
"""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import BOXMAILD, Box  # noqa: E402
from panel_cgi import Panel  # noqa: E402

BIG = {"number": ["18446744073709551616", "18446744073709551615", "99999999999999999999"],
       "size": ["99999999999G", "17179869184G", "18446744073709551616", "18014398509481984k"],
       "duration": ["99999999999999999999h", "18446744073709551616", "5124095576030432h"]}


def numeric_keys():
    """[(section, key, type)] of every number/size/duration key in boxmail.ini(5)."""
    man = subprocess.run([BOXMAILD, "--print-schema"], capture_output=True, text=True, check=True).stdout
    out, section = [], None
    for line in man.splitlines():
        m = re.match(r'\.SH "SECTION \[(\w+)\]"', line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"\\fB(\w+)\\fR = \\fI(number|size|duration)\\fR", line)
        if m and section:
            out.append((section, m.group(1), m.group(2)))
    return out


def config_keys(box):
    keys = numeric_keys()
    assert len(keys) >= 18, keys
    base = open(box.ini).read()
    for section, key, kind in keys:
        for value in BIG[kind]:
            text = base.replace(f"[{section}]\n", f"[{section}]\n{key} = {value}\n", 1)
            if f"[{section}]\n" not in base:
                text = base + f"[{section}]\n{key} = {value}\n"
            path = os.path.join(box.dir, "big.ini")
            with open(path, "w") as f:
                f.write(text)
            line = text.splitlines().index(f"{key} = {value}") + 1
            p = subprocess.run([BOXMAILD, "-c", path, "--check-config"], capture_output=True, text=True,
                               timeout=30)
            assert p.returncode == 2, (section, key, value, p.returncode, p.stdout, p.stderr)
            want = f"{path}:{line}: [{section}] {key}:"
            assert want in p.stderr, f"{want!r} not in {p.stderr!r}"
    for section in ("smtp", "pop3"):
        text = open(box.ini).read()
        text = re.sub(rf"(\[{section}\]\nlisten = 127\.0\.0\.1:)\d+", r"\g<1>18446744073709551616", text)
        path = os.path.join(box.dir, "port.ini")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([BOXMAILD, "-c", path, "--check-config"], capture_output=True, text=True, timeout=30)
        assert p.returncode == 2 and f"[{section}] listen:" in p.stderr and "is not 1..65535" in p.stderr, p.stderr


def reload_refused(box):
    good = open(box.ini).read()
    with open(box.ini, "w") as f:
        f.write(good.replace("[smtp]\n", "[smtp]\nmax_recipients = 18446744073709551616\n", 1))
    mark = len(box.log())
    box.signal(signal.SIGHUP)
    box.wait_log(re.escape(box.ini) + r":\d+: \[smtp\] max_recipients: value '18446744073709551616' is too large",
                 10, start=mark)
    box.wait_log(r"keeping the running configuration", 10, start=mark)
    with open(box.ini, "w") as f:
        f.write(good)
    assert box.proc.poll() is None
    box.deliver("alice@x.example", b"Subject: after the refused reload\n\nbody\n")


def pop3(box):
    d = box.pop3_dialogue()
    d.login("alice", "pw-alice")
    for cmd in ("RETR 18446744073709551617", "RETR 18446744073709551616", "TOP 1 99999999999999999999",
                "TOP 18446744073709551617 1", "LIST 18446744073709551616", "DELE 4294967296",
                "DELE 99999999999999999999", "UIDL 99999999999999999999"):
        d.send(cmd)
        d.expect("-ERR")
    d.send("RETR 1")
    d.expect("+OK")
    d.multiline()
    d.send("QUIT")
    d.expect("+OK")
    d.close()
    assert len(box.messages("alice")) + len(os.listdir(os.path.join(box.maildir("alice"), "cur"))) >= 1


def control(box, request):
    return box.control(request)[0]


def control_protocol(box):
    for n in ("99999999999999999999", "18446744073709551616", "4294967297"):
        head = control(box, f"log {n}")
        assert head.startswith("error ") and "1..200" in head, (n, head)
    assert control(box, "log 5").startswith("ok"), control(box, "log 5")


def passwd_quota(box, name):
    for line in open(box.passwd):
        if line.startswith(name + ":"):
            m = re.search(r"quota=(\d+)", line)
            return int(m.group(1)) if m else 0
    return None


def panel(box):
    p = Panel(box)
    p.login()
    _, page = p.request("GET", "/mailboxes")
    csrf = p.csrf(page)
    for quota in ("99999999999G", "17179869184G", "18446744073709551616", "-1M"):
        status, page = p.request("POST", "/mailboxes", {"action": "add", "name": "carol",
                                                         "password": "carol-password", "quota": quota,
                                                         "csrf": csrf})
        assert f"&#39;{quota}&#39; is not a size" in page or f"'{quota}' is not a size" in page, \
            (quota, status, page[-3000:])
        assert passwd_quota(box, "carol") is None, (quota, open(box.passwd).read())
        status, page = p.request("POST", "/mailboxes", {"action": "update", "name": "alice",
                                                         "edit_quota": quota, "csrf": csrf})
        assert "Nothing was changed" in page, (quota, status, page[-3000:])
        assert passwd_quota(box, "alice") == 0, (quota, open(box.passwd).read())
    # A real quota is taken.
    p.request("POST", "/mailboxes", {"action": "add", "name": "carol", "password": "carol-password",
                                     "quota": "500M", "csrf": csrf})
    assert passwd_quota(box, "carol") == 500 << 20, open(box.passwd).read()


def main():
    with Box() as box:
        os.chdir(box.dir)
        config_keys(box)
        box.start()
        box.deliver("alice@x.example", b"Subject: one\n\nbody\n")
        reload_refused(box)
        pop3(box)
        control_protocol(box)
        panel(box)
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
