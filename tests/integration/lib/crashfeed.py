"""crashfeed - a corpus feed that survives daemon restarts, and the audit of
what it left in the Maildirs, shared by t-09-crash and the soak harness
(tests/bench/soak.py).

Feed: message ids are handed out in order; id n is corpus file
chosen[n % len(chosen)] with the header line "X-Boxmail-Test-Id: n" on top,
routed to a mailbox by corpus.feed_route. Worker threads (one connection
each) send until stopped: at least min_messages, then on until stop() (at
most max_messages). A transaction cut off without a reply is resent (the
daemon may be down: reconnect until greeted); 4xx is retried a few times
like an MTA; 5xx gives up. Every attempt is recorded per id:
("250", qid) | ("4xx"/"5xx", code, stage, text) | ("cut", stage), the
stage as corpus.ConnectionCut names it ("final" = cut off after the whole
message, CRLF.CRLF included, had been sent).

audit(mail_dir, feed): reads every file in every Maildir's new/ and cur/
and sets it against the attempts, from the durability promise (a 250 means
on disk; a crash loses no acknowledged message and never delivers a partial
one; at worst a duplicate). See Audit for what it counts.
"""
import collections
import os
import threading
import time

import boxtest
import corpus

ID_HEADER = b"X-Boxmail-Test-Id: "


class Feed:
    """Shared state of the feed threads; see the module doc."""

    def __init__(self, port, chosen, min_messages=0, max_messages=None, deadline=600,
                 temp_retries=5):
        """chosen: corpus paths in feed order. deadline: seconds from now after
        which a message not yet through, or a daemon not reachable, fails the
        worker. temp_retries: 4xx replies per message before giving up."""
        self.port = port
        self.chosen = chosen
        self.min_messages = min_messages
        self.max_messages = max_messages
        self.temp_retries = temp_retries
        self.deadline_s = deadline
        self.deadline = time.monotonic() + deadline
        self.first_id = 0
        self.next_id = 0
        self.stopping = False
        self.attempts = collections.defaultdict(list)
        self.lock = threading.Lock()
        self.done = 0
        self.errors = []
        self.threads = []

    def stop(self):
        """Sends no new message once min_messages have been handed out."""
        self.stopping = True

    def start(self, connections):
        self.threads = [threading.Thread(target=self.worker, daemon=True) for _ in range(connections)]
        for t in self.threads:
            t.start()
        return self

    def alive(self):
        return any(t.is_alive() for t in self.threads)

    def join(self):
        """Waits for the workers; raises the first worker's failure."""
        for t in self.threads:
            t.join()
        if self.errors:
            raise AssertionError(f"{len(self.errors)} feed thread(s) failed; first: "
                                 f"{self.errors[0]!r}") from self.errors[0]

    def route(self, n):
        """(mailbox, recipient, sender, corpus path) of message n."""
        path = self.chosen[n % len(self.chosen)]
        return corpus.feed_route(corpus.name_of(path)) + (path,)

    def message(self, n):
        """Message n's bytes as sent (LF line ends, before CRLF/dot-stuffing)."""
        with open(self.route(n)[3], "rb") as f:
            return ID_HEADER + b"%d\n" % n + f.read()

    def take(self):
        with self.lock:
            n = self.next_id
            if (self.max_messages is not None and n >= self.max_messages) or \
                    (n >= self.min_messages and self.stopping):
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
        except BaseException as e:  # reported by join()
            self.errors.append(e)
            c.close()

    def connect(self, c):
        """Connects until greeted and EHLO accepted (the daemon may be down)."""
        refusals = []
        while c.sock is None:
            if time.monotonic() > self.deadline:
                raise AssertionError(f"could not reach boxmaild for {self.deadline_s} s")
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
        """Sends message n until 250, a 5xx, or temp_retries 4xx replies."""
        user, rcpt, sender, _ = self.route(n)
        payload = boxtest.to_crlf_dotstuffed(self.message(n))
        temp = 0
        while True:
            if time.monotonic() > self.deadline:
                raise AssertionError(f"message {n} not through after {self.deadline_s} s: {self.attempts[n]}")
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
            if temp >= self.temp_retries:
                return
            time.sleep(0.1)

    def cutoffs(self):
        """Counter of cut-off attempts by stage."""
        return collections.Counter(o[1] for a in self.attempts.values() for o in a if o[0] == "cut")


class Audit:
    """What the Maildirs hold against what the feed was told.

    delivered   {id: [paths]} of the files that are complete messages of the feed
    partial     [(path, why)]: size differs from S= in the name, or the text below
                the added headers is not exactly the message sent with its id
    foreign     [(path, why)]: not a message of this feed (no or unknown id)
    misplaced   [(path, id, mailbox)]: in another mailbox than its recipient's
    acknowledged ids that got a 250
    lost        ids that got a 250 and are in no Maildir
    duplicates  extra copies (files beyond the first) of any id
    unexplained [(id, files, allowed)]: more copies than 250s plus attempts cut
                off after the end of data (the only way a copy can be made)
    unacked     ids stored but never told 250 (allowed only for an attempt cut
                off after the end of data; otherwise also in unexplained)
    never_accepted ids that never got a 250 (gave up on 4xx/5xx)
    files       number of files read
    """

    def __init__(self):
        self.delivered = collections.defaultdict(list)
        self.partial, self.foreign, self.misplaced = [], [], []
        self.acknowledged, self.lost, self.unexplained = set(), [], []
        self.unacked, self.never_accepted = [], []
        self.duplicates = 0
        self.files = 0

    def problems(self):
        """Lines naming every breach of the promise (empty when none)."""
        out = [f"partial file {p}: {why}" for p, why in self.partial]
        out += [f"foreign file {p}: {why}" for p, why in self.foreign]
        out += [f"{p}: message {n} delivered to {mb}" for p, n, mb in self.misplaced]
        out += [f"message {n} got 250 but is not in its Maildir" for n in self.lost]
        out += [f"message {n} delivered {got} times, allowed {allowed} (250s + cut-offs after end of data)"
                for n, got, allowed in self.unexplained]
        return out


def maildir_files(mail_dir, subdirs=("new", "cur")):
    """[(mailbox, path)] of the files in every mailbox's SUBDIRS under mail_dir."""
    out = []
    if not os.path.isdir(mail_dir):
        return out
    for user in sorted(os.listdir(mail_dir)):
        for sub in subdirs:
            d = os.path.join(mail_dir, user, sub)
            if os.path.isdir(d):
                out += [(user, os.path.join(d, n)) for n in sorted(os.listdir(d))]
    return out


def check_file(path, expected):
    """Reads a delivered file and checks it against what was sent.

    EXPECTED(id) gives the message bytes sent with that id (LF ends), or
    None for an id never sent. Returns (id, problem, why): problem None when
    the file is complete and byte-exact; "partial" when its size differs from
    S= in its name or its text below the added headers differs from what was
    sent; "foreign" when it carries no id line or an id never sent."""
    with open(path, "rb") as f:
        data = f.read()
    s, _ = corpus.name_sizes(path)
    if s != len(data):
        return None, "partial", f"S={s} but {len(data)} octets"
    try:
        _, body = boxtest.split_stored(data)
    except (AssertionError, ValueError):
        return None, "partial", f"no whole Return-Path/Received headers: {data[:80]!r}"
    try:
        if not body.startswith(ID_HEADER):
            raise ValueError
        n = int(body[len(ID_HEADER):body.index(b"\n")])
    except ValueError:
        return None, "foreign", f"not a message of this feed: {body[:80]!r}"
    want = expected(n)
    if want is None:
        return n, "foreign", f"unknown id {n}"
    want = corpus.stored_form(want)
    if body != want:
        return n, "partial", (f"message {n}: {len(body)} octets below the headers, sent {len(want)}: "
                              "partial or altered")
    return n, None, None


def audit(mail_dir, feed):
    """Audits every file in mail_dir's Maildirs (new/ and cur/) against FEED:
    anything with .first_id, .next_id (ids sent: first_id <= n < next_id),
    .attempts, .message(n) and .route(n) (mailbox first), as Feed has."""
    a = Audit()

    def expected(n):
        return feed.message(n) if feed.first_id <= n < feed.next_id else None

    for user, path in maildir_files(mail_dir):
        a.files += 1
        n, problem, why = check_file(path, expected)
        if problem is not None:
            (a.partial if problem == "partial" else a.foreign).append((path, why))
            continue
        if user != feed.route(n)[0]:
            a.misplaced.append((path, n, user))
            continue
        a.delivered[n].append(path)

    for n in range(feed.first_id, feed.next_id):
        att = feed.attempts.get(n, [])
        ok = sum(1 for o in att if o[0] == "250")
        after_dot = sum(1 for o in att if o[0] == "cut" and o[1] == "final")
        got = len(a.delivered.get(n, []))
        if ok:
            a.acknowledged.add(n)
        else:
            a.never_accepted.append(n)
        if ok and got == 0:
            a.lost.append(n)
        if got > 1:
            a.duplicates += got - 1
        if got and not ok:
            a.unacked.append(n)
        if got > ok + after_dot:
            a.unexplained.append((n, got, ok + after_dot))
    return a
