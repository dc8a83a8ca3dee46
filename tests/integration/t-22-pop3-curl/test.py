"""t-22-pop3-curl: curl's pop3:// client against a real boxmaild.

curl pop3://HOST:PORT/ lists (LIST), pop3://HOST:PORT/N retrieves (RETR,
byte-exact after curl's un-stuffing: CRLF line ends), -X DELE -I deletes
(DELE + QUIT), -X UIDL lists unique-ids, -X 'TOP N 0' gives the headers;
curl logs in with AUTH PLAIN (CAPA offers SASL PLAIN; poplib covers
USER/PASS). A wrong password fails (curl exit 67).
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

MESSAGES = [
    b"From: a@example.org\nSubject: first\n\nhello\n.dot line\n",
    b"From: b@example.org\nSubject: second\n\n" + b"x" * 5000 + b"\nend\n",
]


def curl(box, path="", *args, user="alice:pw-alice", check=True):
    cmd = ["curl", "-sS", "--max-time", "30", "-u", user, *args,
           f"pop3://127.0.0.1:{box.pop3_port}/{path}"]
    p = subprocess.run(cmd, capture_output=True, timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    return p


def main():
    with boxtest.Box(config={"pop3": {"login_delay": "0"}}) as box:
        box.start()
        for m in MESSAGES:
            box.deliver("alice@example.com", m)
        files = box.messages("alice")
        stored = {boxtest.read(f) for f in files}
        w_sizes = sorted(boxtest.maildir_sizes(f)[1] for f in files)
        names = sorted(os.path.basename(f) for f in files)

        listing = curl(box).stdout.decode().split("\r\n")
        assert listing[-1] == "" and len(listing) == 3, listing
        sizes = sorted(int(l.split()[1]) for l in listing[:-1])
        assert sizes == w_sizes, (sizes, w_sizes)

        got = set()
        for n in (1, 2):
            body = curl(box, str(n)).stdout
            lf = body.replace(b"\r\n", b"\n")
            assert lf in stored, f"RETR {n} via curl differs: {body[:200]!r}"
            got.add(lf)
        assert got == stored

        assert "user=alice login" in box.log()

        uidl = curl(box, "", "-X", "UIDL").stdout.decode().split("\r\n")[:-1]
        assert sorted(l.split()[1] for l in uidl) == names, (uidl, names)

        top = curl(box, "", "-X", "TOP 1 0").stdout
        assert top.endswith(b"\r\n\r\n") and b"Subject: " in top and b"hello" not in top, top

        p = curl(box, "1", "-X", "DELE", "-I")
        assert len(box.delivered()["alice"]) == 1, box.delivered()
        listing = curl(box).stdout.decode().split("\r\n")
        assert len(listing) == 2, listing

        p = curl(box, "", user="alice:wrong", check=False)
        assert p.returncode == 67, (p.returncode, p.stderr)
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
