"""t-13-passwd-faults: a broken passwd-file never replaces the account table.

boxmaild re-reads the passwd-file when it changes (checked at each accepted
connection). Only a file at least as good replaces the running table
(docs/reliability.md, "The last good state"):

1. Descriptors exhausted: boxmaild's RLIMIT_NOFILE is lowered (prlimit) so
   that it can accept one more connection and open nothing else; the
   passwd-file is touched; the next connection makes boxmaild re-read it and
   open(2) fails with EMFILE. That connection's RCPT TO:<alice> still gets
   250 2.1.5 (not 550 5.1.1), the log names the file and "Too many open
   files". With the limit restored, mail to alice and bob is delivered
   (250) and POP3 logs in: the re-read was tried again, not given up.
2. A passwd-file that is empty, deleted, garbage, or has one bad line (bob's
   line cut off): mail to alice and bob is still accepted and lands in their
   Maildirs, POP3 still logs in, and the log has an error naming the file
   (and for a bad line its line number). Once fixed (the good file back,
   plus a mailbox added with boxmailctl), the change is taken at once:
   mail to the new mailbox is accepted; deleted again, refused.
3. The explicit "no mailboxes": `boxmailctl user del` of every mailbox
   writes "# boxmail: no mailboxes"; that file IS taken: alice gets
   550 5.1.1 and POP3 -ERR [AUTH].
4. At start: a passwd-file with a bad line stops boxmaild (exit 2, the
   error names file and line; --check-config too); a missing one starts
   with a warning and no mailboxes, and the first `user add` is taken.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box, poll, to_crlf_dotstuffed  # noqa: E402


def rcpt_code(box, rcpt, dialogue=None):
    """MAIL FROM + RCPT TO:<rcpt> on a new (or the given) connection; returns the RCPT reply code."""
    d = dialogue or box.dialogue()
    try:
        if dialogue is None:
            d.hello()
        d.send("MAIL FROM:<s@client.example>")
        d.expect(250, "2.1.0")
        d.send(f"RCPT TO:<{rcpt}>")
        code, lines = d.reply()
        d.send("RSET")
        d.expect(250)
        return code, lines
    finally:
        if dialogue is None:
            d.send("QUIT")
            d.close()


def send_ok(box, rcpt, subject):
    """Delivers one message to RCPT; asserts 250 and that it lands in the Maildir."""
    user = rcpt.split("@")[0]
    before = len(box.messages(user))
    box.deliver(rcpt, f"Subject: {subject}\n\nbody\n".encode())
    got = box.wait_messages(user, before + 1)
    assert len(got) == before + 1, (rcpt, subject, got)


def pop3_login_ok(box, user):
    d = box.pop3_dialogue()
    try:
        d.login(user, f"pw-{user}")
        d.send("QUIT")
        d.expect("+OK")
    finally:
        d.close()


def fds_of(pid):
    return sorted(int(n) for n in os.listdir(f"/proc/{pid}/fd"))


def prlimit(pid, soft, hard):
    """Sets the descriptor limit of PID (the soft one; raising a hard limit needs privileges)."""
    boxtest.prlimit_nofile(pid, soft, hard)


def emfile(box, good_text):
    pid = box.proc.pid
    original = open(f"/proc/{pid}/limits").read()
    soft = hard = None
    for line in original.splitlines():
        if line.startswith("Max open files"):
            parts = line.split()
            soft, hard = parts[3], parts[4]
    assert soft and hard, original
    # Idle clients hold descriptors, as a busy box would.
    idle = [box.dialogue() for _ in range(8)]
    for d in idle:
        d.expect(220)
    used = fds_of(pid)
    lowest_free = next(i for i in range(len(used) + 1) if i not in used)
    # One descriptor left: the next accept takes it, the passwd-file's open(2) gets EMFILE.
    prlimit(pid, lowest_free + 1, hard)
    mark = len(box.log())
    try:
        st = os.stat(box.passwd)
        os.utime(box.passwd, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        d = box.dialogue()
        d.hello()
        code, lines = rcpt_code(box, "alice@x.example", dialogue=d)
        assert code == 250, f"under EMFILE the account table was replaced: RCPT alice -> {code} {lines}"
        d.send("QUIT")
        d.close()
        box.wait_log(r"passwd: cannot open: Too many open files", 10, start=mark)
        assert box.passwd + ": cannot open: Too many open files" in box.log()[mark:], box.log()[mark:]
    finally:
        prlimit(pid, soft, hard)
        for d in idle:
            d.close()
    # The descriptors are back: the re-read is tried again and the table is still good.
    send_ok(box, "alice@x.example", "after emfile")
    send_ok(box, "bob@x.example", "after emfile")
    pop3_login_ok(box, "alice")
    assert open(box.passwd).read() == good_text


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


def faults(box, good_text):
    bob_line = next(l for l in good_text.splitlines() if l.startswith("bob:"))
    alice_line = next(l for l in good_text.splitlines() if l.startswith("alice:"))
    cases = [
        ("empty", b"", "the passwd-file holds no mailbox"),
        ("blank", b"\n\n", "the passwd-file holds no mailbox"),
        ("deleted", None, "the passwd-file is missing"),
        ("garbage", b"\x7fELF\x02\x01\x01\x00 binary \xff\xfe\n", ":1: "),
        ("one bad line", (alice_line + "\n" + bob_line[:4] + "\n").encode(), ":2: "),
    ]
    for i, (name, data, error) in enumerate(cases):
        mark = len(box.log())
        if data is None:
            os.unlink(box.passwd)
        else:
            write(box.passwd, data)
        for user in ("alice", "bob"):
            code, lines = rcpt_code(box, f"{user}@x.example")
            assert code == 250, f"{name}: RCPT {user} -> {code} {lines}"
            send_ok(box, f"{user}@x.example", f"during {name}")
        pop3_login_ok(box, "alice")
        pop3_login_ok(box, "bob")
        log = box.log()[mark:]
        want = box.passwd + (error if error.startswith(":") else ": " + error)
        assert want in log, f"{name}: no error line {want!r} in the log:\n{log}"
        assert "keeping the 2 mailboxes" in log, f"{name}:\n{log}"
        # Fixed: the good file back, then a change made with boxmailctl is taken.
        write(box.passwd, good_text.encode())
        boxtest.hand_over(box.passwd)   # readable by boxmaild again, as the init script would leave it
        newbie = f"new{i}"
        box.ctl("user", "add", newbie, "--password-stdin", input=f"pw-{newbie}\n")
        code, lines = rcpt_code(box, f"{newbie}@x.example")
        assert code == 250, f"{name}: after the fix, {newbie} -> {code} {lines}"
        pop3_login_ok(box, newbie)
        box.ctl("user", "del", newbie)
        code, lines = rcpt_code(box, f"{newbie}@x.example")
        assert code == 550, f"{name}: {newbie} deleted, yet {code} {lines}"
        assert open(box.passwd).read() == good_text


def no_mailboxes(box):
    mark = len(box.log())
    box.ctl("user", "del", "alice")
    box.ctl("user", "del", "bob")
    text = open(box.passwd).read()
    assert text == "# boxmail: no mailboxes\n", repr(text)
    code, lines = rcpt_code(box, "alice@x.example")
    assert code == 550 and lines[-1].startswith("5.1.1"), (code, lines)
    d = box.pop3_dialogue()
    d.expect("+OK")
    d.send("USER alice")
    d.expect("+OK")
    d.send("PASS pw-alice")
    d.expect("-ERR [AUTH]")
    d.close()
    assert "error" not in box.log()[mark:], box.log()[mark:]
    # And a mailbox added to it afterwards works.
    box.ctl("user", "add", "carol", "--password-stdin", input="pw-carol\n")
    send_ok(box, "carol@x.example", "carol")


def at_start(box):
    """At start: a bad line stops boxmaild (exit 2, file:line named) and
    --check-config says so; a missing file starts with a warning."""
    write(box.passwd, b"carol:{PLAIN}x\nbogus\n")
    for extra in (["--check-config"], []):
        p = subprocess.run([boxtest.BOXMAILD, "-c", box.ini] + extra, capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 2, (extra, p.returncode, p.stdout, p.stderr)
        assert f"{box.passwd}:2: " in p.stderr, (extra, p.stderr)
    os.unlink(box.passwd)
    mark = len(box.log())
    box.start()
    box.wait_log(r"warning: .*passwd: no passwd-file yet", 10, start=mark)
    code, lines = rcpt_code(box, "alice@x.example")
    assert code == 550, (code, lines)
    box.ctl("user", "add", "alice", "--password-stdin", input="pw-alice\n")
    send_ok(box, "alice@x.example", "after the first user")
    assert box.stop() == 0


def main():
    with Box(config={"pop3": {"login_delay": "0"}}) as box:
        box.start()
        good_text = open(box.passwd).read()
        send_ok(box, "alice@x.example", "before")
        emfile(box, good_text)
        faults(box, good_text)
        no_mailboxes(box)
        assert box.proc.poll() is None
        assert box.stop() == 0
        at_start(box)


if __name__ == "__main__":
    boxtest.run(main)
