"""t-33-privilege-drop: boxmaild serves the network as its own account, with
no way back to root (issue 8).

Started as root (as the appliance's init starts it), boxmaild binds its
ports and the control socket, then drops for good to `[server] user`
(default boxmail):

  (1) /proc/PID/status of the running daemon: Uid and Gid (real, effective,
      saved, file system) are the boxmail account's, Groups holds only its
      group, CapInh/CapPrm/CapEff/CapBnd/CapAmb are all 0, NoNewPrivs is 1;
      /proc/PID/limits: no core files. The log says so, including that
      setuid(0) was refused. Mail still flows: SMTP delivery, then POP3
      RETR + DELE; the delivered file belongs to boxmail. Every thread of
      the process (the committer, the spool pool, the password checker) has
      the same IDs.
  (2) SIGHUP after the drop: a new banner is taken; a new listen address
      (port 26, privileged) is reported as "needs a restart" in the log, in
      the control `reload` reply, in `status` and on the panel's status
      page; a restore through the panel that moves POP3 to port 110 says
      "needs a restart" in its result; the old ports keep serving and
      nothing listens on the new ones.
  (3) Store directories that do not exist yet are made for the mail user
      (owner boxmail); an existing store directory the mail user cannot
      write makes boxmaild stop with a clear error (exit 1), not serve as
      root.
  (4) Refusals at start, exit 2 and a log line, nothing served: a user that
      does not exist; `user = root` (a configuration error); an account
      named otherwise whose uid is 0 (an /etc/passwd bind-mounted in a
      private mount namespace holds "toor:x:0:0").
  (5) Not started as root (run as the boxmail user by setpriv), boxmaild
      stays as it is, says so, and still sets NoNewPrivs.
On the old code (1) fails at once: Uid 0 and a full CapEff.
"""
import os
import pwd
import re
import signal
import smtplib
import poplib
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from panel_cgi import Panel  # noqa: E402

MESSAGE = b"From: a@example.org\r\nTo: alice@example.com\r\nSubject: drop\r\n\r\nhello from a dropped daemon\r\n"


def proc_status(pid, tid=None):
    path = f"/proc/{pid}/status" if tid is None else f"/proc/{pid}/task/{tid}/status"
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def check_dropped(pid, uid, gid):
    tasks = os.listdir(f"/proc/{pid}/task")
    assert len(tasks) >= 2, tasks   # the committer and spool threads exist
    for tid in tasks:
        st = proc_status(pid, tid)
        assert st["Uid"] == [str(uid)] * 4, (tid, st["Uid"])
        assert st["Gid"] == [str(gid)] * 4, (tid, st["Gid"])
        assert st["Groups"] == [str(gid)], (tid, st["Groups"])
        for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(st[cap][0], 16) == 0, (tid, cap, st[cap])
        assert st["NoNewPrivs"] == ["1"], (tid, st["NoNewPrivs"])
    with open(f"/proc/{pid}/limits") as f:
        core = next(l for l in f if l.startswith("Max core file size"))
    assert core.split()[4:6] == ["0", "0"], core
    return len(tasks)


def port_open(port):
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def start_refused(box, pattern, code=2, cmd=None):
    """boxmaild (or CMD) exits with CODE and logs PATTERN; nothing listens."""
    with open(box.log_path, "ab") as log:
        p = subprocess.run(cmd or [boxtest.BOXMAILD, "-c", box.ini], stdout=log, stderr=log, timeout=60)
    assert p.returncode == code, (p.returncode, box.log()[-2000:])
    assert re.search(pattern, box.log()), (pattern, box.log()[-2000:])
    assert not port_open(box.port)


def main():
    uid, gid = boxtest.mail_user_ids()

    # (1) + (2)
    with boxtest.Box(name="t33") as box:
        box.start()
        pid = box.proc.pid
        threads = check_dropped(pid, uid, gid)
        box.wait_log(r"dropped root: running as boxmail \(uid %d\), group \S+ \(gid %d\); setuid\(0\) refused, "
                     r"no capabilities" % (uid, gid))
        with smtplib.SMTP("127.0.0.1", box.port, timeout=20) as c:
            c.sendmail("a@example.org", ["alice@example.com"], MESSAGE)
        files = box.wait_messages("alice", 1)
        st = os.stat(files[0])
        assert (st.st_uid, st.st_gid) == (uid, gid), (st.st_uid, st.st_gid)
        p = poplib.POP3("127.0.0.1", box.pop3_port, timeout=20)
        p.user("alice")
        p.pass_("pw-alice")
        _, lines, _ = p.retr(1)
        assert b"hello from a dropped daemon" in b"\n".join(lines)
        p.dele(1)
        p.quit()
        boxtest.poll(lambda: not box.messages("alice"), what="alice's message deleted")
        check_dropped(pid, uid, gid)   # the password checker thread has started by now
        print(f"dropped: uid {uid} gid {gid}, no capabilities, NoNewPrivs 1, no core files "
              f"({threads}+ threads); SMTP and POP3 work")

        start = len(box.log())
        box.write_config({"smtp": {"banner": "dropped and reloaded",
                                   "listen": "127.0.0.1:26"}})
        box.signal(signal.SIGHUP)
        box.wait_log(r"reloaded", start=start)
        box.wait_log(r"\[smtp\] listen changes from '127\.0\.0\.1:%d' to '127\.0\.0\.1:26': needs a restart"
                     % box.port, start=start)
        with socket.create_connection(("127.0.0.1", box.port), timeout=10) as s:
            assert b"dropped and reloaded" in s.recv(512)
        assert not port_open(26)
        reply = box.control("reload")
        assert reply[0].startswith("ok"), reply
        assert any("needs a restart" in l and "[smtp] listen" in l for l in reply[1:]), reply
        status = box.control("status")
        assert any("needs a restart" in l for l in status[1:]), status
        # The panel (as a CGI process): the status page says so; a restore
        # that moves POP3 to another port is applied, with the same words.
        panel = Panel(box)
        panel.login()
        _, page = panel.request("GET", "/status")
        assert "Waiting for a restart of boxmaild: [smtp] listen changes from" in page, page[-3000:]
        ini = boxtest.read(box.ini).replace(b"[pop3]\n", b"[pop3]\nlisten = 127.0.0.1:110\n", 1)
        ini = re.sub(rb"\[pop3\]\nlisten = 127\.0\.0\.1:110\n(listen = [^\n]*\n)", b"[pop3]\nlisten = 127.0.0.1:110\n",
                     ini)
        _, page = panel.restore(ini, boxtest.read(box.passwd))
        assert "boxmaild reloaded the configuration, but it needs a restart for:" in page, page[-3000:]
        assert "[pop3] listen changes from" in page, page[-3000:]
        assert not port_open(110)
        check_dropped(pid, uid, gid)
        print("SIGHUP after the drop: banner taken; a new listen port needs a restart "
              "(log, reload reply, status, the panel's status page and its apply message)")
        assert box.stop() == 0

    # (3) missing store directories are made for the mail user; an
    # unwritable one stops boxmaild
    top = tempfile.mkdtemp(prefix="boxmail-t33-store-")
    try:
        os.chmod(top, 0o755)
        with boxtest.Box(name="t33b", config={"store": {"mail_dir": os.path.join(top, "new", "mail"),
                                                         "spool_dir": os.path.join(top, "new", "spool")}}) as box:
            # Box hands its paths over at start: take them back so boxmaild
            # must make them itself.
            import shutil
            shutil.rmtree(os.path.join(top, "new"), ignore_errors=True)
            box.start()
            for d in ("new", "new/mail", "new/spool", "new/spool/tmp"):
                st = os.stat(os.path.join(top, d))
                assert (st.st_uid, st.st_gid) == (uid, gid), (d, st.st_uid)
            box.deliver("alice@example.com", MESSAGE)
            assert box.stop() == 0
            print("missing store directories: made, owned by boxmail")

            os.makedirs(os.path.join(top, "root-only"), 0o700)
            box.write_config({"store": {"mail_dir": os.path.join(top, "root-only", "mail")}})
            os.chown(top, 0, 0)
            os.makedirs(os.path.join(top, "root-only", "mail"), 0o700)
            with open(box.log_path, "ab") as log:
                p = subprocess.run([boxtest.BOXMAILD, "-c", box.ini], stdout=log, stderr=log, timeout=60)
            assert p.returncode == 1, (p.returncode, box.log()[-2000:])
            assert re.search(r"dropped root.*\n(.*\n)*.*error: .*root-only/mail.*Permission denied", box.log()), \
                box.log()[-2000:]
            print("a store directory the mail user cannot write: exit 1 after the drop, the path named")
    finally:
        import shutil
        shutil.rmtree(top, ignore_errors=True)

    # (4) refusals at start
    with boxtest.Box(name="t33c", config={"server": {"user": "no-such-user"}}) as box:
        start_refused(box, r"\[server\] user 'no-such-user': no such user in /etc/passwd")
        box.write_config({"server": {"user": "root"}})
        start_refused(box, r"\[server\] user: boxmaild does not serve the network as root")
        # An account with uid 0 under another name, in a private mount
        # namespace whose /etc/passwd says so.
        fake = os.path.join(box.dir, "passwd.fake")
        with open("/etc/passwd") as f:
            text = f.read()
        with open(fake, "w") as f:
            f.write(text + "toor:x:0:0:root again:/root:/bin/sh\n")
        box.write_config({"server": {"user": "toor"}})
        start_refused(box, r"\[server\] user 'toor' has uid 0: boxmaild does not serve the network as root",
                      cmd=["unshare", "-m", "--propagation", "private", "sh", "-c",
                           'mount --bind "$1" /etc/passwd && exec "$2" -c "$3"', "sh", fake, boxtest.BOXMAILD,
                           box.ini])
        print("refused at start (exit 2): an unknown user, user = root, an account with uid 0")

    # (5) not started as root
    with boxtest.Box(name="t33d") as box:
        boxtest.hand_over(box.dir)
        with open(box.log_path, "ab") as log:
            box.proc = subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
                                         boxtest.BOXMAILD, "-c", box.ini], stdout=log, stderr=log,
                                        stdin=subprocess.DEVNULL)
        box.wait_ready()
        box.wait_log(r"not started as root: running as uid %d, gid %d" % (uid, gid))
        st = proc_status(box.proc.pid)
        assert st["Uid"] == [str(uid)] * 4 and st["NoNewPrivs"] == ["1"], st
        box.deliver("bob@example.com", MESSAGE)
        assert box.stop() == 0
        print("not started as root: stays as it was started, NoNewPrivs 1")


if __name__ == "__main__":
    boxtest.run(main)
