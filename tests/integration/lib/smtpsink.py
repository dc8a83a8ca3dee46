"""Real servers for the outgoing-mail tests: Postfix's smtp-sink as a remote
MX or smarthost, and dnsmasq serving the test zones (PLATFORM: every query
goes to 127.0.0.1; the tests run inside a private network namespace)."""
import os
import shutil
import socket
import subprocess
import tempfile
import threading

import boxtest

SINK = "/usr/sbin/smtp-sink"


def port_open(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


class Sink:
    """smtp-sink on HOST:PORT (a free port on 127.0.0.1 by default), dumping
    each message to its own directory; OPTIONS as smtp-sink(1) takes them
    (-r RCPT: 4xx at RCPT; -f DATA: 5xx after DATA; ...)."""

    def __init__(self, *options, host="127.0.0.1", port=None):
        self.dir = tempfile.mkdtemp(prefix="boxmail-sink-")
        os.chmod(self.dir, 0o777)
        self.host = host
        self.port = port or boxtest.free_port()
        self.proc = subprocess.Popen([SINK, "-u", "nobody", "-d", os.path.join(self.dir, "msg."), *options,
                                      f"{host}:{self.port}", "10"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        boxtest.poll(self.listening, timeout=10, what="smtp-sink listening")

    def listening(self):
        return port_open(self.port, self.host)

    def target(self, host="sink.test"):
        return ["--target", f"{host},{self.host},{self.port}"]

    def dumps(self):
        return sorted(boxtest.read(os.path.join(self.dir, n)) for n in os.listdir(self.dir))

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Dnsmasq:
    """dnsmasq on 127.0.0.1:PORT for the zone "test" (a name it has no
    record for is NXDOMAIN), with RECORDS as dnsmasq options
    (--mx-host=..., --host-record=...)."""

    def __init__(self, directory, records):
        self.port = boxtest.free_port()
        self.log = os.path.join(directory, "dnsmasq.log")
        self.proc = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
             "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}", "--user=root",
             f"--pid-file={os.path.join(directory, 'dnsmasq.pid')}", "--log-queries",
             f"--log-facility={self.log}", "--local=/test/", *records],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def server(self):
        """The [dns] servers value."""
        return f"127.0.0.1:{self.port}"

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def isp_smarthost():
    """A boxmaild as the ISP's smarthost (smarthost.isp.test): far.test's
    mail and own.test as alice's sending domain (ISPs check the sender
    against the account), logins only after TLS. Not started yet."""
    return boxtest.Box({"server": {"hostname": "smarthost.isp.test", "plaintext_login_networks": ""},
                        "smtp": {"accept_domains": "far.test own.test"}}, name="smarthost")


def lan_box_through(smarthost, login="alice:pw-alice"):
    """Box "lan" (own.test, LAN 127.0.0.1) sending everything through the
    started SMARTHOST's submission port: STARTTLS required, its
    certificate pinned, LOGIN ("user:password") in the credentials file
    (0600, the mail user's). Not started yet; returns (box, pin)."""
    import tlstest
    pin = tlstest.fingerprint_of_pem(boxtest.read(smarthost.cert))
    lan = boxtest.Box({"smtp": {"accept_domains": "own.test"},
                       "relay": {"relay_networks": "127.0.0.1", "route": "smarthost",
                                 "smarthost": f"127.0.0.1:{smarthost.submission_port}", "smarthost_tls": "starttls",
                                 "smarthost_fingerprint": pin, "connect_timeout": "2"}}, name="lan")
    creds = os.path.join(lan.dir, "smarthost-login")
    with open(creds, "w") as f:
        f.write(login + "\n")
    os.chmod(creds, 0o600)
    boxtest.hand_over(creds)
    lan.write_config({"relay": {"smarthost_credentials": creds}})
    return lan, pin


class LoopbackServer:
    """A TCP server of the test's own on HOST:PORT (port 0: a free one, in
    self.port), accepting in a thread: each connection goes to
    self.handle(conn), in that thread; the connections handed over are
    closed by close()."""

    def __init__(self, host="127.0.0.1", port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def handle(self, conn):
        """Keeps the connection open and says nothing (override)."""

    def run(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.conns.append(c)
            self.handle(c)

    def close(self):
        self.stop.set()
        self.thread.join(timeout=5)
        for c in self.conns:
            c.close()
        self.sock.close()
