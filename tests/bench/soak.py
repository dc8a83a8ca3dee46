#!/usr/bin/python3
"""soak - `make soak` (and a shorter run in `make bench`): boxmaild under
faults for a bounded time, then a table of what it kept (docs/reliability.md,
"Soak harness").

Three sections, each against a fresh boxmaild with its own data directory:

 1. SIGKILL under load: 4 clients send corpus messages, each with a unique
    "X-Boxmail-Test-Id: <n>" line, while the daemon is killed with SIGKILL
    at random moments (0.2-2.5 s after each restart) and restarted, for the
    section's time; clients resend whatever was cut off (lib/crashfeed.py,
    the feed of t-09-crash). The store is on a loop-mounted ext4 of its own
    (dropping the image is much faster than removing every file). Then
    every file in new/ and cur/ is read:
    acknowledged (250) = stored byte-exact, none lost, no partial file;
    duplicates (copies from sessions cut off after the end of data) and
    messages stored but never acknowledged are counted.
 2. Disk full: the store on a small ext4 made with mke2fs and loop-mounted
    in this process's private mount namespace (a size-limited tmpfs when
    loop devices are missing; the table says so); fill with mail until
    452 4.3.1, check nothing partial and every 250 stored, free the space
    (POP3 DELE, then rm, alternately), mail must flow again; a few cycles
    (lib/diskfull.py, as t-19-disk-full). With a boxmaild that knows
    `[store] min_free_space`, once with 0 (the real ENOSPC path) and once
    with a 1M reserve. Then once more on a file system with 128 inodes,
    filled with small messages: out of files rather than blocks.
 3. Slow clients: N tricklers from several 127.0.0.x addresses send one
    byte every few seconds (a command, then DATA, never finishing) while a
    normal client from 127.0.0.1 tries to deliver a message every second;
    it reports how long that client waited for its 220 and its 250 (p50,
    max), how many attempts were refused, and when the first got through.
    The daemon runs with its default limits.

Everything runs in a private network namespace and a private mount
namespace: the script re-executes itself under `unshare -n -m` (root).
The corpus (build/corpus, as the tests use it) is fetched with npm first,
outside the namespace, if it is not there.

Exit status: 1 when an acknowledged message was lost, a partial, altered,
misplaced or unexplained file was found, the disk-full cycle misbehaved, or
a section could not run; 0 otherwise (section 3 only reports).

Usage: soak.py --build DIR [--seconds N] [--seed N] [--report FILE]
               [--sections kill,disk,slow] (see --help for the rest)
"""
import argparse
import os
import random
import selectors
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
LIB = os.path.join(SOURCE, "tests", "integration", "lib")


def parse_args():
    ap = argparse.ArgumentParser(description="boxmaild soak harness (see the module doc)")
    ap.add_argument("--build", default="build", help="build dir with boxmaild and boxmailctl")
    ap.add_argument("--seconds", type=int, default=600, help="time budget of the whole run (60..86400)")
    ap.add_argument("--seed", type=int, default=None, help="seed of the kill moments (replay a run)")
    ap.add_argument("--report", default=None, help="markdown report (default BUILD/soak-report.md)")
    ap.add_argument("--sections", default="kill,disk,slow",
                    help="which sections to run, comma-separated (kill, disk, slow)")
    ap.add_argument("--clients", type=int, default=4, help="SMTP clients during the kills")
    ap.add_argument("--disk-mib", type=int, default=16, help="size of the small file system")
    ap.add_argument("--disk-cycles", type=int, default=3, help="disk-full cycles per mode")
    ap.add_argument("--tricklers", type=int, default=100, help="slow clients")
    ap.add_argument("--trickle-addresses", type=int, default=5, help="source addresses of the slow clients")
    ap.add_argument("--trickle-interval", type=float, default=3.0, help="seconds between a slow client's bytes")
    ap.add_argument("--slow-seconds", type=int, default=None,
                    help="length of the slow-client section (default a quarter of the budget, 90..180)")
    a = ap.parse_args()
    if not 60 <= a.seconds <= 86400:
        ap.error("--seconds must be 60..86400")
    a.build = os.path.abspath(a.build)
    a.report = os.path.abspath(a.report or os.path.join(a.build, "soak-report.md"))
    a.sections = set(a.sections.split(","))
    if not a.sections or a.sections - {"kill", "disk", "slow"}:
        ap.error("--sections takes kill, disk and/or slow")
    if a.slow_seconds is None:
        a.slow_seconds = min(180, max(90, a.seconds // 4))
    return a


ARGS = parse_args()
os.environ.setdefault("BOXMAIL_BUILD", ARGS.build)
os.environ.setdefault("BOXMAIL_SOURCE", SOURCE)
os.environ.setdefault("BOXMAIL_CORPUS", os.path.join(ARGS.build, "corpus"))
sys.path.insert(0, LIB)
import boxtest  # noqa: E402
import corpus  # noqa: E402
import crashfeed  # noqa: E402
import diskfull  # noqa: E402

T_START = time.monotonic()
INODES = 128               # inodes of the file system that runs out of them
DISK_ESTIMATE = 20          # seconds the disk-full section takes, for the budget


def progress(msg):
    el = time.monotonic() - T_START
    print(f"[{int(el) // 60:02d}:{int(el) % 60:02d}] {msg}", flush=True)


def pct(values, q):
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, int(round(q * (len(v) - 1))))]


def fmt_s(v):
    return "-" if v is None else (f"{v * 1000:.0f} ms" if v < 1 else f"{v:.1f} s")


def num(n):
    return f"{n:,}"


# -- 1. SIGKILL under load ------------------------------------------------------
def section_kills(seconds, rnd, chosen):
    """Returns a dict of figures (and 'problems')."""
    out = {"seconds": seconds, "clients": ARGS.clients, "kills": 0, "problems": []}
    # The store on an ext4 of its own, big enough for the run: removing tens
    # of thousands of files afterwards takes minutes, dropping the image not.
    size_mib = min(64 << 10, max(1 << 10, seconds * 8))
    try:
        fs = diskfull.SmallFs(size_mib, prefix="boxmail-soak-kill-", mkfs_args=["-i", "4096"],
                              tmpfs_fallback=False)
        config = {"store": {"mail_dir": os.path.join(fs.path, "mail"), "spool_dir": os.path.join(fs.path, "spool")}}
        out["fs"] = f"a {size_mib:,} MiB ext4 (loop)"
    except AssertionError as e:
        fs, config = None, None
        out["fs"] = f"the host's file system ({e})"
    try:
        return kill_run(seconds, rnd, chosen, config, out)
    finally:
        if fs is not None:
            fs.close()


def kill_run(seconds, rnd, chosen, config, out):
    with boxtest.Box(config=config, users=corpus.FEED_USERS, name="soak-kill") as box:
        box.start()
        feed = crashfeed.Feed(box.port, chosen, deadline=seconds + 300)
        t0 = time.monotonic()
        end = t0 + seconds
        feed.start(ARGS.clients)
        while feed.alive():
            wait = rnd.uniform(0.2, 2.5)
            if time.monotonic() + wait >= end:
                break
            time.sleep(wait)
            box.kill()
            out["kills"] += 1
            box.start()
            if out["kills"] % 10 == 0:
                progress(f"  {out['kills']} kills, {feed.done} messages through")
        time.sleep(max(0.0, end - time.monotonic()))
        feed.stop()
        try:
            feed.join()
        except AssertionError as e:
            out["problems"].append(f"feed: {e}")
        out["wall"] = time.monotonic() - t0
        progress(f"  {out['kills']} kills, {feed.done} messages through; SIGTERM")
        code = box.stop()
        if code != 0:
            out["problems"].append(f"boxmaild exited {code} on SIGTERM")
        progress("  reading every file in the Maildirs")
        cuts = feed.cutoffs()
        a = crashfeed.audit(box.mail_dir, feed)
        out.update(sent=feed.next_id, acknowledged=len(a.acknowledged), lost=len(a.lost),
                   duplicates=a.duplicates, unacked=len(a.unacked), partial=len(a.partial),
                   foreign=len(a.foreign), misplaced=len(a.misplaced), unexplained=len(a.unexplained),
                   never_accepted=len(a.never_accepted), files=a.files, cuts=dict(cuts),
                   resent=sum(1 for att in feed.attempts.values() if len(att) > 1))
        out["problems"] += a.problems()
        if out["kills"] == 0:
            out["problems"].append("no kill was made (time budget too small?)")
    return out


# -- 2. disk full -----------------------------------------------------------------
def disk_modes():
    """The disk-full runs: what fills up, the reserve (None: boxmaild has no
    min_free_space key), extra mke2fs options, message sizes."""
    reserves = [0, 1 << 20] if diskfull.supports("min_free_space") else [None]
    modes = [{"what": "blocks", "reserve": r, "mkfs": (), "sizes": None} for r in reserves]
    # few inodes: the file system runs out of files before blocks
    modes.append({"what": f"inodes (mke2fs -N {INODES})", "reserve": reserves[0], "mkfs": ("-N", str(INODES)),
                  "sizes": (200,)})
    return modes


def section_disk():
    users = ("alice", "bob")
    rows = []
    for mode in disk_modes():
        reserve = mode["reserve"]
        with diskfull.SmallFs(ARGS.disk_mib, prefix="boxmail-soak-fs-", mkfs_args=mode["mkfs"]) as fs:
            row = {"what": mode["what"], "reserve": reserve, "fs": fs.describe(), "kind": fs.kind, "note": fs.note,
                   "cycles": 0, "acked": 0, "n452": 0, "other": {}, "partial": 0, "lost": 0, "stored_refused": 0,
                   "unexplained": 0, "leftovers": 0, "recovered": [], "free_at_452": [], "problems": []}
            store = {"mail_dir": os.path.join(fs.path, "mail"), "spool_dir": os.path.join(fs.path, "spool")}
            if reserve is not None:
                store["min_free_space"] = str(reserve)
            progress(f"  disk full: {row['fs']}" + ("" if reserve is None else f", min_free_space = {reserve}"))
            with boxtest.Box(config={"store": store}, users=users, name="soak-disk") as box:
                box.start()
                next_id = 0
                for i in range(ARGS.disk_cycles):
                    free_with = ("pop3", "rm")[i % 2]
                    try:
                        r, next_id = diskfull.cycle(box, fs, users, next_id, free_with=free_with,
                                                    sizes=mode["sizes"],
                                                    pace=(reserve + (256 << 10), 1.1) if reserve else None)
                    except (AssertionError, OSError, EOFError) as e:
                        row["problems"].append(f"{mode['what']}, cycle {i + 1}: {e}")
                        break
                    row["cycles"] += 1
                    row["acked"] += r.acked
                    row["n452"] += r.n452
                    for k, v in r.other.items():
                        row["other"][k] = row["other"].get(k, 0) + v
                    row["partial"] += r.partial
                    row["lost"] += r.lost
                    row["stored_refused"] += r.stored_refused
                    row["unexplained"] += r.unexplained
                    row["leftovers"] += len(r.leftovers)
                    if r.recovered is not None and i > 0:
                        row["recovered"].append(r.recovered)
                    if r.free_at_452 is not None:
                        row["free_at_452"].append(r.free_at_452)
                    row["problems"] += [f"{mode['what']}, cycle {i + 1}: {p}" for p in r.problems]
                    if r.leftovers:
                        row["problems"].append(f"{mode['what']}, cycle {i + 1}: partial files left in tmp/: "
                                               f"{r.leftovers[:3]}")
                    progress(f"  cycle {i + 1} ({free_with}): {r.acked} acknowledged, {r.n452} x 452 4.3.1, "
                             f"other {r.other}, {r.files} files checked, free at first 452: {r.free_at_452}")
                if box.proc.poll() is None:
                    f = diskfull.Filler(box.port, users, first_id=next_id, sizes=mode["sizes"])
                    try:
                        rec = f.recover()
                    finally:
                        f.close()
                    if rec is None:
                        row["problems"].append(f"{mode['what']}: no 250 after the last cycle freed the space")
                    else:
                        row["recovered"].append(rec)
                code = box.stop()
                if code != 0:
                    row["problems"].append(f"{mode['what']}: boxmaild exited {code} on SIGTERM")
            rows.append(row)
    return rows


# -- 3. slow clients ----------------------------------------------------------------
class Tricklers:
    """N connections from ADDRESSES, each sending one byte of its script
    every INTERVAL seconds (staggered), reading and dropping what the server
    says; a connection the server closes is opened again after a second."""

    def __init__(self, port, n, addresses, interval):
        self.port, self.interval = port, interval
        self.addresses = addresses
        self.sel = selectors.DefaultSelector()
        self.slots = [None] * n          # per trickler: {"sock", "pos", "due", "greeted"}
        self.closed_by_server = 0
        self.refused = 0                 # closed before or with a non-220 greeting
        self.connects = 0
        self.n = n
        self.stop = False

    def script(self, i):
        head = (f"EHLO slow{i}.example\r\nMAIL FROM:<slow{i}@trickle.example>\r\n"
                "RCPT TO:<alice@example.com>\r\nDATA\r\n").encode()
        return head

    def byte_at(self, i, pos):
        s = self.script(i)
        return s[pos:pos + 1] if pos < len(s) else b"x" if pos % 78 else b"\n"

    def open(self, i, now):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5,
                                         source_address=(self.addresses[i % len(self.addresses)], 0))
        except OSError:
            self.slots[i] = {"sock": None, "retry": now + 1.0}
            return
        s.setblocking(False)
        self.connects += 1
        self.slots[i] = {"sock": s, "pos": 0, "greeted": None, "buf": b"",
                         "due": now + self.interval * (1 + i / max(1, self.n))}
        self.sel.register(s, selectors.EVENT_READ, i)

    def lost(self, i, now):
        slot = self.slots[i]
        self.sel.unregister(slot["sock"])
        slot["sock"].close()
        if slot["greeted"]:
            self.closed_by_server += 1
        else:
            self.refused += 1
        self.slots[i] = {"sock": None, "retry": now + 1.0}

    def connected(self):
        return sum(1 for s in self.slots if s and s["sock"] is not None and s["greeted"])

    def run(self):
        now = time.monotonic()
        for i in range(self.n):
            self.open(i, now)
        while not self.stop:
            now = time.monotonic()
            for i, slot in enumerate(self.slots):
                if slot["sock"] is None:
                    if now >= slot["retry"]:
                        self.open(i, now)
                    continue
                if now >= slot["due"]:
                    try:
                        slot["sock"].send(self.byte_at(i, slot["pos"]))
                        slot["pos"] += 1
                    except BlockingIOError:
                        pass
                    except OSError:
                        self.lost(i, now)
                        continue
                    slot["due"] = now + self.interval
            for key, _ in self.sel.select(timeout=0.05):
                i = key.data
                slot = self.slots[i]
                try:
                    data = slot["sock"].recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.lost(i, time.monotonic())
                    continue
                if slot["greeted"] is None:
                    slot["buf"] += data
                    if b"\r\n" in slot["buf"]:
                        slot["greeted"] = slot["buf"].startswith(b"220")
        for slot in self.slots:
            if slot and slot["sock"] is not None:
                slot["sock"].close()


def normal_attempt(port, n):
    """One delivery from 127.0.0.1 by the feed; returns (outcome, wait from
    connect to the 220 greeting or None, wait from connect to the 250 or
    None): outcome "250", "refused CODE at STAGE", "cut at STAGE" or "no
    reply in 30 s"."""
    t0 = time.monotonic()
    t220 = []
    c = corpus.FeedClient(port, helo="feed.isp.example", timeout=30)
    try:
        refused = c.connect(on_greeting=lambda code: t220.append(time.monotonic() - t0) if code == 220 else None)
        if refused is not None:
            return f"refused {refused[0]} at {'ehlo' if t220 else 'greeting'}", None, None
        msg = b"Subject: feed %d during the trickle\n\nfrom the ISP\n" % n
        stage, code, _ = c.send_message("isp@relay.isp.example", ["alice@example.com"],
                                        boxtest.to_crlf_dotstuffed(msg))
        if stage != "final" or code != 250:
            return f"refused {code} at {stage}", t220[0], None
        t250 = time.monotonic() - t0
        c.quit()
        return "250", t220[0], t250
    except corpus.ConnectionCut as e:
        return f"cut at {e.stage}", (t220 or [None])[0], None
    except AssertionError:           # FeedClient: no reply within its timeout
        return "no reply in 30 s", (t220 or [None])[0], None
    finally:
        c.close()


def section_slow(seconds):
    addresses = [f"127.0.0.{i}" for i in range(2, 2 + ARGS.trickle_addresses)]
    out = {"seconds": seconds, "tricklers": ARGS.tricklers, "addresses": len(addresses),
           "interval": ARGS.trickle_interval, "problems": []}
    with boxtest.Box(users=("alice",), name="soak-slow") as box:
        box.start()
        tr = Tricklers(box.port, ARGS.tricklers, addresses, ARGS.trickle_interval)
        th = threading.Thread(target=tr.run, daemon=True)
        t0 = time.monotonic()
        th.start()
        boxtest.poll(lambda: tr.connected() + tr.refused >= ARGS.tricklers or time.monotonic() - t0 > 10,
                     timeout=15, what="tricklers")
        out["tricklers_in"] = tr.connected()
        progress(f"  {tr.connected()} tricklers greeted, {tr.refused} refused; the feed tries every second")
        attempts, w220, w250, outcomes = 0, [], [], {}
        first_250 = None
        end = t0 + seconds
        while time.monotonic() < end:
            ta = time.monotonic()
            outcome, t220, t250 = normal_attempt(box.port, attempts)
            attempts += 1
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if t220 is not None:
                w220.append(t220)
            if t250 is not None:
                w250.append(t250)
                if first_250 is None:
                    first_250 = time.monotonic() - t0
            time.sleep(max(0.0, 1.0 - (time.monotonic() - ta)))
        tr.stop = True
        th.join(timeout=30)
        out.update(attempts=attempts, delivered=len(w250), outcomes=outcomes,
                   refused=attempts - len(w250), first_250=first_250,
                   p50_220=pct(w220, 0.5), max_220=max(w220) if w220 else None,
                   p50_250=pct(w250, 0.5), max_250=max(w250) if w250 else None,
                   trickler_connects=tr.connects, trickler_closed=tr.closed_by_server,
                   trickler_refused=tr.refused)
        box.stop()
    return out


# -- report -------------------------------------------------------------------------
def describe_build():
    p = subprocess.run(["git", "-C", SOURCE, "describe", "--always", "--dirty"], capture_output=True, text=True)
    return p.stdout.strip() or "unknown"


def report(k, disk, slow, seed):
    L = []
    L.append(f"# boxmaild soak: {time.strftime('%Y-%m-%d %H:%M')} UTC, source {describe_build()}, "
             f"budget {ARGS.seconds} s, seed {seed}, took {time.monotonic() - T_START:.0f} s")
    L.append("")
    if k:
        L.append(f"## SIGKILL under load ({k['clients']} clients, {k.get('wall', 0):.0f} s, "
                 f"the store on {k.get('fs', '?')})")
        L.append("")
        L.append("| kills | acknowledged | lost | duplicates | stored, never acknowledged | partial files |")
        L.append("|---:|---:|---:|---:|---:|---:|")
        L.append(f"| {k['kills']} | {num(k.get('acknowledged', 0))} | {k.get('lost', '-')} | "
                 f"{k.get('duplicates', '-')} | {k.get('unacked', '-')} | {k.get('partial', '-')} |")
        L.append("")
        L.append(f"{num(k.get('sent', 0))} messages sent, {num(k.get('files', 0))} files read; "
                 f"{k.get('resent', 0)} resent after a cut-off; cut-offs by stage {k.get('cuts', {})}; "
                 f"foreign {k.get('foreign', 0)}, misplaced {k.get('misplaced', 0)}, "
                 f"copies not explained by a cut-off {k.get('unexplained', 0)}, "
                 f"never accepted {k.get('never_accepted', 0)}.")
        L.append("")
    if disk:
        L.append(f"## Disk full ({ARGS.disk_mib} MiB {disk[0].get('kind', '?')}, {ARGS.disk_cycles} cycles each)")
        L.append("")
        L.append("| full of | min_free_space | cycles | acknowledged | 452 4.3.1 | other replies | partial | lost "
                 "| stored after a refusal | free at the first 452 | mail again after freeing |")
        L.append("|---|---|---:|---:|---:|---|---:|---:|---:|---|---|")
        for r in disk:
            res = "(no such key)" if r["reserve"] is None else str(r["reserve"])
            other = ", ".join(f"{k2} x{v}" for k2, v in r["other"].items()) or "none"
            free = (f"{min(r['free_at_452']) // 1024}-{max(r['free_at_452']) // 1024} KiB"
                    if r["free_at_452"] else "-")
            rec = f"{len(r['recovered'])} of {r['cycles']}, max {fmt_s(max(r['recovered']))}" if r["recovered"] else "no"
            L.append(f"| {r.get('what', '?')} | {res} | {r['cycles']} | {num(r['acked'])} | {r['n452']} | {other} | {r['partial']} | "
                     f"{r['lost']} | {r['stored_refused']} | {free} | {rec} |")
        L.append("")
        L.append("File systems: " + "; ".join(dict.fromkeys(r["fs"] for r in disk)) + ".")
        if disk[0]["note"]:
            L.append(f"Fallback: {disk[0]['note']}; a tmpfs, not ext4.")
        L.append("")
    if slow:
        L.append(f"## Slow clients ({slow['tricklers']} tricklers from {slow['addresses']} addresses, one byte "
                 f"every {slow['interval']:g} s; the feed tries once a second for {slow['seconds']} s)")
        L.append("")
        L.append("| feed attempts | delivered | refused | 220 wait p50 / max | 250 wait p50 / max "
                 "| first 250 after | tricklers closed by the server |")
        L.append("|---:|---:|---:|---|---|---|---:|")
        L.append(f"| {slow.get('attempts', '-')} | {slow.get('delivered', '-')} | {slow.get('refused', '-')} | "
                 f"{fmt_s(slow.get('p50_220'))} / {fmt_s(slow.get('max_220'))} | "
                 f"{fmt_s(slow.get('p50_250'))} / {fmt_s(slow.get('max_250'))} | "
                 f"{fmt_s(slow.get('first_250')) if slow.get('first_250') is not None else 'never'} | "
                 f"{slow.get('trickler_closed', '-')} |")
        L.append("")
        L.append(f"Feed outcomes: {slow.get('outcomes', {})}; tricklers greeted at the start "
                 f"{slow.get('tricklers_in', '-')}, connections opened {slow.get('trickler_connects', '-')}, "
                 f"refused {slow.get('trickler_refused', '-')}.")
        L.append("")
    problems = (k or {}).get("problems", []) + [p for r in disk or [] for p in r["problems"]] + \
        (slow or {}).get("problems", [])
    if k and disk and slow and not problems:
        L.append(f"In one sentence: boxmaild kept every acknowledged message through {k['kills']} SIGKILLs "
                 f"under load ({num(k['acknowledged'])} messages acknowledged, {k['lost']} lost, "
                 f"{k['duplicates']} duplicates from cut-off sessions), answered a full disk with 452 4.3.1 "
                 f"({sum(r['n452'] for r in disk)} times) and nothing partial; with {slow['tricklers']} slow "
                 f"clients the feed got {slow.get('delivered', 0)} of {slow.get('attempts', 0)} attempts through"
                 + (f", the first after {fmt_s(slow['first_250'])}." if slow.get("first_250") is not None else "."))
        L.append("")
    if problems:
        L.append(f"## FAILED: {len(problems)} problem(s)")
        L.append("")
        L += [f"- {p}" for p in problems[:50]]
        L.append("")
    return "\n".join(L), problems


def main():
    seed = ARGS.seed if ARGS.seed is not None else int(time.time() * 1000) % 1000000
    rnd = random.Random(seed)
    chosen = None
    if "kill" in ARGS.sections:
        chosen = sorted(corpus.ensure_corpus(), key=lambda p: corpus.stable_hash(corpus.name_of(p)))
    others = (ARGS.slow_seconds if "slow" in ARGS.sections else 0) + \
        (DISK_ESTIMATE if "disk" in ARGS.sections else 0)
    kill_seconds = max(30, ARGS.seconds - others)
    progress(f"soak: budget {ARGS.seconds} s: SIGKILL {kill_seconds} s, disk full ~{DISK_ESTIMATE} s, "
             f"slow clients {ARGS.slow_seconds} s; seed {seed}")
    k = disk = slow = None
    if "kill" in ARGS.sections:
        progress(f"1. SIGKILL at random moments under a {ARGS.clients}-client load")
        try:
            k = section_kills(kill_seconds, rnd, chosen)
        except Exception as e:  # noqa: BLE001 - reported in the table, and the exit status
            k = {"kills": 0, "clients": ARGS.clients, "problems": [f"section 1 failed: {e!r}"]}
    if "disk" in ARGS.sections:
        progress("2. disk-full cycles on a small file system")
        try:
            disk = section_disk()
        except Exception as e:  # noqa: BLE001
            disk = [{"what": "?", "reserve": None, "fs": "?", "note": "", "cycles": 0, "acked": 0, "n452": 0,
                     "other": {}, "partial": 0, "lost": 0, "stored_refused": 0, "recovered": [],
                     "free_at_452": [], "problems": [f"section 2 failed: {e!r}"]}]
    if "slow" in ARGS.sections:
        progress(f"3. {ARGS.tricklers} slow clients against the feed for {ARGS.slow_seconds} s")
        try:
            slow = section_slow(ARGS.slow_seconds)
        except Exception as e:  # noqa: BLE001
            slow = {"tricklers": ARGS.tricklers, "addresses": ARGS.trickle_addresses,
                    "interval": ARGS.trickle_interval, "seconds": ARGS.slow_seconds,
                    "problems": [f"section 3 failed: {e!r}"]}
    text, problems = report(k, disk, slow, seed)
    print()
    print(text)
    os.makedirs(os.path.dirname(ARGS.report), exist_ok=True)
    with open(ARGS.report, "w") as f:
        f.write(text + "\n")
    print(f"(written to {ARGS.report})")
    return 1 if problems else 0


if __name__ == "__main__":
    if not os.environ.get(diskfull.MOUNTNS_ENV) and "kill" in ARGS.sections:
        # outside the namespaces: fetch the corpus (npm needs the registry)
        corpus.ensure_corpus()
    diskfull.private_mounts(net=True)
    sys.exit(main())
