"""t-09-crash: SIGKILL boxmaild again and again during a corpus feed.

Corpus messages (in a stable order), each with a unique first header line
"X-Boxmail-Test-Id: <n>", go over 8 parallel connections while the daemon
is killed with SIGKILL 4 times at random intervals of 0.3-1.5 s and
restarted each time; at least 2,000, and more until the last kill is done,
so the kills always land in the feed however fast the daemon is. Clients reconnect and resend every message whose
transaction was cut off without a reply, retry 4xx a few times like an MTA,
and give up on 5xx. Each attempt is recorded: 250 / 4xx / 5xx / cut off
(with the stage it died in).

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
  in the right mailbox;
- distinct delivered ids == ids that got 250 (== all sent: the default
  policy accepts every corpus message, see t-08);
- once the daemon is idle after the last restart and after a final SIGTERM
  (exit 0), <spool_dir>/tmp is empty (leftovers are cleaned at start).
Set BOXMAIL_CRASH_SEED to replay a run's kill intervals.
"""
import collections
import os
import queue
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import corpus  # noqa: E402

MESSAGES = 2000              # at least; more while kills are still to come
MAX_MESSAGES = 20000
CONNECTIONS = 8
KILLS = 4
KILL_INTERVAL = (0.3, 1.5)   # seconds between kills (from the restart)
MAX_TEMP_RETRIES = 5         # 4xx replies per message before giving up
DEADLINE = 600               # seconds for the whole feed


class Feed:
    """Shared state of the feed threads. Message ids are handed out in
    order; id n is corpus file chosen[n % len(chosen)] with the header line
    "X-Boxmail-Test-Id: n" on top. The feed sends at least MESSAGES and goes
    on until the main thread has made all its kills (at most MAX_MESSAGES),
    so a fast daemon cannot finish before the kills."""

    def __init__(self, port, chosen):
        self.port = port
        self.chosen = chosen
        self.next_id = 0
        self.kills_done = False
        self.attempts = collections.defaultdict(list)   # id -> [("250", qid) | ("4xx"/"5xx", code, stage, text) | ("cut", stage)]
        self.lock = threading.Lock()
        self.done = 0
        self.errors = []
        self.deadline = time.monotonic() + DEADLINE

    def route(self, n):
        """(mailbox, recipient, sender, corpus path) of message n."""
        path = self.chosen[n % len(self.chosen)]
        return corpus.feed_route(corpus.name_of(path)) + (path,)

    def message(self, n):
        """Message n's bytes as sent (LF line ends, before CRLF/dot-stuffing)."""
        with open(self.route(n)[3], "rb") as f:
            return b"X-Boxmail-Test-Id: %d\n" % n + f.read()

    def take(self):
        with self.lock:
            n = self.next_id
            if n >= MAX_MESSAGES or (n >= MESSAGES and self.kills_done):
                return None
            self.next_id += 1
            return n

    def record(self, n, outcome):
        with self.lock:
            self.attempts[n].append(outcome)

    def worker(self):
        c = corpus.FeedClient(self.port)
        try:
            while True:
                n = self.take()
                if n is None:
                    break
                self.deliver(c, n)
                with self.lock:
                    self.done += 1
            c.quit()
        except BaseException as e:  # reported by the main thread
            self.errors.append(e)
            c.close()

    def connect(self, c):
        """Connects until greeted and EHLO accepted (the daemon may be down)."""
        refusals = []
        while c.sock is None:
            if time.monotonic() > self.deadline:
                raise AssertionError(f"could not reach boxmaild for {DEADLINE} s")
            try:
                refused = c.connect()
                if refused is not None:       # e.g. 421 while starting or stopping
                    refusals.append(refused)
                    if len(refusals) >= 100:
                        raise AssertionError(f"connection refused 100 times in a row: {refusals[-3:]}")
                    time.sleep(0.05)
            except corpus.ConnectionCut:
                c.close()
                time.sleep(0.03)

    def deliver(self, c, n):
        """Sends message n until 250, a 5xx, or MAX_TEMP_RETRIES 4xx replies."""
        user, rcpt, sender, _ = self.route(n)
        payload = boxtest.to_crlf_dotstuffed(self.message(n))
        temp = 0
        while True:
            if time.monotonic() > self.deadline:
                raise AssertionError(f"message {n} not through after {DEADLINE} s: {self.attempts[n]}")
            self.connect(c)
            try:
                stage, code, text = c.send_message(sender, [rcpt], payload)
            except corpus.ConnectionCut as e:
                self.record(n, ("cut", e.stage))
                c.close()
                continue
            if stage == "final" and code == 250:
                self.record(n, ("250", corpus.queue_id(text)))
                return
            self.record(n, (f"{code // 100}xx", code, stage, text))
            if code >= 500:
                return
            temp += 1
            if temp >= MAX_TEMP_RETRIES:
                return
            time.sleep(0.1)


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
        feed = Feed(box.port, chosen)
        threads = [threading.Thread(target=feed.worker, daemon=True) for _ in range(CONNECTIONS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()

        kills = []                       # (seconds since start, messages done, spool/tmp leftovers)
        for _ in range(KILLS):
            time.sleep(rnd.uniform(*KILL_INTERVAL))
            if not any(t.is_alive() for t in threads):
                break
            box.kill()
            with feed.lock:
                done = feed.done
            kills.append((time.monotonic() - t0, done, len(spool_tmp(box))))
            box.start()
        feed.kills_done = True
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        if feed.errors:
            raise AssertionError(f"{len(feed.errors)} feed thread(s) failed; first: {feed.errors[0]!r}") from feed.errors[0]

        cuts = collections.Counter(o[1] for a in feed.attempts.values() for o in a if o[0] == "cut")
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

        # every file in every Maildir/new: complete, one of ours, right mailbox
        delivered = collections.defaultdict(list)    # id -> [paths]
        prefix = b"X-Boxmail-Test-Id: "
        for user, paths in corpus.maildir_files(box.mail_dir).items():
            for path in paths:
                with open(path, "rb") as f:
                    data = f.read()
                s, _ = corpus.name_sizes(path)
                assert s == len(data), f"partial file {path}: S={s} but {len(data)} octets"
                _, body = boxtest.split_stored(data)
                assert body.startswith(prefix), f"{path}: not a message of this test: {body[:80]!r}"
                n = int(body[len(prefix):body.index(b"\n")])
                assert 0 <= n < feed.next_id, f"{path}: unknown test id {n}"
                want = corpus.stored_form(feed.message(n))
                assert body == want, (f"{path}: message {n} ({corpus.name_of(feed.route(n)[3])}) stored wrong: "
                                      f"{len(body)} octets below the headers, sent {len(want)}: partial or altered")
                assert user == feed.route(n)[0], f"{path}: message {n} for {feed.route(n)[0]} delivered to {user}"
                delivered[n].append(path)

        assert sorted(feed.attempts) == list(range(feed.next_id)), "a message was never attempted"
        problems = []
        for n in range(feed.next_id):
            a = feed.attempts[n]
            ok = sum(1 for o in a if o[0] == "250")
            after_dot = sum(1 for o in a if o[0] == "cut" and o[1] == "final")
            got = len(delivered.get(n, []))
            if ok and got == 0:
                problems.append(f"message {n} got 250 but is not in its Maildir: {a}")
            elif got > ok + after_dot:
                problems.append(f"message {n} delivered {got} times, allowed {ok + after_dot} "
                                f"(250s + cut-offs after end of data): {a}")
        assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])

        ok_ids = {n for n, a in feed.attempts.items() if any(o[0] == "250" for o in a)}
        refused = {n: a for n, a in feed.attempts.items() if n not in ok_ids}
        assert not refused, (f"{len(refused)} messages never accepted (the default policy accepts the "
                             "whole corpus), e.g. " + "; ".join(f"{n}: {a}" for n, a in sorted(refused.items())[:5]))
        assert len(delivered) == len(ok_ids), \
            f"{len(delivered)} distinct ids delivered, {len(ok_ids)} got 250"
        dups = {n: len(p) for n, p in delivered.items() if len(p) > 1}
        resent = sum(1 for a in feed.attempts.values() if len(a) > 1)
        print(f"t-09-crash: {len(ok_ids)} accepted, {sum(len(p) for p in delivered.values())} files, "
              f"{resent} messages resent, {len(dups)} delivered twice or more (allowed: cut off after end of data)")


if __name__ == "__main__":
    boxtest.run(main)
