"""t-10-config: --check-config, SIGHUP reload, SIGTERM, and boxmailctl users.

1. boxmaild -c GOOD --check-config -> exit 0, "config OK: GOOD" on stdout.
   Bad files -> exit 2 and "FILE:LINE: [section] key: ..." on stderr:
   unknown key, bad value (max_message_size = abc), unknown section.
2. SIGHUP: max_message_size 100000 -> 20000: a 50,000-octet message accepted
   before is refused after with 552 5.3.4 (EHLO's SIZE shows the new value).
   A bad file on SIGHUP: logged as a failed reload, the old snapshot stays
   (EHLO still says SIZE 20000; a 10,000-octet message is still accepted).
3. SIGTERM: an idle client gets 421 4.3.2 and is closed; a client in the middle
   of DATA finishes its message (250 2.0.0, delivered); boxmaild exits 0.
4. boxmailctl: `user add ../x` (and a/b, .hidden, a..b, 65 octets) refused
   with exit 2, nothing created; add (from stdin, or random and printed once),
   list (name and Maildir), passwd, del work; the passwd-file holds {SHA512-CRYPT} hashes (checked with crypt(3))
   and no plaintext; a mailbox added while boxmaild runs gets mail at once
   (no signal), and one deleted is refused at once.
5. Relative default paths: a config that leaves control_socket at its
   default (./var/run/boxmaild.sock) starts in an empty working directory:
   boxmaild makes the missing directories itself.
"""
import os
import re
import signal
import subprocess
import sys
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import (BOXMAILD, Box, Dialogue, poll, read, run, split_stored,  # noqa: E402
                     to_crlf_dotstuffed)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # noqa: E402  (Python 3.11: still there; checks the hash format for real)


def listed_names(box):
    """Mailbox names from `boxmailctl user list`: the first word of each line."""
    return [l.split()[0] for l in box.ctl("user", "list").stdout.splitlines() if l.strip()]


def check_config(path):
    return subprocess.run([BOXMAILD, "-c", path, "--check-config"], capture_output=True,
                          text=True, timeout=30)


def check_config_files(box):
    p = check_config(box.ini)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    assert f"config OK: {box.ini}" in p.stdout, p.stdout
    cases = [
        # (name, text, line, section, key)
        ("unknown-key", "[server]\nhostname = a.example\n[smtp]\nmax_message_size = 1000\nno_such_key = 1\n",
         5, "smtp", "no_such_key"),
        ("bad-value", "[smtp]\nmax_recipients = 10\nmax_message_size = abc\n", 3, "smtp", "max_message_size"),
        ("unknown-section", "[smtp]\nmax_recipients = 10\n\n[bogus]\nkey = 1\n", 5, "bogus", "key"),
        ("bad-enum", "[smtp]\nbare_lf = maybe\n", 2, "smtp", "bare_lf"),
        ("below-min", "[smtp]\nmax_command_line = 100\n", 2, "smtp", "max_command_line"),
    ]
    for name, text, line, section, key in cases:
        path = os.path.join(box.dir, f"{name}.ini")
        with open(path, "w") as f:
            f.write(text)
        p = check_config(path)
        assert p.returncode == 2, (name, p.returncode, p.stdout, p.stderr)
        want = [f"{path}:{line}: [{section}] {key}:"]
        if name == "unknown-section":   # may be reported on the [bogus] line itself
            want.append(f"{path}:{line - 1}: [{section}]:")
        assert any(w in p.stderr for w in want), f"{name}: {want!r} not in stderr:\n{p.stderr}"
        assert "config OK" not in p.stdout, (name, p.stdout)


def size_of(box):
    lines = box.ehlo_lines()
    sizes = [l for l in lines if l.startswith("SIZE ")]
    assert len(sizes) == 1, lines
    return int(sizes[0][5:])


def send(box, octets, tag):
    """Sends a message of about OCTETS octets to alice; returns (code, enhanced)."""
    body = f"Subject: {tag}\n\n".encode() + b"".join(
        b"%05d " % i + b"r" * 93 + b"\n" for i in range(octets // 100))
    d = Dialogue(box.port)
    d.hello()
    code, lines = d.transaction("s@client.example", ["alice@x.example"], to_crlf_dotstuffed(body))
    d.send("QUIT")
    d.expect(221)
    d.close()
    return code, lines[-1][:5]


def reload(box):
    assert size_of(box) == 100000
    assert send(box, 50000, "before reload") == (250, "2.0.0")
    box.write_config({"smtp": {"max_message_size": "20000"}})
    box.signal(signal.SIGHUP)
    poll(lambda: size_of(box) == 20000, 10, "EHLO SIZE 20000 after SIGHUP")
    assert send(box, 50000, "after reload") == (552, "5.3.4")
    assert send(box, 10000, "small after reload") == (250, "2.0.0")
    # a bad file: the reload fails, the old snapshot stays
    mark = len(box.log())
    box.write_config({"smtp": {"max_message_size": "abc"}})
    box.signal(signal.SIGHUP)
    box.wait_log(r"^.*(?i:reload).*(?i:fail|error|keep|kept).*$|^.*(?i:fail|error).*(?i:reload).*$",
                 10, start=mark)
    assert re.search(rf"{re.escape(box.ini)}:\d+: \[smtp\] max_message_size:", box.log()[mark:]), \
        "the failed reload does not name file, line and key:\n" + box.log()[mark:]
    assert box.proc.poll() is None, "boxmaild died on a bad reload"
    assert size_of(box) == 20000
    assert send(box, 10000, "small after bad reload") == (250, "2.0.0")
    assert send(box, 50000, "big after bad reload") == (552, "5.3.4")
    subjects = sorted(split_stored(read(p))[1].split(b"\n", 1)[0] for p in box.messages("alice"))
    assert subjects == [b"Subject: before reload", b"Subject: small after bad reload",
                        b"Subject: small after reload"], subjects
    box.write_config({"smtp": {"max_message_size": "20000"}})      # a good file again


def sigterm(box):
    busy = Dialogue(box.port)
    busy.hello()
    busy.send("MAIL FROM:<s@client.example>")
    busy.expect(250, "2.1.0")
    busy.send("RCPT TO:<bob@x.example>")
    busy.expect(250, "2.1.5")
    busy.send("DATA")
    busy.expect(354)
    body = b"Subject: in flight\n\nfirst half\n" + b"second half\n"
    payload = to_crlf_dotstuffed(body)
    busy.send(payload[:30], raw=True)
    idle = Dialogue(box.port)
    idle.hello()
    box.signal(signal.SIGTERM)
    idle.expect(421, "4.3.2", text="mx.test.example")
    assert idle.closed()
    # it stops accepting: a new connection is refused, or told 421 4.3.2
    try:
        late = Dialogue(box.port, timeout=5)
    except ConnectionRefusedError:
        pass
    else:
        try:
            late.expect(421, "4.3.2")
        except EOFError:
            pass                        # accepted by the kernel, closed unanswered
        late.close()
    busy.send(payload[30:], raw=True)
    busy.expect(250, "2.0.0")
    (b,) = box.messages("bob")
    assert split_stored(read(b))[1] == body
    try:
        box.proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise AssertionError("boxmaild did not exit after SIGTERM")
    assert box.proc.returncode == 0, box.proc.returncode
    busy.close()
    idle.close()


def users(box):
    p = box.ctl("user", "add", "../x", "--password-stdin", input="secret-x\n", check=False)
    assert p.returncode == 2, (p.returncode, p.stdout, p.stderr)
    for bad in ("a/b", ".hidden", "a..b", "x" * 65):
        p = box.ctl("user", "add", bad, "--password-stdin", input="secret-x\n", check=False)
        assert p.returncode == 2, (bad, p.returncode, p.stderr)
    assert not os.path.exists(os.path.join(box.dir, "x"))
    listed = listed_names(box)
    assert listed == ["alice", "bob"], listed

    # carol is added while boxmaild runs: unknown before, delivered to after
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<s@client.example>")
    d.expect(250)
    d.send("RCPT TO:<carol@x.example>")
    d.expect(550, "5.1.1")
    d.close()
    box.ctl("user", "add", "carol", "--password-stdin", input="pw-carol-1\n")
    listed = listed_names(box)
    assert listed == ["alice", "bob", "carol"], listed
    for line in box.ctl("user", "list").stdout.splitlines():
        name, maildir = line.split()
        assert maildir == box.maildir(name), line
    d = Dialogue(box.port)
    d.hello()
    code, lines = d.transaction("s@client.example", ["carol@x.example"],
                                to_crlf_dotstuffed(b"Subject: to carol\n\nhi\n"))
    assert code == 250, (code, lines)
    d.send("QUIT")
    d.expect(221)
    d.close()
    assert len(box.messages("carol")) == 1

    passwd = read(box.passwd).decode()
    entries = {l.split(":", 1)[0]: l.split(":")[1] for l in passwd.splitlines() if l and l[0] != "#"}
    assert sorted(entries) == ["alice", "bob", "carol"], entries
    for name, pw in (("alice", "pw-alice"), ("bob", "pw-bob"), ("carol", "pw-carol-1")):
        h = entries[name]
        assert h.startswith("{SHA512-CRYPT}$6$"), h
        assert crypt.crypt(pw, h[len("{SHA512-CRYPT}"):]) == h[len("{SHA512-CRYPT}"):], name
        assert pw not in passwd, f"plaintext password of {name} in the passwd-file"

    # passwd changes the hash
    old = entries["carol"]
    box.ctl("user", "passwd", "carol", "--password-stdin", input="pw-carol-2\n")
    entries2 = {l.split(":", 1)[0]: l.split(":")[1] for l in read(box.passwd).decode().splitlines()
                if l and l[0] != "#"}
    new = entries2["carol"][len("{SHA512-CRYPT}"):]
    assert entries2["carol"] != old and entries2["carol"].startswith("{SHA512-CRYPT}$6$")
    assert crypt.crypt("pw-carol-2", new) == new
    assert crypt.crypt("pw-carol-1", new) != new
    assert entries2["alice"] == entries["alice"] and entries2["bob"] == entries["bob"]
    # a duplicate add fails and changes nothing
    p = box.ctl("user", "add", "carol", "--password-stdin", input="x\n", check=False)
    assert p.returncode != 0
    assert read(box.passwd).decode().count("carol:") == 1

    # add without --password-stdin: a random password, printed once as "NAME: PASSWORD"
    p = box.ctl("user", "add", "dave")
    m = re.fullmatch(r"dave: (\S{12})\n", p.stdout)
    assert m, p.stdout
    line = [l for l in read(box.passwd).decode().splitlines() if l.startswith("dave:")][0]
    h = line.split(":")[1][len("{SHA512-CRYPT}"):]
    assert crypt.crypt(m.group(1), h) == h, "the printed random password does not verify"
    assert m.group(1) not in read(box.passwd).decode()
    box.ctl("user", "del", "dave")

    # del: gone from the list and the file; the running daemon refuses it at once
    box.ctl("user", "del", "carol")
    assert listed_names(box) == ["alice", "bob"]
    assert "carol:" not in read(box.passwd).decode()
    p = box.ctl("user", "del", "carol", check=False)
    assert p.returncode != 0, "deleting a missing user succeeded"
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<s@client.example>")
    d.expect(250)
    d.send("RCPT TO:<carol@x.example>")
    d.expect(550, "5.1.1")
    d.close()


def default_relative_paths():
    with Box(name="relpaths") as box:
        del box.config["server"]["control_socket"]
        box.write_config()
        cwd = os.path.join(box.dir, "empty-cwd")
        os.mkdir(cwd)
        log = open(box.log_path, "ab")
        box.proc = subprocess.Popen([BOXMAILD, "-c", box.ini], cwd=cwd, stdout=log, stderr=log,
                                    stdin=subprocess.DEVNULL)
        box.wait_ready()
        sock = os.path.join(cwd, "var", "run", "boxmaild.sock")
        assert poll(lambda: os.path.exists(sock), 5), f"no control socket at {sock}:\n{box.log()}"
        assert box.stop() == 0
        log.close()


def main():
    default_relative_paths()
    with Box(config={"smtp": {"accept_domains": "*", "max_message_size": "100000"}}) as box:
        check_config_files(box)
        box.start()
        users(box)
        reload(box)
        sigterm(box)


run(main)
