"""t-08-corpus: the whole SpamAssassin public corpus as an ISP feed.

All 6,046 real messages go over 8 parallel SMTP connections (EHLO once per
connection, then MAIL/RCPT/DATA per message) to 6 mailboxes at several ISP
domains, with the default policy (accept_domains = *). The payload is the
file's bytes with LF -> CRLF and dot-stuffing, sent raw (not smtplib), so the
8 messages holding bare CR bytes and the 24 with lines over 998 octets (the
longest 48,677) reach the server as they are.

Checks: every message gets 250 (none refused); each Maildir/new holds exactly
the expected multiset of messages (sha256 of the part below the added
Return-Path/Received headers, with the right Return-Path); 6,046 files in
all; every file's size equals S= in its name and W= equals the size with CRLF
line ends; bare CR bytes and long lines intact; queue ids unique; one log
line per accepted message. Prints the wall time.
"""
import collections
import os
import queue
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import corpus  # noqa: E402

USERS = corpus.FEED_USERS
CONNECTIONS = 8
CR_MESSAGES = 8              # files holding bare CR bytes
LONG_LINE_MESSAGES = 24      # files with a line over 998 octets
LONGEST_LINE = 48677
NAME = re.compile(r"^\d+\.M\d+P\d+Q\d+\.mx\.test\.example,S=\d+,W=\d+$")  # Maildir file name (contract)


def longest_line(data):
    return max(len(line) for line in data.split(b"\n"))


def feed(port, work, results, errors):
    """One connection's thread: takes (name, sender, rcpt, payload) off work."""
    c = corpus.FeedClient(port)
    try:
        refused = c.connect()
        if refused:
            raise AssertionError(f"connection refused: {refused}")
        while True:
            try:
                name, sender, rcpt, payload = work.get_nowait()
            except queue.Empty:
                break
            stage, code, text = c.send_message(sender, [rcpt], payload)
            results[name] = (stage, code, text)
            if c.sock is None:  # a 421 closed it: the final checks report it
                refused = c.connect()
                if refused:
                    raise AssertionError(f"reconnect refused: {refused}")
        c.quit()
    except BaseException as e:  # reported by the main thread
        errors.append(e)
        c.close()


def main():
    files = corpus.ensure_corpus()
    assert len(files) == corpus.EXPECTED_COUNT, len(files)

    messages = {}            # name -> file bytes
    expected = collections.defaultdict(collections.Counter)  # user -> Counter((sender, sha))
    work = queue.Queue()
    for path in files:
        name = corpus.name_of(path)
        with open(path, "rb") as f:
            data = f.read()
        messages[name] = data
        user, rcpt, sender = corpus.feed_route(name)
        expected[user][(sender, corpus.sha256(corpus.stored_form(data)))] += 1
        work.put((name, sender, rcpt, boxtest.to_crlf_dotstuffed(data)))
    assert len(messages) == corpus.EXPECTED_COUNT, "duplicate file names in the corpus"

    cr_names = sorted(n for n, d in messages.items() if b"\r" in d)
    assert len(cr_names) == CR_MESSAGES, f"corpus has {len(cr_names)} messages with CR, expected {CR_MESSAGES}"
    long_names = sorted(n for n, d in messages.items() if longest_line(d) > 998)
    assert len(long_names) == LONG_LINE_MESSAGES, f"{len(long_names)} long-line messages, expected {LONG_LINE_MESSAGES}"
    assert max(longest_line(messages[n]) for n in long_names) == LONGEST_LINE

    with boxtest.Box(users=USERS, name="corpus") as box:
        box.start()
        results, errors = {}, []
        t0 = time.monotonic()
        threads = [threading.Thread(target=feed, args=(box.port, work, results, errors), daemon=True)
                   for _ in range(CONNECTIONS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        total_octets = sum(len(d) for d in messages.values())
        print(f"t-08-corpus: fed {len(results)} messages ({total_octets / 1e6:.1f} MB) over "
              f"{CONNECTIONS} connections in {wall:.1f} s ({len(results) / wall:.0f} msg/s)")
        if errors:
            raise AssertionError(f"{len(errors)} feed connection(s) failed; first: {errors[0]!r}") from errors[0]

        # every message got 250 after end of data; none refused
        not_ok = {n: r for n, r in results.items() if not (r[0] == "final" and r[1] == 250)}
        assert not not_ok, (f"{len(not_ok)} of {len(results)} messages not accepted, e.g. "
                            + "; ".join(f"{n}: {r}" for n, r in sorted(not_ok.items())[:10]))
        assert len(results) == corpus.EXPECTED_COUNT, f"only {len(results)} messages answered"
        qids = [corpus.queue_id(r[2]) for r in results.values()]
        assert None not in qids, "a 250 without 'queued as <QID>'"
        assert len(set(qids)) == len(qids), "queue ids are not unique"

        # the Maildirs: exactly the expected multiset per mailbox
        stored = corpus.maildir_files(box.mail_dir)
        assert set(stored) <= set(USERS), f"unexpected mailboxes: {sorted(set(stored) - set(USERS))}"
        total = 0
        body_of = {}         # sha of stored body -> stored bytes (for the CR / long-line checks)
        for user in USERS:
            got = collections.Counter()
            for path in stored.get(user, []):
                with open(path, "rb") as f:
                    data = f.read()
                assert NAME.match(os.path.basename(path)), f"{path}: name not <sec>.M<usec>P<pid>Q<seq>.<host>,S=,W="
                s, w = corpus.name_sizes(path)
                assert s == len(data), f"{path}: S={s} but the file has {len(data)} octets"
                assert w is not None, f"{path}: no W= in the name"
                crlf_size = len(data) + data.count(b"\n")
                assert w == crlf_size, f"{path}: W={w} but its CRLF size is {crlf_size}"
                head, body = boxtest.split_stored(data)
                rp = head.split(b"\n", 1)[0]
                assert rp.startswith(b"Return-Path: <") and rp.endswith(b">"), rp
                sender = rp[len(b"Return-Path: <"):-1].decode()
                sha = corpus.sha256(body)
                got[(sender, sha)] += 1
                body_of[sha] = body
            total += sum(got.values())
            if got != expected[user]:
                missing = expected[user] - got
                extra = got - expected[user]
                names = {(corpus.feed_route(n)[2], corpus.sha256(corpus.stored_form(d))): n for n, d in messages.items()}
                raise AssertionError(
                    f"mailbox {user}: {sum(got.values())} messages, expected {sum(expected[user].values())}; "
                    f"missing {sum(missing.values())} (e.g. {[names.get(k) for k in list(missing)[:5]]}), "
                    f"unexpected {sum(extra.values())} (e.g. sender/sha {list(extra)[:3]})")
        assert total == corpus.EXPECTED_COUNT, f"{total} files delivered, expected {corpus.EXPECTED_COUNT}"

        # bare CR bytes and long lines intact (already implied by the sha
        # match; checked by name so a failure names the message)
        for n in cr_names + long_names:
            want = corpus.stored_form(messages[n])
            body = body_of.get(corpus.sha256(want))
            assert body is not None, f"{n} not stored intact"
            assert body.count(b"\r") == want.count(b"\r"), f"{n}: CR bytes changed"
            assert longest_line(body) == longest_line(want), f"{n}: longest line changed"

        # Maildir/tmp holds nothing once the feed is done
        for user in USERS:
            tmp = os.path.join(box.maildir(user), "tmp")
            left = os.listdir(tmp) if os.path.isdir(tmp) else []
            assert not left, f"{tmp} holds {left[:5]}"

        assert box.stop() == 0, "boxmaild did not exit 0 on SIGTERM"
        log = box.log()
        accepted = log.count(" result=accepted ")
        refused = log.count(" result=refused ")
        assert accepted == corpus.EXPECTED_COUNT and refused == 0, \
            f"log has {accepted} accepted and {refused} refused lines, expected {corpus.EXPECTED_COUNT} and 0"
        print(f"t-08-corpus: {total} messages in {len(stored)} mailboxes; "
              f"{len(cr_names)} with bare CR and {len(long_names)} with lines > 998 octets intact")


if __name__ == "__main__":
    boxtest.run(main)
