"""boxtest - harness for boxmail's integration tests.

Each test (tests/integration/t-NN-name/test.py) starts a real boxmaild on a
free loopback port with its own temporary data directory and INI file, drives
it with real clients, and checks the Maildirs. ctest runs every test inside a
private network namespace (tests/netns-run), so nothing can leave loopback.

Environment (set by ctest): BOXMAIL_BUILD (build dir with boxmaild and
boxmailctl), BOXMAIL_SOURCE (source tree), BOXMAIL_CORPUS (corpus cache dir).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("BOXMAIL_BUILD", os.path.join(os.getcwd()))
SOURCE = os.environ.get("BOXMAIL_SOURCE", os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))))   # tests/integration/lib/boxtest.py -> the source tree
BOXMAILD = os.path.join(BUILD, "boxmaild")
BOXMAILCTL = os.path.join(BUILD, "boxmailctl")

# The account boxmaild drops to when started as root ([server] user's
# default); tests run as root, so every Box's files are handed to it.
MAIL_USER = "boxmail"
WEB_USER = "boxmail-web"
_accounts_made = False


def mail_user_ids(name=MAIL_USER):
    """(uid, gid) of a system account, made by tests/system-accounts if missing."""
    global _accounts_made
    import pwd
    if not _accounts_made:
        subprocess.run([os.path.join(SOURCE, "tests", "system-accounts")], check=True)
        _accounts_made = True
    p = pwd.getpwnam(name)
    return p.pw_uid, p.pw_gid


def hand_over(*paths, user=MAIL_USER):
    """chown -R PATHS to USER (symbolic links themselves, never their
    targets), as the appliance's init script does for its data directories.
    A no-op when the tests do not run as root."""
    if os.geteuid() != 0:
        return
    uid, gid = mail_user_ids(user)
    for top in paths:
        if not os.path.lexists(top):
            continue
        os.lchown(top, uid, gid)
        if os.path.islink(top) or not os.path.isdir(top):
            continue
        for root, dirs, files in os.walk(top):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), uid, gid)


def free_port():
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def control_exchange(path, request, pieces=(), pause=0.0, end=False):
    """One exchange on the control socket at PATH: the request line REQUEST
    (bytes), then each of PIECES (a payload) after PAUSE seconds, then,
    with END, the end of the write side. Returns the reply's lines: the
    head ("ok ..." / "error ...") then the body (dot-unstuffed), without
    the final "." line (control/control_protocol.hpp)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(path)
        s.sendall(request + b"\n")
        for piece in pieces:
            time.sleep(pause)
            s.sendall(piece)
        if end:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while not data.endswith(b"\n.\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    lines = data.decode().split("\n")
    lines = lines[:lines.index(".")] if "." in lines else lines
    return lines[:1] + [l[1:] if l.startswith("..") else l for l in lines[1:]]


def start_panel_env(directory, http_port, admin_password, smtp_port=None, pop3_port=None):
    """tests/web/panel_env.py in DIRECTORY: boxmaild and busybox httpd
    running boxmail.cgi as the panel's user (the appliance's ownership), on
    127.0.0.1:HTTP_PORT; SMTP and POP3 on the given ports (free ones when
    None). Returns the process once it is ready; closing its stdin stops
    both servers."""
    proc = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(SOURCE, "tests/web/panel_env.py"), "--build", BUILD, "--dir", directory,
         "--http", f"127.0.0.1:{http_port}", "--smtp-port", str(smtp_port or free_port()),
         "--pop3-port", str(pop3_port or free_port()), "--admin-password", admin_password, "--stdin-stop"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if "panel-env: ready" in line:
            return proc
    raise AssertionError("panel_env.py did not start")


def prlimit_nofile(pid, soft, hard):
    """Sets PID's descriptor limit with prlimit(1). As PID's own user when it
    is not root's: changing another user's limits needs CAP_SYS_RESOURCE,
    which root lacks in some containers (CI), and a dropped boxmaild is the
    mail user's (lowering, or raising the soft limit up to the hard one, is
    the owner's right)."""
    with open(f"/proc/{pid}/status") as f:
        ids = {k: v.split()[0] for k, _, v in (l.partition(":") for l in f) if k in ("Uid", "Gid")}
    uid, gid = ids["Uid"], ids["Gid"]
    cmd = ["prlimit", f"--pid={pid}", f"--nofile={soft}:{hard}"]
    if os.geteuid() == 0 and uid != "0":
        cmd = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups"] + cmd
    subprocess.run(cmd, check=True)


class Box:
    """A running boxmaild under test.

    config: {section: {key: value}} merged over the harness's base config
    (listen on a free port, all paths under a temp dir). users: mailbox names
    created with `boxmailctl user add NAME --password-stdin` before start;
    their passwords are "pw-NAME".
    """

    def __init__(self, config=None, users=("alice", "bob"), name="box"):
        self.dir = tempfile.mkdtemp(prefix=f"boxmail-{name}-")
        # boxmaild drops to MAIL_USER: its directory is that user's (the
        # passwd-file boxmailctl writes here takes the directory's group).
        hand_over(self.dir)
        os.chmod(self.dir, 0o750)
        # feed, POP3, submission (STARTTLS), submissions (465-style
        # implicit TLS), POP3S: five distinct free ports
        ports = []
        while len(ports) < 5:
            p = free_port()
            if p not in ports:
                ports.append(p)
        self.port, self.pop3_port, self.submission_port, self.submissions_port, self.pop3s_port = ports
        self.cert = os.path.join(self.dir, "tls", "cert.pem")
        self.key = os.path.join(self.dir, "tls", "key.pem")
        self.mail_dir = os.path.join(self.dir, "mail")
        self.spool_dir = os.path.join(self.dir, "spool")
        self.passwd = os.path.join(self.dir, "passwd")
        self.ini = os.path.join(self.dir, "boxmail.ini")
        self.log_path = os.path.join(self.dir, "boxmaild.log")
        self.proc = None
        self.config = {
            # Plaintext logins from loopback, as the POP3 tests log in
            # without STLS; the TLS tests set "" (the default: TLS first).
            "server": {"hostname": "mx.test.example", "passwd_file": self.passwd, "log": "stderr",
                       "control_socket": os.path.join(self.dir, "control.sock"),
                       "plaintext_login_networks": "127.0.0.0/8 ::1"},
            "smtp": {"listen": f"127.0.0.1:{self.port}",
                     "submission_listen": f"127.0.0.1:{self.submission_port}",
                     "submissions_listen": f"127.0.0.1:{self.submissions_port}"},
            "pop3": {"listen": f"127.0.0.1:{self.pop3_port}",
                     "pop3s_listen": f"127.0.0.1:{self.pop3s_port}"},
            "tls": {"certificate": self.cert, "key": self.key},
            "store": {"mail_dir": self.mail_dir, "spool_dir": self.spool_dir},
            # every path inside the box's directory, as the appliance's INI
            # names them all (an INI that leaves one out gets ./var/...)
            "relay": {"smarthost_credentials": os.path.join(self.dir, "relay", "smarthost-login")},
        }
        for section, keys in (config or {}).items():
            self.config.setdefault(section, {}).update(keys)
        # a test may put the store elsewhere (e.g. on a small file system)
        self.mail_dir = self.config["store"]["mail_dir"]
        self.spool_dir = self.config["store"]["spool_dir"]
        self.write_config()
        for u in users:
            self.ctl("user", "add", u, "--password-stdin", input=f"pw-{u}\n")

    # -- configuration -----------------------------------------------------
    def write_config(self, config=None):
        """Writes the INI file (self.config, or `config` merged over it)."""
        if config:
            for section, keys in config.items():
                self.config.setdefault(section, {}).update(keys)
        with open(self.ini, "w") as f:
            for section, keys in self.config.items():
                f.write(f"[{section}]\n")
                for k, v in keys.items():
                    f.write(f"{k} = {v}\n")
                f.write("\n")

    def ctl(self, *args, input=None, check=True):
        """Runs boxmailctl -c INI ARGS; returns the CompletedProcess."""
        p = subprocess.run([BOXMAILCTL, "-c", self.ini, *args], input=input,
                           capture_output=True, text=True, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"boxmailctl {args} failed ({p.returncode}): {p.stderr}")
        return p

    # -- process -----------------------------------------------------------
    def start(self, wait=True):
        """Starts boxmaild -c INI (stderr appended to log_path) and waits for the port."""
        if getattr(self, "_log", None) is not None:
            self._log.close()
        self._log = open(self.log_path, "ab")
        # What the test made as root since (mailboxes, planted messages, a
        # store on another file system) goes to the mail user first.
        hand_over(self.dir, self.mail_dir, self.spool_dir)
        self.proc = subprocess.Popen([BOXMAILD, "-c", self.ini], stdout=self._log,
                                     stderr=self._log, stdin=subprocess.DEVNULL)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"boxmaild exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.settimeout(5)
                    if s.recv(512).startswith(b"220"):
                        s.sendall(b"QUIT\r\n")
                        # Read to EOF: the probe session is over (and its
                        # connection slot free) before the test begins.
                        try:
                            while s.recv(512):
                                pass
                        except OSError:
                            pass
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("boxmaild did not greet in time:\n" + self.log())

    def signal(self, sig):
        self.proc.send_signal(sig)

    def kill(self):
        """SIGKILL, and reap."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self, timeout=30):
        """SIGTERM and wait; returns the exit code."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("boxmaild did not exit on SIGTERM")
        return self.proc.returncode if self.proc else None

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def cleanup(self):
        self.kill()
        if os.environ.get("BOXMAIL_KEEP") is None:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            sys.stderr.write("---- boxmaild log ----\n" + self.log()[-20000:] + "\n")
        self.cleanup()

    # -- mailboxes ---------------------------------------------------------
    def maildir(self, user):
        return os.path.join(self.mail_dir, user)

    def messages(self, user):
        """Paths of the files in USER's Maildir/new, sorted."""
        d = os.path.join(self.maildir(user), "new")
        if not os.path.isdir(d):
            return []
        return sorted(os.path.join(d, n) for n in os.listdir(d))

    def mailboxes(self):
        """Names of the Maildirs that exist under mail_dir, sorted."""
        if not os.path.isdir(self.mail_dir):
            return []
        return sorted(n for n in os.listdir(self.mail_dir)
                      if os.path.isdir(os.path.join(self.mail_dir, n)))

    def delivered(self):
        """{mailbox: [paths in new/ and cur/]} for every Maildir that holds any."""
        out = {}
        for box in self.mailboxes():
            files = []
            for sub in ("new", "cur"):
                d = os.path.join(self.mail_dir, box, sub)
                if os.path.isdir(d):
                    files += [os.path.join(d, n) for n in os.listdir(d)]
            if files:
                out[box] = sorted(files)
        return out

    def tmp_files(self):
        """Paths left in any Maildir's tmp/ (none once a delivery is done)."""
        out = []
        for box in self.mailboxes():
            d = os.path.join(self.mail_dir, box, "tmp")
            if os.path.isdir(d):
                out += [os.path.join(d, n) for n in os.listdir(d)]
        return sorted(out)

    def wait_messages(self, user, count, timeout=30.0):
        """Polls until USER's new/ holds at least COUNT files; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            msgs = self.messages(user)
            if len(msgs) >= count or time.monotonic() >= deadline:
                return msgs
            time.sleep(0.05)

    def wait_log(self, pattern, timeout=10.0, start=0):
        """Polls the log (from character offset START) for regex PATTERN
        (multi-line mode); returns the match, or raises AssertionError."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), start)
            if m:
                return m
            if time.monotonic() >= deadline:
                raise AssertionError(f"log has no /{pattern}/ after {timeout} s")
            time.sleep(0.05)

    def control(self, request):
        """Sends REQUEST to the control socket; returns the reply's lines
        (control_exchange)."""
        return control_exchange(self.config["server"]["control_socket"], request.encode())

    def dialogue(self, **kw):
        """A Dialogue connected to this box."""
        return Dialogue(self.port, **kw)

    def pop3_dialogue(self, **kw):
        """A Pop3Dialogue connected to this box's POP3 port."""
        return Pop3Dialogue(self.pop3_port, **kw)

    def deliver(self, rcpt, message, sender="sender@example.org"):
        """Delivers MESSAGE (bytes, LF or CRLF line ends) to RCPT over SMTP,
        sent raw (CRLF, dot-stuffed); returns the queue id. Asserts 250."""
        d = self.dialogue()
        try:
            d.hello()
            code, lines = d.transaction(sender, [rcpt], to_crlf_dotstuffed(message))
            if code != 250:
                raise AssertionError(f"delivery to {rcpt} refused: {code} {lines}")
            d.send("QUIT")
            d.expect(221)
            return lines[-1].split()[-1]
        finally:
            d.close()

    def ehlo_lines(self):
        """Connects, EHLOs, QUITs; returns the EHLO reply's text lines."""
        d = self.dialogue()
        try:
            d.expect(220)
            d.send("EHLO client.example")
            lines = d.expect(250)
            d.send("QUIT")
            d.expect(221)
            return lines
        finally:
            d.close()


def split_stored(data):
    """Splits a delivered file into (added_headers, original_message_bytes).

    boxmaild prepends exactly "Return-Path: <...>\\n" and one Received: header
    (with its folded continuation lines) to the message as received (line
    ends stored as LF).
    """
    assert data.startswith(b"Return-Path: "), data[:80]
    i = data.index(b"\n") + 1
    assert data[i:].startswith(b"Received: "), data[i:i + 80]
    j = data.index(b"\n", i) + 1
    while j < len(data) and data[j:j + 1] in (b" ", b"\t"):
        j = data.index(b"\n", j) + 1
    return data[:j], data[j:]


class LineClient:
    """A raw TCP client on 127.0.0.1 for line protocols (CRLF), the common
    part of Dialogue (SMTP) and Pop3Dialogue."""

    def __init__(self, port, timeout=10, source=None):
        """SOURCE: local address to bind (e.g. "127.0.0.2"), default any."""
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data, raw=False):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data if raw else data + b"\r\n")

    def raw_line(self):
        """One CRLF-ended line, without its CRLF, as bytes."""
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; pending {self.buf!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def closed(self, timeout=5):
        """True when the server closed the connection (EOF) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class Dialogue(LineClient):
    """A raw SMTP client socket with exact-reply assertions.

    d = Dialogue(port); d.expect(220); d.send("EHLO x"); d.expect(250) ...
    send() appends CRLF unless raw=True. expect() reads one whole reply
    (multi-line aware) and checks its code (and enhanced code / text regex).
    """

    def _line(self):
        return self.raw_line().decode("utf-8", "replace")

    def reply(self):
        """Reads one reply; returns (code, [text lines])."""
        lines = []
        while True:
            line = self._line()
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), [l[4:] for l in lines]

    def expect(self, code, enhanced=None, text=None):
        got, lines = self.reply()
        if got != code:
            raise AssertionError(f"expected {code}, got {got} {lines}")
        if enhanced is not None and not lines[-1].startswith(enhanced + " "):
            raise AssertionError(f"expected enhanced code {enhanced}, got {lines}")
        if text is not None and not re.search(text, "\n".join(lines)):
            raise AssertionError(f"expected text /{text}/, got {lines}")
        return lines

    def hello(self, name="client.example"):
        """Reads the 220 greeting and sends EHLO NAME; returns the EHLO lines."""
        self.expect(220)
        self.send("EHLO " + name)
        return self.expect(250)

    def transaction(self, sender, rcpts, payload, params=""):
        """One whole mail transaction whose every step must succeed up to the
        end of data: MAIL FROM:<SENDER>[ PARAMS] -> 250, each RCPT TO:<r> ->
        250, DATA -> 354, then PAYLOAD (bytes already CRLF/dot-stuffed and
        ending in CRLF.CRLF; see to_crlf_dotstuffed). Returns the final reply
        as (code, lines), unchecked."""
        self.send(f"MAIL FROM:<{sender}>" + (" " + params if params else ""))
        self.expect(250, "2.1.0")
        for r in rcpts:
            self.send(f"RCPT TO:<{r}>")
            self.expect(250, "2.1.5")
        self.send("DATA")
        self.expect(354)
        self.send(payload, raw=True)
        return self.reply()




class Pop3Dialogue(LineClient):
    """A raw POP3 client socket with exact-reply assertions.

    d = Pop3Dialogue(port); d.expect("+OK"); d.send("USER alice"); ...
    send() appends CRLF unless raw=True. line() reads one CRLF-ended line
    (bytes kept exact, returned as str). expect(prefix) reads a status line
    and checks that it starts with PREFIX (e.g. "+OK", "-ERR [IN-USE]") or,
    with exact=True, equals it. multiline() reads up to the "." line and
    returns the raw bytes in between (still byte-stuffed, CRLF kept).
    """

    def line(self):
        return self.raw_line().decode("utf-8", "replace")

    def expect(self, prefix, exact=False):
        got = self.line()
        if (got != prefix) if exact else not got.startswith(prefix):
            raise AssertionError(f"expected {'exactly ' if exact else ''}{prefix!r}, got {got!r}")
        return got

    def multiline(self):
        """The body of a multi-line response, up to (not incl.) CRLF.CRLF, as bytes."""
        while True:
            if self.buf.startswith(b".\r\n"):
                self.buf = self.buf[3:]
                return b""
            i = self.buf.find(b"\r\n.\r\n")
            if i >= 0:
                body, self.buf = self.buf[:i + 2], self.buf[i + 5:]
                return body
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise EOFError(f"connection closed in a multi-line response; pending {self.buf[-200:]!r}")
            self.buf += chunk

    def login(self, user, password):
        self.expect("+OK")
        self.send("USER " + user)
        self.expect("+OK")
        self.send("PASS " + password)
        return self.expect("+OK Logged in")


def unstuff(body):
    """Removes POP3 byte-stuffing from a multi-line body (CRLF kept)."""
    return b"\r\n".join(l[1:] if l.startswith(b".") else l for l in body.split(b"\r\n"))


def to_crlf_dotstuffed(message):
    """LF-ended message bytes -> DATA payload: LF -> CRLF (bare CR kept as is),
    lines starting with '.' get another '.', ending with CRLF.CRLF."""
    lines = message.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for line in lines:
        if line.startswith(b"."):
            line = b"." + line
        out.append(line)
    return b"\r\n".join(out) + b"\r\n.\r\n"


def qid_of(lines):
    """The queue id in a "250 2.0.0 Ok: queued as QID" reply's text lines."""
    m = re.search(r"\bas (\S+)\s*$", lines[-1])
    if not m:
        raise AssertionError(f"no queue id in {lines}")
    return m.group(1)


def maildir_sizes(path):
    """Checks a delivered file's name against its content: the name ends in
    ",S=<size>,W=<size with CRLF line ends>" (S the file's size in octets, W
    the size counting each LF as CRLF). Returns (S, W)."""
    m = re.search(r",S=(\d+),W=(\d+)$", os.path.basename(path))
    if not m:
        raise AssertionError(f"no ,S=..,W=.. in file name {path}")
    with open(path, "rb") as f:
        data = f.read()
    s_size, w_size = int(m.group(1)), int(m.group(2))
    if s_size != len(data):
        raise AssertionError(f"{path}: S={s_size} but the file has {len(data)} octets")
    crlf_size = len(data) + data.count(b"\n")
    if w_size != crlf_size:
        raise AssertionError(f"{path}: W={w_size} but the CRLF size is {crlf_size}")
    return s_size, w_size


def read(path):
    with open(path, "rb") as f:
        return f.read()


def poll(cond, timeout=10.0, what="condition"):
    """Calls COND until it returns a true value (returned) or TIMEOUT passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def run(main):
    """Runs a test's main(), printing PASS/FAIL; exit status for ctest."""
    try:
        main()
    except Exception:
        import traceback
        traceback.print_exc()
        print("FAIL")
        sys.exit(1)
    print("PASS")
