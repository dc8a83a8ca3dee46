"""t-09-crash: SIGKILL boxmaild again and again during a corpus feed.

Corpus messages (in a stable order), each with a unique first header line
"X-Boxmail-Test-Id: <n>", go over 8 parallel connections while the daemon
is killed with SIGKILL 4 times at random intervals of 0.3-1.5 s and
restarted each time; at least 2,000, and more until the last kill is done,
so the kills always land in the feed however fast the daemon is. Clients reconnect and resend every message whose
transaction was cut off without a reply, retry 4xx a few times like an MTA,
and give up on 5xx. Each attempt is recorded: 250 / 4xx / 5xx / cut off
(with the stage it died in). The feed and the audit of the Maildirs live in
lib/crashfeed.py (shared with the soak harness, tests/bench/soak.py).

Checks, from the durability promise (a 250 means on disk; a crash loses no
acknowledged message and never delivers a partial one; at worst a duplicate):
- every message that got 250 is in its Maildir/new;
- a duplicate only for a message with an attempt cut off after the whole
  message (CRLF.CRLF included) had been sent; so a message accepted at its
  first attempt and never resent appears exactly once. An attempt cut off
  before its end of data was sent can never have delivered anything;
- nothing delivered for a message only ever told 4xx/5xx;
- no partial file: every file's size equals S= in its name, its content below
  the added headers equals exactly the message sent with its id, and it sits
  in the right mailbox (new/ and cur/ are read);
- distinct delivered ids == ids that got 250 (== all sent: the default
  policy accepts every corpus message, see t-08);
- once the daemon is idle after the last restart and after a final SIGTERM
  (exit 0), <spool_dir>/tmp is empty (leftovers are cleaned at start).
Set BOXMAIL_CRASH_SEED to replay a run's kill intervals.
"""
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import corpus  # noqa: E402
import crashfeed  # noqa: E402

MESSAGES = 2000              # at least; more while kills are still to come
MAX_MESSAGES = 20000
CONNECTIONS = 8
KILLS = 4
KILL_INTERVAL = (0.3, 1.5)   # seconds between kills (from the restart)
MAX_TEMP_RETRIES = 5         # 4xx replies per message before giving up
DEADLINE = 600               # seconds for the whole feed


def spool_tmp(box):
    d = os.path.join(box.spool_dir, "tmp")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def main():
    seed = int(os.environ.get("BOXMAIL_CRASH_SEED", str(int(time.time() * 1000) % 1000000)))
    rnd = random.Random(seed)
    files = corpus.ensure_corpus()
    chosen = sorted(files, key=lambda p: corpus.stable_hash(corpus.name_of(p)))

    with boxtest.Box(users=corpus.FEED_USERS, name="crash") as box:
        box.start()
        feed = crashfeed.Feed(box.port, chosen, min_messages=MESSAGES, max_messages=MAX_MESSAGES,
                              deadline=DEADLINE, temp_retries=MAX_TEMP_RETRIES)
        t0 = time.monotonic()
        feed.start(CONNECTIONS)

        kills = []                       # (seconds since start, messages done, spool/tmp leftovers)
        for _ in range(KILLS):
            time.sleep(rnd.uniform(*KILL_INTERVAL))
            if not feed.alive():
                break
            box.kill()
            with feed.lock:
                done = feed.done
            kills.append((time.monotonic() - t0, done, len(spool_tmp(box))))
            box.start()
        feed.stop()
        feed.join()
        wall = time.monotonic() - t0

        cuts = feed.cutoffs()
        print(f"t-09-crash: seed {seed}; {feed.next_id} messages over {CONNECTIONS} connections in {wall:.1f} s; "
              "kills at " + ", ".join(f"{t:.1f} s ({d} done, {k} in spool/tmp)" for t, d, k in kills)
              + f"; cut-offs by stage {dict(cuts)}")
        assert len(kills) == KILLS, (f"the feed ended after {len(kills)} of {KILLS} kills; "
                                     "it must outlast them (more messages?)")
        assert sum(cuts.values()) > 0, "no transaction was cut off: the kills missed the feed"

        # Idle after the last restart: no message is left in the spool's tmp.
        # The only files there are the empty ones the spool pool makes ahead
        # of time (a 250 may go out just before its spool file is unlinked:
        # allow 5 s); after a clean stop the directory is empty.
        def nonempty_spool_files():
            out = []
            for name in spool_tmp(box):
                try:
                    if os.path.getsize(os.path.join(box.spool_dir, "tmp", name)) > 0:
                        out.append(name)
                except FileNotFoundError:
                    pass
            return out
        deadline = time.monotonic() + 5
        while nonempty_spool_files() and time.monotonic() < deadline:
            time.sleep(0.05)
        left = nonempty_spool_files()
        assert not left, f"{box.spool_dir}/tmp holds messages with the daemon idle: {left[:5]} ({len(left)})"
        assert box.stop() == 0, "boxmaild did not exit 0 on SIGTERM"
        left = spool_tmp(box)
        assert not left, f"{box.spool_dir}/tmp not empty after a clean stop: {left[:5]} ({len(left)})"
        left = spool_tmp(box)
        assert not left, f"{box.spool_dir}/tmp not empty after SIGTERM: {left[:5]} ({len(left)})"

        # every file in every Maildir (new/ and cur/): complete, one of ours,
        # right mailbox; every 250 on disk; copies only from cut-offs
        a = crashfeed.audit(box.mail_dir, feed)
        assert a.files > 0, "no message was delivered"
        assert sorted(feed.attempts) == list(range(feed.next_id)), "a message was never attempted"
        problems = a.problems()
        assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])

        refused = {n: feed.attempts[n] for n in a.never_accepted}
        assert not refused, (f"{len(refused)} messages never accepted (the default policy accepts the "
                             "whole corpus), e.g. " + "; ".join(f"{n}: {v}" for n, v in sorted(refused.items())[:5]))
        delivered, ok_ids = a.delivered, a.acknowledged
        assert len(delivered) == len(ok_ids), \
            f"{len(delivered)} distinct ids delivered, {len(ok_ids)} got 250"
        dups = {n: len(p) for n, p in delivered.items() if len(p) > 1}
        resent = sum(1 for att in feed.attempts.values() if len(att) > 1)
        print(f"t-09-crash: {len(ok_ids)} accepted, {sum(len(p) for p in delivered.values())} files, "
              f"{resent} messages resent, {len(dups)} delivered twice or more (allowed: cut off after end of data)")


if __name__ == "__main__":
    boxtest.run(main)
