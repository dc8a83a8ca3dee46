"""t-24-pop3-corpus: the whole SpamAssassin corpus through SMTP in, POP3 out.

All 6,046 messages are fed over SMTP (4 connections, raw CRLF/dot-stuffed
payloads as in t-08) into one mailbox, then retrieved:
  - with poplib (RETR of every message; poplib's 2,048-octet line limit is
    raised for the corpus's long lines): each retrieved message equals a
    stored file byte for byte, and below the added Return-Path/Received
    lines equals what was sent, as a multiset over the whole mailbox; LIST
    sizes equal the octets sent; TOP 0 gives exactly the header section;
  - with fetchmail (--keep, MDA writing files, "no stripcr"): every message
    equals its stored file byte for byte, but for two things fetchmail does
    itself: it drops mbox "From " lines from the header section (most corpus
    messages start with one), and it splits lines longer than its 8 KiB
    line buffer (those few messages are counted and printed; poplib above
    covers them).
Bare CR bytes and dot-stuffed lines survive both ways.
"""
import collections
import os
import poplib
import queue
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import corpus  # noqa: E402
import fetch  # noqa: E402

CONNECTIONS = 4
FETCHMAIL_LINE_LIMIT = 8000   # longer lines are split by fetchmail itself


def feed(port, work, errors):
    c = corpus.FeedClient(port)
    try:
        if c.connect():
            raise AssertionError("feed connection refused")
        while True:
            try:
                sender, rcpt, payload = work.get_nowait()
            except queue.Empty:
                break
            stage, code, text = c.send_message(sender, [rcpt], payload)
            if code != 250:
                raise AssertionError(f"refused: {stage} {code} {text}")
        c.quit()
    except BaseException as e:
        errors.append(e)
        c.close()


def without_from_lines(data):
    """The message without "From " lines in its header section: mbox From_
    lines (the corpus has one in most messages) are no header fields, and
    fetchmail drops them."""
    end = data.find(b"\n\n")
    head, rest = (data, b"") if end < 0 else (data[:end + 1], data[end + 1:])
    return b"".join(l for l in head.splitlines(keepends=True) if not l.startswith(b"From ")) + rest


def longest_line(data):
    return max(len(l) for l in data.split(b"\n"))


def main():
    files = corpus.ensure_corpus()
    sent = collections.Counter()
    work = queue.Queue()
    for path in files:
        data = boxtest.read(path)
        sent[corpus.stored_form(data)] += 1
        _, _, sender = corpus.feed_route(corpus.name_of(path))
        work.put((sender, "alice@example.com", boxtest.to_crlf_dotstuffed(data)))

    with boxtest.Box(config={"pop3": {"login_delay": "0"}}, users=("alice",), name="pop3corpus") as box:
        box.start()
        t0 = time.monotonic()
        errors = []
        threads = [threading.Thread(target=feed, args=(box.port, work, errors)) for _ in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        stored_paths = box.messages("alice")
        assert len(stored_paths) == len(files), len(stored_paths)
        stored = collections.Counter(boxtest.read(p) for p in stored_paths)
        print(f"t-24: fed {len(files)} messages in {time.monotonic() - t0:.1f} s")

        # -- poplib ---------------------------------------------------------------
        poplib._MAXLINE = 1 << 20
        t0 = time.monotonic()
        p = poplib.POP3("127.0.0.1", box.pop3_port, timeout=60)
        p.user("alice")
        p.pass_("pw-alice")
        count, total = p.stat()
        assert count == len(files), count
        sizes = [int(l.split()[1]) for l in p.list()[1]]
        got = collections.Counter()
        bodies = collections.Counter()
        octets_total = 0
        for n in range(1, count + 1):
            _, lines, octets = p.retr(n)
            data = b"\n".join(lines) + b"\n"
            assert octets == sizes[n - 1] == len(data) + data.count(b"\n"), (n, octets, sizes[n - 1])
            octets_total += octets
            got[data] += 1
            bodies[boxtest.split_stored(data)[1]] += 1
        wall = time.monotonic() - t0
        assert got == stored, "poplib: retrieved messages differ from the stored files"
        assert bodies == sent, "poplib: retrieved messages differ from what was sent"
        assert octets_total == total
        # TOP n 0 is the header section and its empty line
        for n in (1, count // 2, count):
            _, lines, _ = p.top(n, 0)
            full = b"\n".join(p.retr(n)[1]) + b"\n"
            head = b"\n".join(lines) + b"\n"
            assert full.startswith(head) and (head.endswith(b"\n\n") or head == full), n
        p.quit()
        print(f"t-24: poplib retrieved {count} messages ({octets_total / 1e6:.1f} MB) in {wall:.1f} s "
              f"({count / wall:.0f} msg/s)")
        cr = sum(c for d, c in got.items() if b"\r" in d)
        stuffed = sum(c for d, c in got.items() if b"\n." in d)
        print(f"t-24: {cr} messages with CR bytes, {stuffed} with lines starting with '.' intact")

        # -- fetchmail ------------------------------------------------------------
        out = tempfile.mkdtemp(prefix="boxmail-fetched-")
        t0 = time.monotonic()
        r = fetch.fetchmail(box.pop3_port, "alice", "pw-alice", out, fast_mda=True)
        assert r.returncode == 0, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
        fetched = collections.Counter(without_from_lines(fetch.split_fetched(d)[1]) for d in fetch.delivered(out))
        wall = time.monotonic() - t0
        assert sum(fetched.values()) == len(files), sum(fetched.values())
        fits = collections.Counter()
        for d, c in stored.items():
            if longest_line(d) <= FETCHMAIL_LINE_LIMIT:
                fits[without_from_lines(d)] += c
        long_ones = sum(stored.values()) - sum(fits.values())
        missing = fits - fetched
        assert not missing, f"fetchmail: {sum(missing.values())} messages differ, e.g. {next(iter(missing))[:300]!r}"
        print(f"t-24: fetchmail delivered {len(files)} messages in {wall:.1f} s; "
              f"{sum(fits.values())} byte-exact, {long_ones} with lines over {FETCHMAIL_LINE_LIMIT} "
              f"octets left out (fetchmail splits them)")
        assert len(box.messages("alice")) + len(os.listdir(os.path.join(box.maildir("alice"), "cur"))) == len(files)
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
