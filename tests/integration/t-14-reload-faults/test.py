"""t-14-reload-faults: a reload never moves the store or takes a broken file.

The running configuration has max_message_size = 100000 (EHLO SIZE shows
it). For each fault below, boxmaild gets SIGHUP, then the control socket's
`reload`; each time:
  - the log says why, naming the file (and the key), and that the running
    configuration is kept;
  - `reload` answers "error ..." with the same reason in its body;
  - the running configuration stays: EHLO still says SIZE 100000, and mail
    to alice still lands in the same Maildir (mail_dir of the start).
Then the good file is written back and `reload` answers "ok reloaded".

Faults:
  1. the INI file emptied (`: > boxmail.ini`): "the file is empty";
  2. the INI file cut off after [server]: [store] mail_dir and spool_dir
     would fall back to ./var/...: refused naming them;
  3. a reload changing mail_dir, spool_dir, passwd_file or control_socket
     (one at a time, with another change next to it): refused naming the key
     ("it is fixed at install time and changes only at a restart");
  4. a reload while mail_dir's directory is gone (renamed away): refused,
     "does not exist"; the directory back, the reload is taken.
Also: an empty file given with -c at start (or --check-config) is an error
(exit 2), not "all defaults".
"""
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import BOXMAILD, Box, poll  # noqa: E402

SIZE = 100000


def control(box, request):
    """One control-socket request; returns (ok, head, body lines)."""
    lines = box.control(request)
    head = lines[0]
    ok = head == "ok" or head.startswith("ok ")
    return ok, head, lines[1:]


def size_of(box):
    sizes = [l for l in box.ehlo_lines() if l.startswith("SIZE ")]
    return int(sizes[0][5:])


def still_running_config(box, what):
    assert box.proc.poll() is None, f"{what}: boxmaild died"
    assert size_of(box) == SIZE, f"{what}: the running configuration was replaced"
    before = len(box.messages("alice"))
    box.deliver("alice@x.example", f"Subject: after {what}\n\nbody\n".encode())
    assert len(box.wait_messages("alice", before + 1)) == before + 1, f"{what}: not in the same Maildir"


def refused(box, what, text, reasons):
    """Writes TEXT as the INI file, reloads twice (SIGHUP, control), checks
    the refusal names each regex in REASONS; writes the good file back."""
    good = open(box.ini).read()
    with open(box.ini, "w") as f:
        f.write(text)
    mark = len(box.log())
    box.signal(signal.SIGHUP)
    box.wait_log(r"(?i)keeping the running configuration", 10, start=mark)
    log = box.log()[mark:]
    for r in reasons:
        assert re.search(r, log), f"{what}: log has no /{r}/:\n{log}"
    assert "reloaded" not in log, f"{what}:\n{log}"
    still_running_config(box, what + " (SIGHUP)")
    ok, head, body = control(box, "reload")
    assert not ok and head.startswith("error "), (what, head, body)
    for r in reasons:
        assert any(re.search(r, l) for l in body), f"{what}: reload reply has no /{r}/: {head} {body}"
    still_running_config(box, what + " (control reload)")
    with open(box.ini, "w") as f:
        f.write(good)


def ini_text(box, changes):
    """The INI text of box.config with CHANGES ({section: {key: value}}) applied."""
    out = []
    for section, keys in box.config.items():
        out.append(f"[{section}]")
        merged = dict(keys, **changes.get(section, {}))
        out += [f"{k} = {v}" for k, v in merged.items()]
        out.append("")
    return "\n".join(out) + "\n"


def main():
    with Box(config={"smtp": {"max_message_size": str(SIZE)}}) as box:
        os.chdir(box.dir)   # relative defaults (./var/...) would land here, not in the build dir
        box.start()
        assert size_of(box) == SIZE
        ini = re.escape(box.ini)

        refused(box, "empty file", "", [rf"{ini}: the file is empty"])
        refused(box, "blank file", "\n  \n\n", [rf"{ini}: the file is empty"])

        good = open(box.ini).read()
        cut = good[:good.index("[smtp]")]
        assert "[server]" in cut and "mail_dir" not in cut
        refused(box, "cut after [server]", cut,
                [rf"{ini}: \[store\] mail_dir: changes from '{re.escape(box.mail_dir)}' to '\./var/mail'",
                 rf"{ini}: \[store\] spool_dir: changes from", r"only at a restart"])

        for section, key, value in [
            ("store", "mail_dir", os.path.join(box.dir, "mail2")),
            ("store", "spool_dir", os.path.join(box.dir, "spool2")),
            ("server", "passwd_file", os.path.join(box.dir, "passwd2")),
            ("server", "control_socket", os.path.join(box.dir, "control2.sock")),
        ]:
            os.makedirs(os.path.join(box.dir, "mail2"), exist_ok=True)
            os.makedirs(os.path.join(box.dir, "spool2"), exist_ok=True)
            text = ini_text(box, {section: {key: value}, "smtp": {"max_message_size": "20000"}})
            refused(box, f"changed {key}", text,
                    [rf"{ini}: \[{section}\] {key}: changes from .* to '{re.escape(value)}'.*only at a restart"])

        # mail_dir gone (a disk not mounted): refused; back, the reload is taken.
        os.rename(box.mail_dir, box.mail_dir + ".away")
        try:
            text = ini_text(box, {"smtp": {"max_message_size": "20000"}})
            with open(box.ini, "w") as f:
                f.write(text)
            mark = len(box.log())
            ok, head, body = control(box, "reload")
            assert not ok, (head, body)
            want = rf"\[store\] mail_dir: directory '{re.escape(box.mail_dir)}' does not exist"
            assert any(re.search(want, l) for l in body), (head, body)
            box.wait_log(want, 10, start=mark)
            box.signal(signal.SIGHUP)
            box.wait_log(want + r"(.|\n)*" + want, 10, start=mark)
        finally:
            os.rename(box.mail_dir + ".away", box.mail_dir)
        with open(box.ini, "w") as f:
            f.write(good)
        still_running_config(box, "mail_dir gone")

        # The good file again: taken.
        with open(box.ini, "w") as f:
            f.write(ini_text(box, {"smtp": {"max_message_size": "20000"}}))
        ok, head, body = control(box, "reload")
        assert ok and head == "ok reloaded", (head, body)
        poll(lambda: size_of(box) == 20000, 10, "SIZE 20000 after a good reload")
        assert not os.path.exists(os.path.join(box.dir, "var")), "something was created under ./var"
        assert box.stop() == 0

        # An empty file given with -c is an error at start too (exit 2), and for --check-config.
        empty = os.path.join(box.dir, "empty.ini")
        open(empty, "w").close()
        for args in ([BOXMAILD, "-c", empty, "--check-config"], [BOXMAILD, "-c", empty]):
            p = subprocess.run(args, capture_output=True, text=True, timeout=30)
            assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
            assert f"{empty}: the file is empty" in p.stderr, p.stderr


if __name__ == "__main__":
    boxtest.run(main)
