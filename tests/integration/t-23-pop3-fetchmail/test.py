"""t-23-pop3-fetchmail: fetchmail against a real boxmaild.

fetchmail (--keep, USER/PASS, UIDL) delivers each message through an MDA
into files. Checks: every message arrives byte for byte as stored (after
removing fetchmail's own Received: header; "no stripcr", so a bare CR
survives), dot-stuffed lines and an 8,000-octet line included (fetchmail itself
breaks lines longer than its 8 KiB buffer; t-24 checks those with poplib); a second run
with --keep fetches nothing new (UIDL stable); a run without keep deletes
on the server (DELE + QUIT), leaving the Maildir empty.
"""
import collections
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import fetch  # noqa: E402

MESSAGES = [
    b"From: a@example.org\nSubject: plain\n\nhello\n",
    b"From: b@example.org\nSubject: dots\n\n.\n..\n.x\nend\n",
    b"From: c@example.org\nSubject: bare CR\n\nCR\rinside\nCR at end\r\n",
    b"From: d@example.org\nSubject: long line\n\n" + b"y" * 8000 + b"\n",
    b"From: e@example.org\nSubject: no body\n\n",
]


def main():
    with boxtest.Box(config={"pop3": {"login_delay": "0"}}) as box:
        box.start()
        for m in MESSAGES:
            box.deliver("alice@example.com", m)
        stored = collections.Counter(boxtest.read(f) for f in box.messages("alice"))
        assert sum(stored.values()) == len(MESSAGES)

        out = tempfile.mkdtemp(prefix="boxmail-fetched-")
        home = tempfile.mkdtemp(prefix="boxmail-fetchmail-home-")
        p = fetch.fetchmail(box.pop3_port, "alice", "pw-alice", out, home=home)
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        got = collections.Counter(fetch.split_fetched(d)[1] for d in fetch.delivered(out))
        assert got == stored, f"fetched {sum(got.values())}, differences: {[d[:300] for d in (got - stored)][:2]}"
        assert len(box.delivered()["alice"]) == len(MESSAGES), "--keep removed mail"

        # again with --keep: UIDL says nothing is new
        p = fetch.fetchmail(box.pop3_port, "alice", "pw-alice", out, home=home)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)   # 1: no mail
        assert len(fetch.delivered(out)) == len(MESSAGES)

        # without keep: fetched and deleted on the server
        out2 = tempfile.mkdtemp(prefix="boxmail-fetched-")
        p = fetch.fetchmail(box.pop3_port, "alice", "pw-alice", out2, keep=False, extra=["--all"])
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
        assert len(fetch.delivered(out2)) == len(MESSAGES)
        assert box.delivered().get("alice", []) == [], box.delivered()
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
