"""t-42-relay-kill: SIGKILL while the outgoing queue is delivering (issue 10,
docs/queue.md "The promise"), inside the private network namespace.

The MX of slow.test (Postfix's smtp-sink on 127.0.0.2:25, -w 2: two
seconds before each answer to DATA) is slow. The LAN sends N messages to
bob@slow.test, each acknowledged with its own 250; boxmaild is killed with
SIGKILL once the sink has some of them but not all (deliveries in flight),
then started again. Every acknowledged message must reach the sink whole
(duplicates are allowed: a message the sink had taken but whose envelope
update the kill cut off is sent again; the runner records a connection's
messages when the connection ends, so every message a killed connection
had already sent comes again; they are counted and printed), the
queue ends empty (`queue list`), and nothing is left in spool_dir/queue
(no envelope, data file, .tmp or quarantined entry).

Then a clean stop: N more messages, SIGTERM once the sink has some but not
all. boxmaild lets each connection finish its transaction in progress,
start no other (QUIT) and record the results before it exits (within its
30 s drain), so not every message has gone at the exit, and after the
restart the rest arrive and no message arrives twice.
"""
import collections
import os
import re
import shutil
import smtplib
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box  # noqa: E402
from smtpsink import Dnsmasq, Sink  # noqa: E402

N = 10
RECORDS = ["--mx-host=slow.test,mx.slow.test,10", "--host-record=mx.slow.test,127.0.0.2"]


def message(i, tag="t42"):
    return (f"From: <alice@own.test>\r\nTo: <bob@slow.test>\r\nSubject: {tag}-{i}\r\n"
            f"Message-ID: <{tag}-{i}@own.test>\r\n\r\nbody of {tag}-{i}\r\nend-of-{tag}-{i}\r\n").encode()


def complete(sink, tag="t42"):
    """{i: how many whole copies of message i the sink has}."""
    count = collections.Counter()
    for d in sink.dumps():
        m = re.search(rb"end-of-" + tag.encode() + rb"-(\d+)", d)
        if m:
            count[int(m.group(1))] += 1
    return count


def send_all(box, tag):
    with smtplib.SMTP("127.0.0.1", box.port, timeout=20) as c:
        c.ehlo("client.test")
        for i in range(N):
            refused = c.sendmail("alice@own.test", ["bob@slow.test"], message(i, tag))
            assert not refused, refused


def main():
    work = tempfile.mkdtemp(prefix="boxmail-t42-")
    with Dnsmasq(work, RECORDS) as dns, Sink("-w", "2", host="127.0.0.2", port=25) as sink:
        box = Box({"smtp": {"accept_domains": "own.test"},
                   "relay": {"relay_networks": "127.0.0.1", "route": "mx", "retry_min": "1", "retry_max": "2",
                             "connect_timeout": "2", "max_deliveries_per_destination": "2"},
                   "dns": {"servers": dns.server(), "timeout": "1", "attempts": "2"}})
        try:
            box.start()
            send_all(box, "t42")
            # Kill while deliveries are in flight: the sink has some, not all.
            boxtest.poll(lambda: len(complete(sink)) >= 1, timeout=30, what="a first delivery")
            before = complete(sink)
            assert len(before) < N, f"all {N} delivered before the kill: the MX is not slow enough"
            in_queue = len([n for n in os.listdir(os.path.join(box.spool_dir, "queue")) if n.endswith(".env")])
            box.kill()
            print(f"   killed with {sum(before.values())} delivered, {in_queue} envelopes in the queue")
            assert in_queue >= 1, "nothing was in flight"
            box.start()
            boxtest.poll(lambda: len(complete(sink)) == N, timeout=90, what=f"all {N} messages at the sink")
            boxtest.poll(lambda: box.control("queue list")[0] == "ok 0 messages", timeout=30,
                         what="the queue empty")
            count = complete(sink)
            dups = {i: n - 1 for i, n in count.items() if n > 1}
            print(f"   at the sink: {sum(count.values())} copies of {N} messages, duplicates {dups or 'none'}")
            left = []
            for root, dirs, files in os.walk(os.path.join(box.spool_dir, "queue")):
                left += [os.path.join(root, f) for f in files]
            assert not left, left
            partial = [d for d in sink.dumps() if b"t42-" in d and not re.search(rb"end-of-t42-\d+", d)]
            print(f"   partial transactions at the sink (cut by the kill, never acknowledged): {len(partial)}")
            assert "quarantine" not in box.log(), box.log()[-3000:]
            print(f"ok every acknowledged message delivered after SIGKILL mid-delivery; queue empty")

            # -- a clean stop in the middle of deliveries --
            send_all(box, "t42t")
            boxtest.poll(lambda: len(complete(sink, "t42t")) >= 1, timeout=30, what="a first delivery")
            before = complete(sink, "t42t")
            assert len(before) < N, f"all {N} delivered before the stop: the MX is not slow enough"
            t0 = time.monotonic()
            code = box.stop()
            took = time.monotonic() - t0
            at_exit = sum(complete(sink, "t42t").values())
            print(f"   SIGTERM with {sum(before.values())} delivered: exit {code} after {took:.1f} s, "
                  f"{at_exit} delivered by then")
            assert code == 0, code
            # Each connection carries several messages; the stop ends each
            # after its transaction in progress instead of sending them all.
            assert at_exit < N, f"the stop waited for every message ({at_exit} of {N})"
            assert "sessions still open after 30 s" not in box.log(), box.log()[-3000:]
            box.start()
            boxtest.poll(lambda: len(complete(sink, "t42t")) == N, timeout=90, what=f"all {N} messages at the sink")
            boxtest.poll(lambda: box.control("queue list")[0] == "ok 0 messages", timeout=30,
                         what="the queue empty")
            count = complete(sink, "t42t")
            dups = {i: n - 1 for i, n in count.items() if n > 1}
            assert not dups, f"a clean stop sent messages twice: {dups}"
            print(f"ok a clean stop mid-delivery: the open connections finished and were recorded; "
                  f"after the restart {N} messages, no duplicate")
        except BaseException:
            sys.stderr.write("---- boxmaild log ----\n" + box.log()[-8000:] + "\n")
            raise
        finally:
            box.stop()
            box.cleanup()
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    boxtest.run(main)
