"""t-06-swaks: swaks (a real SMTP test client) delivers, with and without PIPELINING.

  swaks --server 127.0.0.1:PORT --to alice@anydomain.example --from x@y.example
        --helo client.example --header "Subject: t-06 ..." --body "..." [--pipeline]
Checks: swaks exits 0 and its transcript shows "250 2.0.0"; alice's new/
gains one file whose Return-Path is <x@y.example>, whose Received: names our
host, whose message holds the Subject and body given, and whose ,S=,W= are right.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, maildir_sizes, read, run, split_stored  # noqa: E402


def swaks(box, tag, *extra):
    body = f"Body of the {tag} message.\nSecond line.\n.Dot line.\n"
    p = subprocess.run(
        ["swaks", "--server", f"127.0.0.1:{box.port}", "--to", "alice@anydomain.example",
         "--from", "x@y.example", "--helo", "client.example",
         "--header", f"Subject: t-06 {tag}", "--body", body, "--timeout", "30", *extra],
        capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"swaks {tag} exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
    assert re.search(r"^<-\s+250 2\.0\.0 ", p.stdout, re.M), p.stdout
    return body, p.stdout


def check(box, tag, body, before):
    msgs = box.messages("alice")
    assert len(msgs) == before + 1, msgs
    mine = [m for m in msgs if f"Subject: t-06 {tag}\n".encode() in read(m)]
    assert len(mine) == 1, mine
    added, original = split_stored(read(mine[0]))
    assert added.startswith(b"Return-Path: <x@y.example>\n"), added
    assert b"mx.test.example" in added, added
    # swaks sends its body with CRLF line ends; stored with LF, dot-stuffing undone
    assert b"\n\n" + body.encode() in original, original
    assert b"\r" not in original
    maildir_sizes(mine[0])


def main():
    with Box(config={"smtp": {"accept_domains": "*"}}) as box:
        box.start()
        body, out = swaks(box, "plain")
        check(box, "plain", body, 0)
        body, out = swaks(box, "pipelined", "--pipeline")
        # with --pipeline swaks sends MAIL, RCPT and DATA as one group
        assert re.search(r"^ -> MAIL FROM:<x@y\.example>$\n^ -> RCPT TO:<alice@anydomain\.example>$"
                         r"\n^ -> DATA$", out, re.M), out
        check(box, "pipelined", body, 1)
        assert box.messages("bob") == []


run(main)
