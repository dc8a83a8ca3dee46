#!/usr/bin/python3
"""tls_bench - `make bench`: TLS handshakes and idle TLS sessions, boxmaild
against Postfix smtpd (STARTTLS) and Dovecot (POP3S), same machine, same run.

Dovecot runs twice: with its default login processes (one pop3-login
process per connection, "high-security mode") and in its documented
"high-performance mode" (service_count = 0: a few login processes serve
every connection).

What it measures (see docs/benchmarks.md, "TLS"):
  * handshakes: C client processes each loop over connect, (greeting, EHLO,
    STARTTLS for SMTP), TLS handshake, (EHLO for SMTP, the greeting for
    POP3S), QUIT, close. Primary figure: the server's CPU time (utime +
    stime from /proc, summed over every process of the server: boxmaild's
    one process; Postfix's master and all its descendants, reaped ones
    included; Dovecot's likewise) per completed connection, over a measured
    window after a warm-up. Secondary: connections per second of wall
    clock (the client shares the 2 CPUs). Runs are interleaved (A B A B,
    A B C A B C) and reported as ratios boxmaild / other.
  * idle TLS sessions: N sessions that completed the handshake (SMTP: and
    EHLO after it; POP3S: the greeting read) held open, and the growth of
    the server's total PSS (/proc/PID/smaps_rollup, all its processes) from
    just before to a moment after they were opened, divided by N. Each
    server is freshly started for it. boxmaild's plain sessions (SMTP
    after EHLO, POP3 after the greeting) are measured the same way, to
    show what TLS adds.
  * what each server negotiates (openssl s_client, verified against the
    one certificate all servers share): with the bench's forced client
    offer and with s_client's unconstrained default.

One ECDSA P-256 self-signed certificate (python3-cryptography) is given to
all three servers. The bench client offers only TLS 1.2 and only
ECDHE-ECDSA-AES128-GCM-SHA256 (with OpenSSL's default groups, of which
every server picks X25519), does not ask for session tickets and never
resumes, and does not verify the certificate
(s_client does, once per server), so each connection is one full
handshake of the same kind on every server.

Everything runs in a private network namespace (the script re-executes
itself under `unshare -n`); Postfix and Dovecot are private instances
under a temporary directory, never the system's. dovecot-pop3d is
installed when missing (as pop3_bench.py does).

Results: a table on stdout and BUILD/bench/tls.json.
Usage: tls_bench.py --build DIR [--bin DIR] [--seconds S] [--clients C]
                    [--sessions N] [--rounds R] [--churn CYCLES] [--keep]
"""
import argparse
import datetime
import functools
import hashlib
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))

import boxtest  # noqa: E402
import feed_bench  # noqa: E402
import tlstest  # noqa: E402
from feed_bench import cpu_busy, proc_cpu, progress, pss_sum  # noqa: E402
from pop3_bench import DOVECOT, comm, cpu_ticks, descendants, dovecot_version, ensure_dovecot, rss_kib  # noqa: E402
from postfix_instance import PostfixInstance  # noqa: E402

NETNS_ENV = "BOXMAIL_BENCH_NETNS"
CERT_NAME = "tls.bench.example"
# The bench client's one offer (like with like on every server).
CLIENT_CIPHER = "ECDHE-ECDSA-AES128-GCM-SHA256"
# The groups are OpenSSL's default client list (X25519 first, then P-256...):
# Python 3.11 can set only one group, and offering only X25519 makes
# OpenSSL servers refuse the P-256 certificate in TLS 1.2 ("no shared
# cipher": RFC 4492 5.1, the client's curve list covers the certificate's
# key too). Every server picks X25519 from it (checked with s_client).
# boxmaild's TLS 1.2 suites in its order (docs/tls.md, "Cipher suites and
# groups"), in OpenSSL's names: Postfix and Dovecot get the same list,
# the same groups, and server preference.
SERVER_CIPHERS = ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:"
                  "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256")
SERVER_GROUPS = ["X25519", "prime256v1", "secp384r1"]
T_START = time.monotonic()


def reexec_in_netns():
    if os.environ.get(NETNS_ENV) == "1":
        return
    env = dict(os.environ, **{NETNS_ENV: "1"})
    cmd = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "tls-bench", sys.executable,
           os.path.abspath(__file__), *sys.argv[1:]]
    os.execvpe("unshare", cmd, env)


# -- /proc ---------------------------------------------------------------------
def rss_sum(pids):
    return sum(rss_kib(p) for p in pids)


def cpu_of(pids):
    """utime+stime (s) summed over live pids (0 for one that is gone)."""
    total = 0.0
    for p in pids:
        try:
            total += sum(proc_cpu(p))
        except OSError:
            pass
    return total


def process_table(pids):
    """{command name: [count, PSS KiB summed]} over pids."""
    out = {}
    for p in pids:
        row = out.setdefault(comm(p), [0, 0])
        row[0] += 1
        row[1] += pss_sum([p])
    return out


# -- certificate -----------------------------------------------------------------
def make_certificate(directory):
    """One ECDSA P-256 key and self-signed certificate for CERT_NAME, written
    as DIRECTORY/cert.pem and key.pem; returns (cert path, key path)."""
    os.makedirs(directory, exist_ok=True)
    key = tlstest.new_key("ec")
    # a year: boxmaild replaces a self-signed certificate that ends within
    # 30 days by its own at start (docs/tls.md, "Renewal")
    cert = tlstest.make_cert(CERT_NAME, key, days_to=365)
    cert_path, key_path = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as f:
        f.write(tlstest.pem_cert(cert))
    with open(os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(tlstest.pem_key(key))
    return cert_path, key_path, tlstest.fingerprint(cert)


def copy_certificate(cert, key, directory):
    """A copy of the certificate and key in DIRECTORY (each server reads its own)."""
    os.makedirs(directory, exist_ok=True)
    out = []
    for src in (cert, key):
        dst = os.path.join(directory, os.path.basename(src))
        shutil.copyfile(src, dst)
        os.chmod(dst, 0o600 if src == key else 0o644)
        out.append(dst)
    return out


# -- servers ---------------------------------------------------------------------
class Boxmaild(feed_bench.Boxmaild):
    """boxmaild with STARTTLS on [smtp] listen, plain POP3 and POP3S; the
    bench's certificate. start/stop/alive/log_tail are the feed bench's."""

    def __init__(self, bindir, base, cert, key, sessions):  # pylint: disable=super-init-not-called
        self.build, self.base = bindir, base
        self.smtp_port, self.pop3s_port, self.pop3_port = (boxtest.free_port(), boxtest.free_port(),
                                                           boxtest.free_port())
        self.port = self.smtp_port   # the greeting the feed bench's start() waits for
        self.ini = os.path.join(base, "boxmail.ini")
        self.log_path = os.path.join(base, "boxmaild.log")
        self.proc = None
        os.makedirs(base, exist_ok=True)
        tls_dir = os.path.join(base, "tls")
        self.cert, self.key = copy_certificate(cert, key, tls_dir)
        os.chmod(tls_dir, 0o700)
        limit = max(1000, sessions + 100)
        with open(self.ini, "w") as f:
            f.write(f"""[server]
hostname = boxmaild.bench.example
passwd_file = {base}/passwd
log = stderr

[smtp]
listen = 127.0.0.1:{self.smtp_port}
submission_listen =
submissions_listen =
accept_domains = bench.example
max_connections = {limit}
max_connections_per_ip = {limit}

[pop3]
listen = 127.0.0.1:{self.pop3_port}
pop3s_listen = 127.0.0.1:{self.pop3s_port}
max_connections = {limit}
max_connections_per_ip = {limit}

[tls]
certificate = {self.cert}
key = {self.key}

[store]
mail_dir = {base}/mail
spool_dir = {base}/spool
""")
        p = subprocess.run([os.path.join(bindir, "boxmailctl"), "-c", self.ini, "user", "add", "bench",
                            "--password-stdin"], input="bench-password\n", capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"boxmailctl user add failed ({p.returncode}): {p.stderr}")

    def pids(self):
        return [self.proc.pid] if self.alive() else []

    def cpu_seconds(self):
        return cpu_of(self.pids())

    def restart(self):
        self.stop()
        return self.start()


def postfix_tls_main_cf(cert, key):
    """What the bench adds to the private Postfix's main.cf (docs/benchmarks.md, "TLS")."""
    return f"""
# tls_bench: STARTTLS with the bench's certificate, TLS 1.2 and later,
# boxmaild's suites and groups in boxmaild's order, no session cache and no
# tickets (boxmaild has neither)
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_security_level = may
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_ciphers = high
smtpd_tls_mandatory_ciphers = high
tls_high_cipherlist = {SERVER_CIPHERS}
tls_preempt_cipherlist = yes
tls_eecdh_auto_curves = {' '.join(SERVER_GROUPS)}
smtpd_tls_session_cache_database =
smtpd_tls_session_cache_timeout = 0
smtpd_tls_loglevel = 0
# one client address holds every session
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
"""


POSTFIX_TLSMGR = "tlsmgr    unix  -       -       n       1000?   1       tlsmgr\n"


class Dovecot:
    """A private Dovecot: POP3S only on 127.0.0.1:PORT, the bench's certificate.

    mode "security": Dovecot's default login processes (service_count = 1:
    a new pop3-login process per connection, "high-security mode");
    "performance": service_count = 0 and process_min_avail = the number of
    CPUs, login processes that serve many connections each (Dovecot's
    documented "high-performance mode")."""

    def __init__(self, base, cert, key, sessions, mode="security"):
        self.base = base
        self.mode = mode
        self.port = boxtest.free_port()
        self.proc = None
        os.makedirs(os.path.join(base, "run"), exist_ok=True)
        os.makedirs(os.path.join(base, "home"), exist_ok=True)
        os.makedirs(os.path.join(base, "Maildir", "new"), exist_ok=True)
        self.cert, self.key = copy_certificate(cert, key, os.path.join(base, "tls"))
        with open(os.path.join(base, "passwd"), "w") as f:
            f.write("bench:{PLAIN}bench-password::::::\n")
        self.conf = os.path.join(base, "dovecot.conf")
        limit = sessions + 100
        login_mode = (f"  service_count = 0\n  process_min_avail = {os.cpu_count()}\n"
                      if mode == "performance" else "")
        with open(self.conf, "w") as f:
            f.write(f"""protocols = pop3
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{self.key}
ssl_min_protocol = TLSv1.2
ssl_cipher_list = {SERVER_CIPHERS}
ssl_curve_list = {':'.join(SERVER_GROUPS)}
ssl_prefer_server_ciphers = yes
auth_mechanisms = plain
mail_location = maildir:{base}/Maildir
default_process_limit = {limit}
passdb {{
  driver = passwd-file
  args = {base}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={base}/home
}}
service pop3-login {{
  process_limit = {limit}
{login_mode}  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")

    def start(self):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                pop3_exchange(self.port, client_context())
                return self
            except CLIENT_ERRORS as e:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(f"Dovecot does not answer POP3S on {self.port}: {e}\n{self.log_tail()}")
                time.sleep(0.1)

    def pids(self):
        return descendants(self.proc.pid) if self.proc and self.proc.poll() is None else []

    def cpu_seconds(self):
        """The whole tree's CPU, reaped login processes included."""
        return cpu_ticks(self.proc.pid) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            left = self.pids()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and any(os.path.exists(f"/proc/{p}") for p in left[1:]):
                time.sleep(0.1)
            for p in left[1:]:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def restart(self):
        self.stop()
        return self.start()

    def log_tail(self, n=20):
        try:
            with open(os.path.join(self.base, "dovecot.log"), errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""


class PostfixTls(PostfixInstance):
    def __init__(self, base, cert, key, sessions):
        os.makedirs(base, exist_ok=True)
        tls_dir = os.path.join(base, "tls")
        self.cert, self.key = copy_certificate(cert, key, tls_dir)
        super().__init__(base, boxtest.free_port(), process_limit=sessions + 100,
                         extra_main_cf=postfix_tls_main_cf(self.cert, self.key), extra_master_cf=POSTFIX_TLSMGR)
        self.setup()

    def restart(self):
        self.stop()
        return self.start()


# -- the client ------------------------------------------------------------------
def client_context():
    """TLS 1.2 only, one suite, OpenSSL's default groups, no tickets, no verification (the
    certificate is checked once per server with s_client)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(CLIENT_CIPHER)
    ctx.options |= ssl.OP_NO_TICKET
    return ctx


def smtp_exchange(port, ctx, hold=False, tls=True):
    """connect, 220, EHLO, STARTTLS, handshake, EHLO, QUIT; without tls
    only the first EHLO. With hold, the Dialogue is returned open after the
    last EHLO."""
    d = boxtest.Dialogue(port, timeout=30)
    try:
        lines = d.hello("client.bench.example")
        if tls:
            if not any(l.upper().startswith("STARTTLS") for l in lines):
                raise AssertionError("STARTTLS not offered")
            d.send("STARTTLS")
            d.expect(220)
            if d.buf:
                raise AssertionError(f"octets after the 220 to STARTTLS: {d.buf!r}")
            d.sock = ctx.wrap_socket(d.sock)
            d.send("EHLO client.bench.example")
            d.expect(250)
        if hold:
            return d
        d.send("QUIT")
        d.expect(221)
    except BaseException:
        d.close()
        raise
    d.close()
    return None


def pop3_exchange(port, ctx, hold=False, tls=True):
    """connect, handshake (POP3S), +OK greeting, QUIT. With hold, the
    Pop3Dialogue is returned open after the greeting."""
    d = boxtest.Pop3Dialogue(port, timeout=30)
    try:
        if tls:
            d.sock = ctx.wrap_socket(d.sock)
        d.expect("+OK")
        if hold:
            return d
        d.send("QUIT")
        d.expect("+OK")
    except BaseException:
        d.close()
        raise
    d.close()
    return None


EXCHANGES = {"smtp": smtp_exchange, "pop3s": pop3_exchange,
             "smtp-plain": functools.partial(smtp_exchange, tls=False),
             "pop3-plain": functools.partial(pop3_exchange, tls=False)}
CLIENT_ERRORS = (OSError, AssertionError, EOFError, ssl.SSLError)


def client_worker(kind, port, stop_at, conn):
    """One client process: exchanges back to back until stop_at (monotonic);
    sends back [(end time, seconds)] of the good ones and the errors."""
    ctx = client_context()
    exchange = EXCHANGES[kind]
    done, errors = [], []
    while True:
        t0 = time.monotonic()
        if t0 >= stop_at:
            break
        try:
            exchange(port, ctx)
            t1 = time.monotonic()
            done.append((t1, t1 - t0))
        except CLIENT_ERRORS as e:
            errors.append(f"{type(e).__name__}: {e}")
            time.sleep(0.01)
    conn.send((done, errors[:20], len(errors)))
    conn.close()


def handshake_run(kind, port, server, clients, warmup, seconds):
    """One run: C client processes for warmup + seconds; the server's and the
    clients' CPU read at the start and the end of the measured window, the
    connections that ended inside it counted."""
    start = time.monotonic()
    w_start, w_end = start + warmup, start + warmup + seconds
    procs, pipes = [], []
    for _ in range(clients):
        a, b = multiprocessing.Pipe(duplex=False)
        # the clients go on a little past the window, so that they are
        # still there when their CPU is read at its end
        p = multiprocessing.Process(target=client_worker, args=(kind, port, w_end + 0.3, b))
        p.start()
        procs.append(p)
        pipes.append(a)
    client_pids = [p.pid for p in procs]
    time.sleep(max(0.0, w_start - time.monotonic()))
    s0, c0, m0 = server.cpu_seconds(), cpu_of(client_pids), machine_ticks()
    t0 = time.monotonic()
    time.sleep(max(0.0, w_end - time.monotonic()))
    s1, c1, m1 = server.cpu_seconds(), cpu_of(client_pids), machine_ticks()
    t1 = time.monotonic()
    done, errors, n_errors = [], [], 0
    for a, p in zip(pipes, procs):
        d, e, n = a.recv()
        p.join()
        done += d
        errors += e
        n_errors += n
    inside = sorted(secs for end, secs in done if t0 <= end <= t1)
    n = len(inside)
    busy_s = (m1[0] - m0[0]) / os.sysconf("SC_CLK_TCK")
    return {"connections": n, "window_seconds": t1 - t0, "per_second": n / (t1 - t0),
            "server_cpu_seconds": s1 - s0, "server_cpu_ms_per_conn": (s1 - s0) * 1000 / n if n else None,
            "client_cpu_ms_per_conn": (c1 - c0) * 1000 / n if n else None,
            "machine_busy_cpu_seconds": busy_s,
            "other_cpu_seconds": busy_s - (s1 - s0) - (c1 - c0),
            # the share of all CPUs that neither the server nor the client used
            # (other work on the machine: it inflates CPU time per operation too)
            "other_cpu_share": max(0.0, busy_s - (s1 - s0) - (c1 - c0)) / ((t1 - t0) * os.cpu_count()),
            "conn_ms_p50": inside[n // 2] * 1000 if n else None,
            "conn_ms_p99": inside[min(n - 1, n * 99 // 100)] * 1000 if n else None,
            "errors": n_errors, "error_samples": errors[:5]}


def machine_ticks():
    """(busy, total) clock ticks of all CPUs from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - v[4], sum(v)


# -- idle sessions ------------------------------------------------------------------
def idle_sessions(kind, port, server_pids, n, warmup=10):
    """Warm-up exchanges, then the server's PSS/RSS before and after N held
    sessions; KiB per session from the PSS growth."""
    ctx = client_context()
    exchange = EXCHANGES[kind]
    for _ in range(warmup):
        exchange(port, ctx, hold=False)
    time.sleep(1.0)
    before_pids = server_pids()
    pss0, rss0, table0 = pss_sum(before_pids), rss_sum(before_pids), process_table(before_pids)
    held, error = [], None
    t0 = time.monotonic()
    try:
        for _ in range(n):
            held.append(exchange(port, ctx, hold=True))
    except CLIENT_ERRORS as e:
        error = f"after {len(held)} sessions: {type(e).__name__}: {e}"
    open_s = time.monotonic() - t0
    time.sleep(2.0)
    # every held session still answers (nothing was closed behind our back)
    alive = sum(1 for d in held if still_open(d.sock))
    pids = server_pids()
    pss1, rss1, table1 = pss_sum(pids), rss_sum(pids), process_table(pids)
    for d in held:
        d.close()
    time.sleep(1.0)
    after_close = pss_sum(server_pids())
    k = len(held)
    return {"sessions": k, "alive_after_2s": alive, "open_seconds": open_s,
            "pss_before_kib": pss0, "pss_held_kib": pss1, "pss_after_close_kib": after_close,
            "rss_before_kib": rss0, "rss_held_kib": rss1,
            "kib_per_session_pss": (pss1 - pss0) / k if k else None,
            "kib_per_session_rss": (rss1 - rss0) / k if k else None,
            "processes_before": table0, "processes_held": table1, "error": error}


def churn(kind, port, box, sessions, cycles):
    """boxmaild's RSS with SESSIONS sessions held, over CYCLES rounds of
    opening them all and closing them all (the same number alive each
    time): [(RSS held, RSS after closing)] in KiB. A footprint that grows
    from round to round is memory that closed sessions leave behind in a
    form the next ones cannot reuse."""
    ctx = client_context()
    exchange = EXCHANGES[kind]
    rows = []
    for _ in range(cycles):
        held = [exchange(port, ctx, hold=True) for _ in range(sessions)]
        time.sleep(0.3)
        h = rss_sum(box.pids())
        for d in held:
            d.close()
        time.sleep(0.5)
        rows.append((h, rss_sum(box.pids())))
    return rows


def still_open(sock):
    """True if the peer has not closed the connection (no EOF/RST pending)."""
    try:
        sock.setblocking(False)
        try:
            data = sock.recv(1)
            return bool(data)
        except (ssl.SSLWantReadError, BlockingIOError):
            return True
        finally:
            sock.setblocking(True)
    except (OSError, ssl.SSLError):
        return False


# -- what is negotiated ---------------------------------------------------------------
def negotiated(port, starttls, cafile, forced):
    """openssl s_client against the server: protocol, cipher, key exchange
    group, certificate fingerprint and verification (against the bench's
    certificate and name)."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", cafile,
           "-verify_hostname", CERT_NAME, "-verify_return_error", "-showcerts"]
    if starttls:
        cmd += ["-starttls", starttls]
    if forced:
        cmd += ["-tls1_2", "-cipher", CLIENT_CIPHER, "-no_ticket"]   # the bench client's offer
    p = subprocess.run(cmd, input=b"", capture_output=True, timeout=30)
    out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")

    def grab(rx):
        m = re.search(rx, out, re.M)
        return m.group(1).strip() if m else None
    fp = None
    m = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", out, re.S)
    if m:
        der = ssl.PEM_cert_to_DER_cert(m.group(0))
        fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    r = {"protocol": grab(r"^New, (\S+), Cipher is"),
         "cipher": grab(r"^New, \S+, Cipher is (\S+)"),
         "group": grab(r"^Server Temp Key: ([^\n]+)"),
         "signature": grab(r"^Peer signature type: (\S+)"),
         "verify": grab(r"^\s*Verify return code: ([^\n]+)"),
         "ticket": "TLS session ticket lifetime hint" in out,
         "fingerprint": fp, "rc": p.returncode}
    if p.returncode != 0 or r["cipher"] in (None, "(NONE)"):
        r["output"] = out[-1500:]
    return r


def bench_client_negotiates(kind, port):
    """Protocol and suite the bench's own client gets."""
    d = EXCHANGES[kind](port, client_context(), hold=True)
    try:
        return {"protocol": d.sock.version(), "cipher": d.sock.cipher()[0]}
    finally:
        d.close()


# -- report ------------------------------------------------------------------------------
def fmt(v, spec=".2f"):
    return "-" if v is None else format(v, spec)


def mean(xs):
    xs = [x for x in xs if x is not None]
    return sum(xs) / len(xs) if xs else None


def summarize(runs):
    return {"server_cpu_ms_per_conn": mean([r["server_cpu_ms_per_conn"] for r in runs]),
            "per_second": mean([r["per_second"] for r in runs]),
            "client_cpu_ms_per_conn": mean([r["client_cpu_ms_per_conn"] for r in runs]),
            "conn_ms_p50": mean([r["conn_ms_p50"] for r in runs]),
            "connections": sum(r["connections"] for r in runs),
            "errors": sum(r["errors"] for r in runs)}


def ratio(a, b):
    return a / b if a is not None and b else None


def print_report(res):
    print()
    print("What each server negotiates (openssl s_client, verified against the bench's certificate;"
          " forced = the bench client's offer)")
    for name, n in res["negotiated"].items():
        for how in ("forced", "default"):
            r = n[how]
            ticket = ("ticket" if r["ticket"] else "no ticket") if how == "forced" else ""
            print(f"  {name:<30} {how:<8} {r['protocol'] or '-':<8} {r['cipher'] or '-':<30} "
                  f"{r['group'] or '-':<17} {ticket:<10} "
                  f"verify: {r['verify'] or '-'}; same cert: {r['fingerprint'] == res['fingerprint']}")
        c = n.get("bench_client") or {}
        print(f"  {name:<30} {'client':<8} {c.get('protocol') or '-':<8} {c.get('cipher') or '-':<30} "
              "(the bench's own client)")
    print()
    print(f"Handshakes ({res['clients']} client processes, {res['seconds']} s measured per run, "
          f"runs interleaved, mean of {res['rounds']} runs each)")
    print(f"{'comparison':<15}{'server':<22}{'srv CPU ms/conn':>16}{'conn/s':>8}{'client ms/conn':>15}"
          f"{'p50 ms':>8}{'errors':>7}   runs: ms CPU/conn per s (other load)")
    for name, c in res["handshakes"].items():
        for who in c["servers"]:
            s = c[who]["summary"]
            per_run = ", ".join(f"{fmt(r['server_cpu_ms_per_conn'], '.2f')}/{fmt(r['per_second'], '.0f')}"
                                f" ({fmt(r['other_cpu_share'] * 100, '.0f')}%)" for r in c[who]["runs"])
            print(f"{name:<15}{who:<22}{fmt(s['server_cpu_ms_per_conn'], '.3f'):>16}{fmt(s['per_second'], '.0f'):>8}"
                  f"{fmt(s['client_cpu_ms_per_conn'], '.3f'):>15}{fmt(s['conn_ms_p50'], '.1f'):>8}{s['errors']:>7}"
                  f"   {per_run}")
        for who, r in c["ratios"].items():
            print(f"{'':<15}boxmaild / {who}: server CPU per connection {fmt(r['cpu'])}x, "
                  f"connections per second {fmt(r['rate'])}x")
    print()
    print(f"Idle TLS sessions ({res['sessions']} held; PSS summed over the server's processes, KiB)")
    print(f"{'comparison':<15}{'server':<22}{'before':>8}{'held':>9}{'closed':>9}{'KiB/session':>12}"
          f"{'RSS KiB/s.':>11}{'alive':>6}")
    for name, c in res["idle"].items():
        for who in c["servers"]:
            r = c[who]
            print(f"{name:<15}{who:<22}{r['pss_before_kib']:>8}{r['pss_held_kib']:>9}{r['pss_after_close_kib']:>9}"
                  f"{fmt(r['kib_per_session_pss'], '.1f'):>12}{fmt(r['kib_per_session_rss'], '.1f'):>11}"
                  f"{r['alive_after_2s']:>6}")
            if r.get("error"):
                print(f"{'':<15}  error: {r['error']}")
        for who, v in c["ratios"].items():
            print(f"{'':<15}{who} / boxmaild per session: {fmt(v, '.1f')}x")
        for who in c["servers"]:
            t = c[who]["processes_held"]
            print(f"{'':<15}  {who}, held: " +
                  ", ".join(f"{k} x{v[0]} {v[1]} KiB" for k, v in sorted(t.items(), key=lambda kv: -kv[1][1])))
    for name, c in (res.get("churn") or {}).items():
        rows = c["cycles"]
        print(f"\nboxmaild {name}, {len(rows)} rounds of {c['sessions']} sessions opened, held, closed "
              f"(RSS KiB, fresh {c['fresh_rss_kib']}): held " + " ".join(str(h) for h, _ in rows) +
              "; after closing " + " ".join(str(a) for _, a in rows))
        print(f"  per held session: first round {(rows[0][0] - c['fresh_rss_kib']) / c['sessions']:.1f} KiB, "
              f"last {(rows[-1][0] - c['fresh_rss_kib']) / c['sessions']:.1f} KiB")
    b = res.get("boxmaild_rss_kib", {})
    if b:
        print()
        print("boxmaild RSS (KiB): " + ", ".join(f"{k} {v}" for k, v in b.items()))
    print(f"\nCPU busy before the bench: {res['host']['cpu_busy_before']:.0%}; load average "
          f"{' '.join(f'{x:.1f}' for x in res['host']['loadavg_start'])} -> "
          f"{' '.join(f'{x:.1f}' for x in res['host'].get('loadavg_end', ()))}")


# -- main ------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build", help="build directory (results go to BUILD/bench/tls.json)")
    ap.add_argument("--bin", help="directory of the boxmaild/boxmailctl to bench (default: --build); "
                    "`make bench` passes the static MinSizeRel appliance build")
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per handshake run (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds before each run (default 1)")
    ap.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    ap.add_argument("--rounds", type=int, default=2, help="rounds per comparison (default 2: A B A B)")
    ap.add_argument("--sessions", type=int, default=200, help="idle TLS sessions held (default 200)")
    ap.add_argument("--churn", type=int, default=0, metavar="CYCLES",
                    help="also open and close --sessions boxmaild sessions CYCLES times and report its RSS "
                    "with them held each time (default 0: not done)")
    ap.add_argument("--keep", action="store_true", help="keep the data dirs")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    bindir = os.path.abspath(args.bin) if args.bin else build
    for b in ("boxmaild", "boxmailctl"):
        if not os.access(os.path.join(bindir, b), os.X_OK):
            sys.exit(f"tls_bench: {os.path.join(bindir, b)} missing: run `make` (and `make static`) first")
    if os.environ.get(NETNS_ENV) != "1":
        if os.geteuid() != 0:
            sys.exit("tls_bench: needs root (unshare -n, private Postfix and Dovecot instances)")
        ensure_dovecot()
        reexec_in_netns()

    results_dir = os.path.join(build, "bench")
    os.makedirs(results_dir, exist_ok=True)
    work = tempfile.mkdtemp(prefix="boxmail-tls-bench-")
    os.chmod(work, 0o755)   # Postfix's and Dovecot's unprivileged processes traverse it
    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "command": " ".join([os.path.relpath(os.path.abspath(sys.argv[0]))] + sys.argv[1:]),
           "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "kernel": platform.release(),
                    "loadavg_start": os.getloadavg()},
           "boxmaild": os.path.join(bindir, "boxmaild"),
           "postfix": subprocess.run(["/usr/sbin/postconf", "-d", "-h", "mail_version"], capture_output=True,
                                     text=True).stdout.strip(),
           "dovecot": dovecot_version(), "openssl": ssl.OPENSSL_VERSION,
           "client": f"python3 ssl, TLS 1.2, {CLIENT_CIPHER}, OpenSSL's default groups, no tickets, no verification",
           "clients": args.clients, "seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds,
           "sessions": args.sessions, "order": [], "negotiated": {}, "handshakes": {}, "idle": {},
           "boxmaild_rss_kib": {}}
    busy = cpu_busy(1.0)
    res["host"]["cpu_busy_before"] = round(busy, 3)
    progress(f"work dir {work}; CPUs {busy:.0%} busy before the bench")
    if busy > 0.15:
        progress("warning: the machine is busy; other load shares the CPUs with the servers and the client")
    servers = []

    def on_term(*_):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGTERM, on_term)
    try:
        cert, key, fp = make_certificate(os.path.join(work, "cert"))
        res["fingerprint"] = fp
        progress(f"certificate: ECDSA P-256, CN {CERT_NAME}, SHA-256 {fp[:23]}...")
        box = Boxmaild(bindir, os.path.join(work, "boxmaild"), cert, key, args.sessions)
        servers.append(box)
        box.start()
        pf = PostfixTls(os.path.join(work, "postfix"), cert, key, args.sessions)
        servers.append(pf)
        pf.start()
        dc = Dovecot(os.path.join(work, "dovecot"), cert, key, args.sessions)
        servers.append(dc)
        dc.start()
        dcp = Dovecot(os.path.join(work, "dovecot-perf"), cert, key, args.sessions, mode="performance")
        servers.append(dcp)
        dcp.start()
        progress(f"boxmaild pid {box.proc.pid} (SMTP {box.smtp_port}, POP3S {box.pop3s_port}); "
                 f"Postfix master {pf.master_pid} ({pf.port}); Dovecot {dc.proc.pid} ({dc.port}); "
                 f"Dovecot performance mode {dcp.proc.pid} ({dcp.port})")
        # (label, server, port) per comparison; boxmaild first.
        comparisons = [
            ("SMTP STARTTLS", "smtp", [("boxmaild", box, box.smtp_port), ("Postfix", pf, pf.port)]),
            ("POP3S", "pop3s", [("boxmaild", box, box.pop3s_port), ("Dovecot", dc, dc.port),
                                ("Dovecot perf. mode", dcp, dcp.port)]),
        ]
        for name, kind, members in comparisons:
            for who, _srv, port in members:
                res["negotiated"][f"{who} {name}"] = {
                    "forced": negotiated(port, "smtp" if kind == "smtp" else None, cert, True),
                    "default": negotiated(port, "smtp" if kind == "smtp" else None, cert, False),
                    "bench_client": bench_client_negotiates(kind, port)}

        wrong = [f"{name} ({how}): {n[how]['fingerprint'] or 'no certificate'}"
                 for name, n in res["negotiated"].items() for how in ("forced", "default")
                 if n[how]["fingerprint"] != fp]
        if wrong:
            raise RuntimeError("not every server serves the bench's certificate " + fp + ":\n  " +
                               "\n  ".join(wrong))

        # Idle sessions, each server freshly started; boxmaild's plain
        # sessions first, to show what TLS adds to a session.
        plain = {"smtp": ("boxmaild, no TLS", "smtp-plain", box.smtp_port),
                 "pop3s": ("boxmaild, no TLS", "pop3-plain", box.pop3_port)}
        for name, kind, members in comparisons:
            c = {"servers": []}
            p_label, p_kind, p_port = plain[kind]
            for who, srv, port, k in [(p_label, box, p_port, p_kind)] + [(w, s_, p, kind) for w, s_, p in members]:
                srv.restart()
                progress(f"idle {name}: {who}, {args.sessions} sessions")
                c[who] = idle_sessions(k, port, srv.pids, args.sessions)
                c["servers"].append(who)
                progress(f"  {fmt(c[who]['kib_per_session_pss'], '.1f')} KiB per session")
            base = c["boxmaild"]["kib_per_session_pss"]
            c["tls_share_boxmaild_kib"] = (None if base is None or c[p_label]["kib_per_session_pss"] is None
                                           else base - c[p_label]["kib_per_session_pss"])
            c["ratios"] = {w: ratio(c[w]["kib_per_session_pss"], base) for w, _s, _p in members[1:]}
            res["idle"][name] = c

        if args.churn:
            res["churn"] = {}
            for name, kind, members in comparisons:
                box.restart()
                progress(f"churn {name}: boxmaild, {args.churn} x {args.sessions} sessions opened and closed")
                res["churn"][name] = {"sessions": args.sessions, "fresh_rss_kib": rss_sum(box.pids()),
                                      "cycles": churn(kind, members[0][2], box, args.sessions, args.churn)}

        # Handshakes: A B A B (A B C A B C).
        box.restart()
        time.sleep(0.5)
        res["boxmaild_rss_kib"]["fresh"] = rss_sum(box.pids())
        for name, kind, members in comparisons:
            c = {"servers": [w for w, _s, _p in members]}
            for who in c["servers"]:
                c[who] = {"runs": []}
            for rnd in range(args.rounds):
                for who, srv, port in members:
                    progress(f"handshakes {name}, round {rnd + 1}: {who}")
                    r = handshake_run(kind, port, srv, args.clients, args.warmup, args.seconds)
                    c[who]["runs"].append(r)
                    res["order"].append(f"{name}: {who}")
                    progress(f"  {r['connections']} connections, {fmt(r['per_second'], '.0f')}/s, server "
                             f"{fmt(r['server_cpu_ms_per_conn'], '.3f')} ms CPU each, errors {r['errors']}")
                    if srv is box:
                        time.sleep(0.5)
                        res["boxmaild_rss_kib"][f"after {name} run {rnd + 1}"] = rss_sum(box.pids())
                        if not box.alive():
                            raise RuntimeError(f"boxmaild exited during the run:\n{box.log_tail()}")
            for who in c["servers"]:
                c[who]["summary"] = summarize(c[who]["runs"])
            b = c["boxmaild"]["summary"]
            c["ratios"] = {w: {"cpu": ratio(b["server_cpu_ms_per_conn"], c[w]["summary"]["server_cpu_ms_per_conn"]),
                               "rate": ratio(b["per_second"], c[w]["summary"]["per_second"])}
                           for w in c["servers"][1:]}
            res["handshakes"][name] = c
        # boxmaild was restarted several times: it must still have the bench's files
        for srv_cert in (box.cert, pf.cert, dc.cert, dcp.cert):
            with open(srv_cert, "rb") as a, open(cert, "rb") as b:
                if a.read() != b.read():
                    raise RuntimeError(f"{srv_cert} is no longer the bench's certificate")
    except KeyboardInterrupt:
        progress("interrupted")
        return 130
    except Exception:
        for srv in servers:
            sys.stderr.write(f"---- {type(srv).__name__} log tail ----\n{srv.log_tail()}\n")
        raise
    finally:
        for srv in servers:
            try:
                srv.stop()
            except Exception as e:  # noqa: BLE001 - stop the others anyway
                progress(f"stopping {type(srv).__name__}: {e}")
        if args.keep:
            progress(f"data kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    res["host"]["loadavg_end"] = os.getloadavg()
    res["total_seconds"] = round(time.monotonic() - T_START, 1)
    out = os.path.join(results_dir, "tls.json")
    with open(out, "w") as f:
        json.dump(res, f, indent=2)
    print_report(res)
    progress(f"results written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
