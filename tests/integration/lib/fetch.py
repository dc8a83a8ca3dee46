"""fetch - runs fetchmail against a boxmaild's POP3 port (t-23, t-24).

fetchmail(1) runs with a private HOME holding a 0600 .fetchmailrc, in the
foreground (--nosyslog, no daemon), keeping the mail on the server
(--keep) and handing each message to an MDA that writes it to a file of its
own in OUTDIR (named by arrival order). fetchmail adds a Received: header
of its own; split_fetched() removes it.
"""
import os
import re
import subprocess
import sys
import tempfile

MDA = r'''import os, sys
out = sys.argv[1]
n = len(os.listdir(out))
data = sys.stdin.buffer.read()
with open(os.path.join(out, "%06d.eml" % n), "wb") as f:
    f.write(data)
'''


def fetchmail(port, user, password, outdir, keep=True, extra=(), home=None, fast_mda=False,
              tls='sslproto ""'):
    """Runs fetchmail once; returns the CompletedProcess (exit 0: mail
    fetched, 1: no mail). HOME (made when None) keeps fetchmail's .fetchids,
    the UIDs it has seen: pass the same one to fetch only new mail.
    fast_mda: a shell one-liner instead of Python (thousands of messages);
    its files are named by the MDA's pid, not in arrival order.
    tls: the .fetchmailrc TLS keywords; the default, sslproto "", turns
    fetchmail's opportunistic STLS off (plain POP3, as the harness allows
    from loopback)."""
    home = home or tempfile.mkdtemp(prefix="boxmail-fetchmail-")
    mda = os.path.join(home, "mda.py")
    with open(mda, "w") as f:
        f.write(MDA)
    rc = os.path.join(home, ".fetchmailrc")
    with open(rc, "w") as f:
        f.write(f'poll 127.0.0.1 service {port} protocol pop3 uidl auth password\n'
                f'  user "{user}" there with password "{password}" is "{user}" here\n'
                f'  {"keep" if keep else "nokeep"} no rewrite no stripcr {tls}\n'
                + (f"  mda \"/bin/sh -c 'exec cat > {outdir}/m.$$'\"\n" if fast_mda else
                   f'  mda "{sys.executable} {mda} {outdir}"\n'))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=home)
    cmd = ["fetchmail", "--nosyslog", "-f", rc, "--pidfile", os.path.join(home, "pid"), *extra]
    return subprocess.run(cmd, env=env, capture_output=True, timeout=600)


def delivered(outdir):
    """The files the MDA wrote, in arrival order, as bytes."""
    out = []
    for name in sorted(os.listdir(outdir)):
        with open(os.path.join(outdir, name), "rb") as f:
            out.append(f.read())
    return out


def split_fetched(data):
    """(fetchmail's Received: header, the message as the server sent it,
    with CRLF line ends turned back into LF).

    With "no stripcr" fetchmail hands the MDA the lines as received (CRLF),
    so a bare CR in the stored file (sent as CR CR LF) survives; fetchmail
    puts its Received: header after the first header (Return-Path)."""
    m = re.search(rb"Received: from 127\.0\.0\.1 [^\n]*\n(?:[ \t][^\n]*\n)*", data)
    if not m or b"(fetchmail-" not in m.group(0):
        raise AssertionError(f"no fetchmail Received: header: {data[:300]!r}")
    rest = data[:m.start()] + data[m.end():]
    return m.group(0), rest.replace(b"\r\n", b"\n")
