"""t-07-smtp-source: Postfix's load generator, 5 parallel sessions, 200 messages.

  smtp-source -s 5 -m 200 -l 2048 -f sender@src.example -t alice@feed.example
              -M client.example 127.0.0.1:PORT
smtp-source aborts on any unexpected reply, so exit 0 means every MAIL, RCPT,
DATA and end of data got its 2xx/354. Then alice's new/ holds exactly 200
files, each complete: ,S= is the file size and ,W= the CRLF size, Return-Path
<sender@src.example>, one Received:, and the 2048-octet body smtp-source sent;
the 200 queue ids in the log are distinct and each is accepted.
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, maildir_sizes, read, run, split_stored  # noqa: E402

COUNT = 200
LENGTH = 2048


def main():
    with Box(config={"smtp": {"accept_domains": "feed.example"}}) as box:
        box.start()
        t0 = time.monotonic()
        p = subprocess.run(["/usr/sbin/smtp-source", "-s", "5", "-m", str(COUNT), "-l", str(LENGTH),
                            "-f", "sender@src.example", "-t", "alice@feed.example",
                            "-M", "client.example", f"127.0.0.1:{box.port}"],
                           capture_output=True, text=True, timeout=300)
        elapsed = time.monotonic() - t0
        assert p.returncode == 0, f"smtp-source exit {p.returncode}:\n{p.stdout}\n{p.stderr}"
        msgs = box.messages("alice")
        assert len(msgs) == COUNT, len(msgs)
        assert box.tmp_files() == [], box.tmp_files()
        assert set(box.delivered()) == {"alice"}, box.delivered().keys()
        for m in msgs:
            maildir_sizes(m)
            added, original = split_stored(read(m))
            assert added.startswith(b"Return-Path: <sender@src.example>\n"), added
            header, sep, body = original.partition(b"\n\n")
            assert sep, original[:200]
            assert b"\r" not in original
            # smtp-source's body: LENGTH octets of text in lines of <= 80, CRLF-ended
            # on the wire (so LENGTH counts CRLFs); stored with LF line ends
            assert len(body) + body.count(b"\n") >= LENGTH, (m, len(body))
            assert body.endswith(b"\n"), m
        qids = re.findall(r"^boxmaild: (\S+): .*result=accepted", box.log(), re.M)
        assert len(qids) == COUNT and len(set(qids)) == COUNT, (len(qids), len(set(qids)))
        print(f"{COUNT} messages in {elapsed:.1f} s")


run(main)
