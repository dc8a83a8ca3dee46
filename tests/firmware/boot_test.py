#!/usr/bin/python3
"""boot_test - boot the boxmail firmware image in QEMU and use it from the host.

    tests/firmware/boot_test.py --board board/qemu-aarch64 --image build/board/qemu-aarch64 \
        --build build/cross-aarch64 --corpus build/corpus

Steps (each failure is a clear message and exit status 1; nothing is skipped
silently):
  1. the image (Image, initramfs.cpio.gz from `make image`) must exist; the
     boot test's overlay (tests/firmware/overlay: a mailbox "demo" with a
     fixed password) is appended as a second cpio archive.
  2. qemu-system-aarch64 -M virt, software emulation, 256 MiB, user-mode
     networking with restrict=on (the guest cannot reach out), host ports
     forwarded on 127.0.0.1 only to the guest's 25, 110 and 80; the serial
     console on a pipe. A hard deadline bounds the whole run.
  3. the time from QEMU's start to the first "220" SMTP greeting.
  4. real SpamAssassin corpus messages over SMTP to demo@ (each must get 250).
  5. TLS: an SMTP STARTTLS session from the host (TLS 1.2, an ECDHE AEAD
     suite, the certificate the guest made on its first boot); then, when
     the built boxmaild has POP3 (`boxmaild --print-schema` lists [pop3]):
     every message retrieved over POP3 after STLS (the appliance refuses
     logins in the clear), byte-exact (the stored file is Return-Path +
     Received + the message as sent).
  6. the panel over HTTPS (lighttpd with mod_mbedtls and the cross-built
     boxmail.cgi; waited for, as it starts once boxmaild has made its
     certificate; the time is a figure): the login page, served with the certificate boxmaild
     served for STARTTLS, its login cookie Secure; a login as admin (the
     password the first boot printed on the console) whose session cookie
     is Secure; plain HTTP answering 308 to the same path over HTTPS.
  7. on the serial console: free memory, boxmaild's RSS, lighttpd's RSS and
     that of the shell that watches the certificate for it, `boxmail-fw
     check` and its peak RSS; who runs as what: boxmaild's /proc/PID/status
     must show the boxmail uid, CapEff/CapPrm/CapBnd 0 and NoNewPrivs 1,
     lighttpd the boxmail-web uid and no capabilities; the guest's log
     (logread) must show the
     self-signed certificate made on first boot (its time is a figure) with
     the fingerprint the host saw, and the key 0600 owned by boxmail.
  8. a new certificate and key written over the old ones in the guest (as
     boxmaild replaces them): HTTPS must serve the new one within
     CERT_SWITCH_DEADLINE s (the init script restarts lighttpd; the time is
     a figure); the pair served written back; an alias added on the
     panel's /aliases page; the firewall: failed POP3 logins from the host
     get it auto-banned (in the guest's banned4 per `boxmail-fw show`, the
     POP3 port silent, the panel answering), `boxmailctl unban` lets it in
     again; then `poweroff`, and QEMU must exit.
  9. the data partition (the guest's disk IMAGE/data.img, new and blank
     for each run; the first boot must have made its file system): the
     same disk booted again must give the mail, the alias, the admin
     password and the certificate back; boxmail.factory_reset=keep-mail on
     the kernel command line keeps the mail only, =wipe nothing; then
     --power-cuts rounds: SIGKILL of QEMU while two SMTP clients feed,
     the host's e2fsck -f on a copy, the next boot's e2fsck -p, and every
     acknowledged message in the mailbox byte-exact (the table: acknowledged
     / found / duplicates / found without acknowledgement); last a
     partition damaged with debugfs must be mounted read-only with no
     SMTP greeting, and a wipe must bring the box back.
 10. upgrades (every boot but the kernel-command-line resets goes through
     u-boot and the disk's A/B slots, as `make image` makes them): the web
     user's hostile requests refused by root's watcher; a tampered update
     file refused on the panel's Firmware page; a good one (another
     version, signed with --key) installed, booted on trial in slot b and
     confirmed, with the mail and a setting kept; one whose boxmaild
     cannot start tried three times and then left by u-boot for slot b;
     a factory reset (keep-mail) from the panel.
Figures are printed and written to IMAGE/boot-test.txt. Hard limits: the
multi-call program boxmail (boxmaild, boxmailctl and boxmail.cgi; stripped)
< 2.5 MiB (docs/firmware.md, "One program, three names"), initramfs without
the kernel < 8 MB, the idle mail
system's RSS < 4 MiB, greeting within the boot deadline; a greeting later
than 10 s is reported as over its target.
"""
import argparse
import hashlib
import html
import http.client
import os
import poplib
import queue
import random
import re
import shutil
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration", "lib"))
import boxtest  # noqa: E402
import corpus  # noqa: E402
sys.path.insert(0, os.path.join(SOURCE, "board", "common"))
import pack_firmware  # noqa: E402

DEMO_USER = "demo"
DEMO_PASSWORD = "boot-test-only-password"   # tests/firmware/overlay/etc/boxmail/firstboot-accounts
MESSAGES = 24                                 # corpus messages sent over SMTP
BOOT_DEADLINE = 120.0                         # s from QEMU start to the greeting
RUN_DEADLINE = 420.0                          # s for the whole test
GREETING_TARGET = 10.0
RSS_LIMIT_KIB = 4 * 1024
BOXMAIL_LIMIT = 5 * 512 * 1024                # the multi-call program (was 2 MiB for boxmaild alone)
INITRAMFS_LIMIT = 8 * 1000 * 1000
CERT_SWITCH_DEADLINE = 30.0                   # s for HTTPS to serve a replaced certificate
PANEL = "/cgi-bin/boxmail.cgi"
BOOT_RUN_DEADLINE = 150.0                     # s for each later boot (reboot, resets, power cuts)
PERSIST_ALIAS = "persist-check"               # the setting changed on the panel before a reboot


class BootTestError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Console:
    """The guest's serial console on QEMU's stdin/stdout, read by a thread."""

    def __init__(self, proc, log_path):
        self.proc = proc
        self.buf = b""
        self.lock = threading.Lock()
        self.log = open(log_path, "wb")
        self.q = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()

    def _reader(self):
        while True:
            data = self.proc.stdout.read1(4096) if hasattr(self.proc.stdout, "read1") else self.proc.stdout.read(1)
            if not data:
                break
            self.log.write(data)
            self.log.flush()
            with self.lock:
                self.buf += data

    def text(self):
        with self.lock:
            return self.buf.decode("utf-8", "replace")

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def wait_for(self, pattern, timeout, start=0):
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern, re.S)
        while time.monotonic() < deadline:
            m = rx.search(self.text(), start)
            if m:
                return m
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        tail = self.text()[-3000:]
        raise BootTestError(f"no {pattern!r} on the guest console within {timeout:.0f} s; console tail:\n{tail}")

    def run(self, command, timeout=60):
        """Runs a shell command on the console; returns its output."""
        tag = f"BT{int(time.monotonic() * 1000) % 100000000}"
        start = len(self.text())
        self.send(f"echo {tag}-BEGIN; {command}; echo {tag}-END")
        m = self.wait_for(rf"\n{tag}-BEGIN\r?\n(.*?)\n{tag}-END", timeout, start)
        return m.group(1).replace("\r", "")


def wait_greeting(port, t0, deadline, qemu):
    """Polls 127.0.0.1:port until a 220 greeting; returns seconds since t0."""
    while time.monotonic() < deadline:
        if qemu.poll() is not None:
            raise BootTestError(f"QEMU exited ({qemu.returncode}) before the SMTP greeting")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                s.settimeout(2)
                data = s.recv(512)
                if data.startswith(b"220"):
                    t = time.monotonic() - t0
                    try:
                        s.sendall(b"QUIT\r\n")
                        while s.recv(512):
                            pass
                    except OSError:
                        pass
                    return t
        except OSError:
            pass
        time.sleep(0.05)
    raise BootTestError(f"no SMTP greeting on the guest's port 25 within {BOOT_DEADLINE:.0f} s of QEMU start")


def pick_messages(files, n):
    """n corpus messages spread over the corpus (stable), without CR bytes
    (so the CRLF/LF comparison of POP3 is exact), largest one included."""
    plain = []
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        if b"\r" not in data and b"\x00" not in data:
            plain.append((f, data))
    step = max(1, len(plain) // (n - 1))
    chosen = plain[::step][: n - 1]
    chosen.append(max(plain, key=lambda x: len(x[1])))
    return chosen


def web_request(port, method, path, tls_ctx=None, body=None, headers=None):
    """One request to the guest's web server (HTTPS when tls_ctx is given),
    no redirect followed: (status, [(header, value)], body text, peer
    certificate DER or None)."""
    if tls_ctx is None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    else:
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=60, context=tls_ctx)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        text = r.read().decode("utf-8", "replace")
        der = conn.sock.getpeercert(binary_form=True) if tls_ctx is not None else None
        return r.status, r.getheaders(), text, der
    finally:
        conn.close()


def fingerprint(der):
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def set_cookies(headers, name):
    return [v for k, v in headers if k.lower() == "set-cookie" and v.startswith(name + "=")]


def check_panel(ports, tls_ctx, host_fp, admin_password, figures):
    """The panel over HTTPS with boxmaild's certificate, Secure cookies, a
    login; plain HTTP only redirects."""
    status, headers, page, der = web_request(ports["https"], "GET", PANEL + "/login", tls_ctx)
    if status != 200 or 'name="password"' not in page:
        raise BootTestError(f"GET https {PANEL}/login: {status}, page: {page[:300]!r}")
    if fingerprint(der) != host_fp:
        raise BootTestError(f"HTTPS serves {fingerprint(der)}, boxmaild's STARTTLS served {host_fp}")
    login = set_cookies(headers, "boxmail_login")
    if len(login) != 1 or not login[0].endswith("; HttpOnly; SameSite=Strict; Secure"):
        raise BootTestError(f"the login cookie over HTTPS is not Secure: {login}")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    if not token:
        raise BootTestError(f"no csrf field in the login page: {page[:300]!r}")
    nonce = login[0].split(";", 1)[0]
    body = urllib.parse.urlencode({"csrf": token.group(1), "user": "admin", "password": admin_password})
    status, headers, page, _ = web_request(ports["https"], "POST", PANEL + "/login", tls_ctx, body,
                                           {"Content-Type": "application/x-www-form-urlencoded", "Cookie": nonce})
    session = set_cookies(headers, "boxmail_session")
    if status != 303 or len(session) != 1 or not session[0].endswith("; HttpOnly; SameSite=Strict; Secure"):
        raise BootTestError(f"login over HTTPS: {status}, session cookie {session}, page: {page[:300]!r}")
    status, headers, page, _ = web_request(ports["https"], "GET", PANEL + "/status", tls_ctx,
                                           headers={"Cookie": session[0].split(";", 1)[0]})
    if status != 200 or "Status" not in page:
        raise BootTestError(f"GET {PANEL}/status after the login: {status}, page: {page[:300]!r}")
    for method, path in (("GET", PANEL + "/login"), ("GET", "/"), ("POST", PANEL + "/login")):
        status, headers, page, _ = web_request(ports["http"], method, path,
                                               body="user=admin" if method == "POST" else None)
        location = dict((k.lower(), v) for k, v in headers).get("location")
        if status != 308 or location != f"https://127.0.0.1{path}" or "password" in page:
            raise BootTestError(f"{method} http://...{path}: {status} Location {location}, page {page[:200]!r}")
    figures["https"] = (f"GET {PANEL}/login 200 with boxmaild's certificate, login cookie Secure; "
                        "admin login 303, session cookie Secure; /status 200")
    figures["http"] = "GET and POST: 308 to https://same-host/same-path"
    print(f"boot-test: panel over HTTPS: {figures['https']}; plain HTTP: {figures['http']}", flush=True)
    return session[0].split(";", 1)[0]


def served_fingerprint(port, tls_ctx):
    """The SHA-256 of the certificate the guest's HTTPS serves now, or None
    while it does not answer (lighttpd restarting)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with tls_ctx.wrap_socket(raw) as s:
                return fingerprint(s.getpeercert(binary_form=True))
    except (OSError, ssl.SSLError):
        return None


def new_certificate():
    """A fresh ECDSA P-256 self-signed certificate and key (PEM), made with
    the host's openssl; valid for a year (boxmaild renews a self-signed
    certificate that expires within 30 days when it starts, and the reboot
    test expects this one back)."""
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-keyout", "-", "-out", "-", "-days", "365", "-subj", "/CN=boot-test-replaced"],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise BootTestError(f"openssl cannot make a test certificate: {p.stderr}")
    key = re.search(r"-----BEGIN PRIVATE KEY-----.*?-----END PRIVATE KEY-----\n", p.stdout, re.S)
    cert = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n", p.stdout, re.S)
    if not key or not cert:
        raise BootTestError(f"unexpected openssl output: {p.stdout[:200]!r}")
    der = ssl.PEM_cert_to_DER_cert(cert.group(0))
    return cert.group(0), key.group(0), fingerprint(der)


def write_guest_file(console, name, pem, mode):
    """/etc/boxmail/tls/NAME in the guest, as boxmaild writes it: a
    temporary owned by boxmail, then a rename over the old file."""
    lines = " ".join(f"'{line}'" for line in pem.strip().split("\n"))
    out = console.run(f"printf '%s\\n' {lines} > /etc/boxmail/tls/{name}.new && "
                      f"chown boxmail:boxmail /etc/boxmail/tls/{name}.new && "
                      f"chmod {mode} /etc/boxmail/tls/{name}.new && "
                      f"mv -f /etc/boxmail/tls/{name}.new /etc/boxmail/tls/{name} && echo wrote-{name}")
    if f"wrote-{name}" not in out:
        raise BootTestError(f"cannot write /etc/boxmail/tls/{name} in the guest:\n{out}")


def replace_certificate(console, ports, tls_ctx, figures):
    """Writes a new pair over /etc/boxmail/tls/ as boxmaild would (the key
    first) and waits until HTTPS serves it; then a certificate without its
    key, which the init script must refuse while HTTPS keeps serving the
    pair before it."""
    cert, key, new_fp = new_certificate()
    write_guest_file(console, "key.pem", key, "600")
    write_guest_file(console, "cert.pem", cert, "644")
    t = time.monotonic()
    while time.monotonic() - t < CERT_SWITCH_DEADLINE:
        if served_fingerprint(ports["https"], tls_ctx) == new_fp:
            break
        time.sleep(0.25)
    else:
        raise BootTestError(f"HTTPS still does not serve the new certificate {new_fp} "
                            f"{CERT_SWITCH_DEADLINE:.0f} s after it was written")
    figures["https_new_certificate_s"] = round(time.monotonic() - t, 1)
    status, _, page, der = web_request(ports["https"], "GET", PANEL + "/login", tls_ctx)
    if status != 200 or fingerprint(der) != new_fp:
        raise BootTestError(f"after the certificate change: GET {PANEL}/login {status}")
    out = console.run("logread | grep -c 'certificate /etc/boxmail/tls/cert.pem changed'")
    if not out.strip().isdigit() or int(out.strip()) < 1:
        raise BootTestError(f"no 'certificate ... changed' line from the init script in the guest's log: {out!r}")
    print(f"boot-test: a new certificate written in the guest is served over HTTPS after "
          f"{figures['https_new_certificate_s']} s (lighttpd restarted by the init script)", flush=True)

    stray, _, stray_fp = new_certificate()
    write_guest_file(console, "cert.pem", stray, "644")
    t = time.monotonic()
    while True:
        out = console.run("logread | grep -c 'is refused, the web panel keeps the old one'")
        if out.strip().isdigit() and int(out.strip()) >= 1:
            break
        if time.monotonic() - t > CERT_SWITCH_DEADLINE:
            raise BootTestError("a certificate without its key was not reported as refused by the init script")
        time.sleep(1)
    served = served_fingerprint(ports["https"], tls_ctx)
    if served != new_fp:
        raise BootTestError(f"after a certificate without its key, HTTPS serves {served}, not the pair before "
                            f"it {new_fp} (the stray one is {stray_fp})")
    figures["https_refused_certificate"] = "reported; the previous pair kept serving"
    # The pair served goes back on the disk (the reboot test expects it).
    write_guest_file(console, "cert.pem", cert, "644")
    print("boot-test: a certificate without its key is refused; HTTPS keeps serving the pair before it",
          flush=True)
    return new_fp


# -- the data partition (docs/firmware.md, "Storage") -----------------------

class Guest:
    """Boots of the image with one data disk (a raw file on a virtio-blk
    device, cache=writethrough: what the guest's flush returns for is in the
    host file, so SIGKILL of QEMU is a power cut of a disk without a
    volatile cache); each boot's console in IMAGE/boot-test-console-NAME.log
    (the first boot's in boot-test-console.log)."""

    def __init__(self, bios, kernel, initrd, disk, ports, image_dir):
        self.bios, self.kernel, self.initrd, self.disk = bios, kernel, initrd, disk
        self.ports, self.image_dir = ports, image_dir
        self.qemu = None
        self.log = os.path.join(image_dir, "boot-test-console.log")

    def start(self, name, append="", deadline=BOOT_RUN_DEADLINE):
        """Boots as the box does: u-boot (-bios) runs boot.scr from the
        disk's boot partition, which picks the slot; a guest reboot is a
        reset of the machine (u-boot again), as on a board. With APPEND (the
        factory-reset flag, the stand-in for a reset button), QEMU loads
        slot a's kernel and initramfs itself with that command line."""
        fwd = ",".join(f"hostfwd=tcp:127.0.0.1:{self.ports[k]}-:{g}"
                       for k, g in (("smtp", 25), ("pop3", 110), ("http", 80), ("https", 443)))
        cmd = ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a53", "-m", "256", "-smp", "1",
               "-accel", "tcg", "-display", "none", "-monitor", "none", "-serial", "stdio"]
        if append:
            cmd += ["-kernel", self.kernel, "-initrd", self.initrd,
                    "-append", "console=ttyAMA0 quiet panic=-1 boxmail.slot=a " + append]
        else:
            cmd += ["-bios", self.bios]
        cmd += ["-netdev", f"user,id=n0,restrict=on,{fwd}",
                "-device", "virtio-net-device,netdev=n0",
                "-drive", f"file={self.disk},format=raw,if=none,id=disk,cache=writethrough",
                "-device", "virtio-blk-device,drive=disk"]
        print(f"boot-test: [{name}] " + " ".join(cmd), flush=True)
        t0 = time.monotonic()
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        log = "boot-test-console.log" if name == "first-boot" else f"boot-test-console-{name}.log"
        self.log = os.path.join(self.image_dir, log)
        console = Console(self.qemu, self.log)
        watchdog = threading.Timer(deadline, self.qemu.kill)   # the hard bound on this boot
        watchdog.daemon = True
        watchdog.start()
        return self.qemu, console, t0

    def boot(self, name, append=""):
        """Starts the guest and waits for the greeting: (console, greeting seconds)."""
        qemu, console, t0 = self.start(name, append)
        greeting = round(wait_greeting(self.ports["smtp"], t0, t0 + BOOT_DEADLINE, qemu), 2)
        return console, greeting

    def poweroff(self, console):
        console.wait_for(r"Please press Enter to activate this console", 30)
        console.send("")
        time.sleep(0.5)
        console.send("poweroff")
        try:
            self.qemu.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise BootTestError("the guest did not power off within 60 s of `poweroff`")
        self.qemu = None

    def kill(self):
        """The power cut: SIGKILL to QEMU."""
        if self.qemu is not None and self.qemu.poll() is None:
            self.qemu.kill()
            self.qemu.wait()
        self.qemu = None


def data_state(console, name, fresh=False):
    """The data partition's lines on the console: state rw, and on a boot of
    an existing file system e2fsck's exit status 0 or 1 (clean, or the
    journal replayed / repaired). Returns (e2fsck exit, its output lines)."""
    text = console.wait_for(r"data: state (\w+)", 60).group(0)
    if not text.endswith("rw"):
        raise BootTestError(f"[{name}] the data partition is not mounted read-write:\n{console.text()[-3000:]}")
    if fresh:
        return None, []
    m = re.search(r"data: fsck /dev/vda2: exit (\d+)", console.text())
    if not m:
        raise BootTestError(f"[{name}] no e2fsck result on the console:\n{console.text()[-3000:]}")
    lines = re.findall(r"^data: e2fsck: (.*?)\r?$", console.text(), re.M)
    if int(m.group(1)) > 1:
        raise BootTestError(f"[{name}] e2fsck -p exit {m.group(1)}: " + " | ".join(lines))
    return int(m.group(1)), lines


def pop3_messages(ports, tls_ctx, user, password):
    """Every message of the mailbox over POP3 after STLS (none deleted)."""
    p3 = poplib.POP3("127.0.0.1", ports["pop3"], timeout=60)
    p3.stls(context=tls_ctx)
    p3.user(user)
    p3.pass_(password)
    out = []
    for line in p3.list()[1]:
        num, size = (int(x) for x in line.split())
        _, lines, octets = p3.retr(num)
        if octets != size:
            raise BootTestError(f"POP3 message {num}: LIST says {size} octets, RETR sent {octets}")
        out.append(b"\n".join(lines) + b"\n")
    p3.quit()
    return out


def same_messages(stored, expected, what):
    bodies = sorted(boxtest.split_stored(m)[1] for m in stored)
    if bodies != sorted(expected):
        raise BootTestError(f"{what}: POP3 has {len(bodies)} messages, {len(expected)} expected "
                            f"({len(set(bodies) & set(expected))} of them match byte for byte)")


def panel_login(ports, tls_ctx, password):
    """A login as admin: the session cookie (name=value), or None when refused."""
    status, headers, page, _ = web_request(ports["https"], "GET", PANEL + "/login", tls_ctx)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    login = set_cookies(headers, "boxmail_login")
    if status != 200 or not token or not login:
        raise BootTestError(f"GET {PANEL}/login: {status}, page: {page[:300]!r}")
    body = urllib.parse.urlencode({"csrf": token.group(1), "user": "admin", "password": password})
    status, headers, page, _ = web_request(ports["https"], "POST", PANEL + "/login", tls_ctx, body,
                                           {"Content-Type": "application/x-www-form-urlencoded",
                                            "Cookie": login[0].split(";", 1)[0]})
    session = set_cookies(headers, "boxmail_session")
    return session[0].split(";", 1)[0] if status == 303 and session else None


def panel_page(ports, tls_ctx, session, path):
    status, _, page, der = web_request(ports["https"], "GET", PANEL + path, tls_ctx, headers={"Cookie": session})
    if status != 200:
        raise BootTestError(f"GET {PANEL}{path}: {status}, page: {page[:300]!r}")
    return page, der


def panel_add_alias(ports, tls_ctx, session, alias, target):
    """Adds an alias on the panel's /aliases page (a setting in boxmail.ini)."""
    page, _ = panel_page(ports, tls_ctx, session, "/aliases")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    if not token:
        raise BootTestError(f"no csrf field on /aliases: {page[:300]!r}")
    body = urllib.parse.urlencode({"csrf": token.group(1), "action": "add", "alias_name": alias,
                                   "alias_targets": target})
    status, _, page, _ = web_request(ports["https"], "POST", PANEL + "/aliases", tls_ctx, body,
                                     {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session})
    if status not in (200, 303) or (status == 200 and f"Alias {alias} added" not in page):
        raise BootTestError(f"POST /aliases (add {alias}): {status}, page: {page[:300]!r}")
    if not has_alias(ports, tls_ctx, session, alias):
        raise BootTestError(f"the alias {alias} is not on /aliases after it was added")
    print(f"boot-test: panel: alias {alias} -> {target} added", flush=True)


def has_alias(ports, tls_ctx, session, alias):
    page, _ = panel_page(ports, tls_ctx, session, "/aliases")
    return f"<td>{alias}</td>" in page


def mail_and_certificate(ports, tls_ctx, expected, fp, same, when):
    """The demo mailbox holds exactly the expected messages (POP3), and HTTPS
    serves the certificate fp (same) or another one (not same)."""
    same_messages(pop3_messages(ports, tls_ctx, DEMO_USER, DEMO_PASSWORD), expected, when)
    served = wait_https(ports, tls_ctx, time.monotonic(), when)
    if (served == fp) != same:
        raise BootTestError(f"{when}: HTTPS serves {served}, {'not' if same else 'still'} the certificate {fp}")


def check_alias(ports, tls_ctx, password, present, when):
    """A login as admin with password must work, and the panel's /aliases
    must show PERSIST_ALIAS (present) or not."""
    session = panel_login(ports, tls_ctx, password)
    if not session:
        raise BootTestError(f"{when}: the admin login is refused")
    if has_alias(ports, tls_ctx, session, PERSIST_ALIAS) != present:
        raise BootTestError(f"{when}: the alias {PERSIST_ALIAS} is {'missing' if present else 'still'} on /aliases")


def wait_https(ports, tls_ctx, t0, name):
    while served_fingerprint(ports["https"], tls_ctx) is None:
        if time.monotonic() - t0 > BOOT_DEADLINE:
            raise BootTestError(f"[{name}] no HTTPS on the guest's port 443 within {BOOT_DEADLINE:.0f} s")
        time.sleep(0.25)
    return served_fingerprint(ports["https"], tls_ctx)


def printed_admin_password(console):
    m = re.search(r"web panel login \(user admin; password shown only now\):\s*password: (\S+)", console.text())
    return m.group(1) if m else None


def host_fsck(disk, report):
    """The host's e2fsck -f -y on a copy of the disk image (the journal
    replayed, then every pass; the output in the file report): (exit
    status, the problems it fixed other than the group summary counters).
    ext4 does not keep the free block and inode counts of each group exact
    across a crash (they are recomputed; e2fsck -p fixes them without a
    word), so "count wrong" lines are not problems."""
    e2fsck = shutil.which("e2fsck") or "/usr/sbin/e2fsck"
    if not os.path.exists(e2fsck):
        return None, []
    copy = disk + ".fsck"
    copy_partition(disk, 2, copy)
    try:
        p = subprocess.run([e2fsck, "-f", "-y", copy], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(copy)
    with open(report, "w") as f:
        f.write(p.stdout + p.stderr)
    fixed, last = [], ""
    for line in p.stdout.splitlines():   # "PROBLEM.\nFix? yes": the problem is the line before
        if re.search(r"\? yes$", line):
            if "count wrong" not in last:
                fixed.append(f"{last} {line}")
        elif line.strip():
            last = line.strip()
    return p.returncode, fixed


def partition(disk, n):
    """(first octet, octets) of MBR partition n (1..4) of the disk image."""
    with open(disk, "rb") as f:
        mbr = f.read(512)
    if mbr[510:512] != b"\x55\xaa":
        raise BootTestError(f"{disk}: no MBR")
    first, blocks = struct.unpack_from("<II", mbr, 446 + 16 * (n - 1) + 8)
    if blocks == 0:
        raise BootTestError(f"{disk}: no partition {n}")
    return first * 512, blocks * 512


def copy_partition(disk, n, dest):
    """Partition n of the disk into the file dest (holes stay holes)."""
    start, size = partition(disk, n)
    with open(disk, "rb") as src, open(dest, "wb") as dst:
        dst.truncate(size)
        src.seek(start)
        done = 0
        while done < size:
            block = src.read(min(1 << 20, size - done))
            if not block:
                break
            if block.count(0) != len(block):
                dst.seek(done)
                dst.write(block)
            done += len(block)


def write_partition(disk, n, src_path):
    """The file src_path written back over partition n."""
    start, size = partition(disk, n)
    if os.path.getsize(src_path) != size:
        raise BootTestError(f"{src_path}: not the size of partition {n}")
    with open(src_path, "rb") as src, open(disk, "r+b") as dst:
        dst.seek(start)
        shutil.copyfileobj(src, dst, 1 << 20)


def power_cut_message(tag, n):
    """A message with a unique id and a body of a size that varies with n."""
    body = "".join(f"{tag} line {i:04d}: the quick brown fox jumps over the lazy dog\n"
                   for i in range(8 + (n * 37) % 120))
    return (f"From: feed@relay.isp.example\nTo: {DEMO_USER}@box.example\nSubject: power cut {tag}\n"
            f"Message-ID: <{tag}@boot-test.example>\n\n{body}").encode()


def feed_until_cut(port, round_no, client_no, acked, stop):
    """Feeds messages over one SMTP connection until the connection dies
    (QEMU killed) or stop is set; the ids that got 250 go to acked."""
    client = corpus.FeedClient(port, timeout=30)
    try:
        if client.connect():
            return
        n = 0
        while not stop.is_set():
            n += 1
            tag = f"pc{round_no}-{client_no}-{n}"
            data = power_cut_message(tag, n)
            stage, code, _ = client.send_message("feed@relay.isp.example", [f"{DEMO_USER}@box.example"],
                                                 boxtest.to_crlf_dotstuffed(data))
            if stage == "final" and code == 250:
                acked[tag] = corpus.stored_form(data)
            elif stage != "final":
                return
    except (corpus.ConnectionCut, OSError):
        return
    finally:
        client.close()


def check_power_cut_store(ports, tls_ctx, acked, name):
    """Every acknowledged message in the mailbox byte-exact: (found, duplicates,
    found without an acknowledgement)."""
    stored = pop3_messages(ports, tls_ctx, DEMO_USER, DEMO_PASSWORD)
    by_tag = {}
    for m in stored:
        _, body = boxtest.split_stored(m)
        t = re.search(rb"^Message-ID: <(pc[^@>]+)@boot-test\.example>$", body, re.M)
        if t:
            by_tag.setdefault(t.group(1).decode(), []).append(body)
    missing = [t for t in acked if t not in by_tag]
    wrong = [t for t in acked if t in by_tag and any(b != acked[t] for b in by_tag[t])]
    if missing or wrong:
        raise BootTestError(f"[{name}] acknowledged messages missing: {missing[:10]} ({len(missing)}), "
                            f"not byte-exact: {wrong[:10]} ({len(wrong)})")
    found = sum(1 for t in acked if t in by_tag)
    duplicates = sum(len(v) - 1 for v in by_tag.values())
    unacked = sum(1 for t in by_tag if t not in acked)
    return found, duplicates, unacked


def figure(figures, key, text):
    figures[key] = text
    print(f"boot-test: {key.replace('_', ' ')}: {text}", flush=True)


def storage_tests(guest, tls_ctx, first_fp, first_admin, expected, figures, args):
    """After the first boot (mail delivered, an alias added on the panel,
    the certificate first_fp written, powered off): a reboot keeps them;
    factory resets keep-mail and wipe; power cuts while mail is fed."""
    ports = guest.ports
    # -- reboot: mail, the setting, the admin password, the certificate ----
    console, greeting = guest.boot("reboot")
    figures["greeting_later_boot_s"] = greeting
    rc, lines = data_state(console, "reboot")
    if any("recovering journal" in line for line in lines):
        raise BootTestError("the data partition was not unmounted cleanly at poweroff: " + " | ".join(lines))
    mail_and_certificate(ports, tls_ctx, expected, first_fp, True, "after a reboot")
    if printed_admin_password(console):
        raise BootTestError("a reboot made a new admin password (the settings were not kept)")
    check_alias(ports, tls_ctx, first_admin, True, "after a reboot")
    guest.poweroff(console)
    figure(figures, "reboot", f"greeting {greeting} s, e2fsck exit {rc} (clean unmount), {len(expected)} "
           "messages byte-exact, alias and admin password kept, same certificate")

    # -- factory reset, keeping the mail --------------------------------
    console, greeting = guest.boot("reset-keep-mail", "boxmail.factory_reset=keep-mail")
    data_state(console, "reset-keep-mail")
    if not re.search(r"data: factory reset: \d+ settings entries", console.text()):
        raise BootTestError("boxmail.factory_reset=keep-mail: no reset on the console:\n" + console.text()[-3000:])
    admin = printed_admin_password(console)
    if not admin or admin == first_admin:
        raise BootTestError("after a factory reset no new admin password was printed")
    mail_and_certificate(ports, tls_ctx, expected, first_fp, False, "after a factory reset keeping the mail")
    if panel_login(ports, tls_ctx, first_admin) is not None:
        raise BootTestError("after a factory reset the old admin password still logs in")
    check_alias(ports, tls_ctx, admin, False, "after a factory reset")
    guest.poweroff(console)
    figure(figures, "factory_reset_keep_mail", f"greeting {greeting} s; new admin password and certificate, "
           f"alias gone, {len(expected)} messages kept")

    # -- factory reset, wiping; then the power cuts on that box -------------
    rng = random.Random(args.seed)
    acked = {}
    table = []
    name = "reset-wipe"
    console, greeting = guest.boot(name, "boxmail.factory_reset=wipe")
    data_state(console, name, fresh=True)
    if not re.search(r"data: made an ext4 file system", console.text()) or not printed_admin_password(console):
        raise BootTestError("boxmail.factory_reset=wipe: no new file system or admin password:\n"
                            + console.text()[-3000:])
    if pop3_messages(ports, tls_ctx, DEMO_USER, DEMO_PASSWORD):
        raise BootTestError("after a factory reset that wipes, the mailbox is not empty")
    figure(figures, "factory_reset_wipe", f"greeting {greeting} s; new file system, empty mailbox, new admin "
           "password")
    for round_no in range(1, args.power_cuts + 1):
        before = len(acked)
        stop = threading.Event()
        feeders = [threading.Thread(target=feed_until_cut, args=(ports["smtp"], round_no, i, acked, stop), daemon=True)
                   for i in range(2)]
        for f in feeders:
            f.start()
        cut_after = rng.uniform(0.5, 4.0)
        time.sleep(cut_after)
        guest.kill()
        stop.set()
        for f in feeders:
            f.join(timeout=30)
        name = f"power-cut-{round_no}"
        host_rc, host_fixed = host_fsck(guest.disk, os.path.join(guest.image_dir, f"boot-test-{name}-host-fsck.txt"))
        console, greeting = guest.boot(name)
        rc, lines = data_state(console, name)
        if host_fixed or host_rc not in (0, 1, None):
            raise BootTestError(f"[{name}] the host's e2fsck -f on the cut disk: exit {host_rc}, " +
                                " | ".join(host_fixed[:10]))
        found, duplicates, unacked = check_power_cut_store(ports, tls_ctx, acked, name)
        row = {"round": round_no, "cut_after_s": round(cut_after, 2), "acked_round": len(acked) - before,
               "acked_total": len(acked), "found": found, "duplicates": duplicates, "unacked_found": unacked,
               "e2fsck": rc, "journal": "replayed" if any("recovering journal" in x for x in lines) else "clean",
               "host_fsck": host_rc, "greeting_s": greeting}
        table.append(row)
        print(f"boot-test: {name}: {row}", flush=True)
    guest.poweroff(console)
    figures["power_cuts"] = table
    print_power_cuts(table)
    return check_failed_fsck(guest, tls_ctx, figures)


# -- firmware upgrades (docs/firmware.md, "A/B slots and the fallback") ------

UPGRADE_DEADLINE = 900.0      # s for the upgrade phases' one QEMU run (several boots)
UPGRADE_MESSAGES = 6          # messages delivered before the upgrades


def test_firmware(args, initrd, name, version, files):
    """A variant of the test image: INITRD with one more cpio archive
    holding the release file for VERSION and FILES ({path: (mode, bytes)}),
    packed and signed as an update file. Returns its path."""
    import build_image   # board/common, on sys.path
    work = os.path.join(args.image, f"{name}-overlay")
    shutil.rmtree(work, ignore_errors=True)
    board = os.path.basename(os.path.abspath(args.board).rstrip("/"))
    files = dict(files)
    files["usr/share/boxmail/release"] = (0o644, f"board={board}\nversion={version}\nparts=kernel initramfs\n"
                                          .encode())
    for path, (mode, data) in files.items():
        dest = os.path.join(work, path)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(data)
        os.chmod(dest, mode)
    extra = os.path.join(args.image, f"{name}-extra.cpio.gz")
    build_image.write_initramfs(extra, work, [])
    variant = os.path.join(args.image, f"initramfs-{name}.cpio.gz")
    with open(variant, "wb") as out:
        for part in (initrd, extra):
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out)
    os.unlink(extra)
    shutil.rmtree(work)
    try:
        return pack_firmware.pack(args.board, os.path.abspath(args.image), version, args.key, variant, name,
                                  update_only=True)["update"]
    except pack_firmware.PackError as e:
        raise BootTestError(f"cannot pack the test firmware {name}: {e}")


def multipart(fields, file_field, file_name, data):
    """A multipart/form-data body: the plain fields first (the CSRF token
    must come before the file), then the file. (content type, body)."""
    boundary = "----boottest" + os.urandom(8).hex()
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{file_name}"\r\n'
               f'Content-Type: application/octet-stream\r\n\r\n'.encode())
    out.append(data)
    out.append(f"\r\n--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(out)


def firmware_status(ports, tls_ctx, session):
    """The Firmware page's text (tags dropped)."""
    page, _ = panel_page(ports, tls_ctx, session, "/firmware")
    return page, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def upload_firmware(ports, tls_ctx, session, path):
    """POST the file to the Firmware page like the browser's form: (status, page text)."""
    page, _ = panel_page(ports, tls_ctx, session, "/firmware")
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    if not token:
        raise BootTestError(f"no csrf field on /firmware: {page[:300]!r}")
    with open(path, "rb") as f:
        data = f.read()
    ctype, body = multipart({"csrf": token.group(1)}, "firmware", os.path.basename(path), data)
    status, _, page, _ = web_request(ports["https"], "POST", PANEL + "/firmware", tls_ctx, body,
                                     {"Content-Type": ctype, "Cookie": session})
    refused = re.search(r'id="f-firmware-err">Refused: ([^<]*)', page)
    return status, (html.unescape(refused.group(1)) if refused else None), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def wait_reboot(console, start, timeout):
    """The guest rebooted by itself (u-boot's banner again after START on
    the console): the console offset of the new boot."""
    m = console.wait_for(r"U-Boot 20\d\d", timeout, start)
    return m.start()


def running_version(console, start):
    """The version and slot the guest says it runs (its console, from START)."""
    console.wait_for(r"Please press Enter to activate this console", 120, start)
    console.send("")
    time.sleep(0.5)
    out = console.run("sed -n 's/^version=//p' /usr/share/boxmail/release; "
                      "sed 's/.*boxmail.slot=\\([ab]\\).*/slot=\\1/' /proc/cmdline")
    v = re.search(r"^([A-Za-z0-9.+~_-]+)\r?$", out, re.M)
    slot = re.search(r"^slot=([ab])\r?$", out, re.M)
    return (v.group(1) if v else None), (slot.group(1) if slot else None)


def hostile_requests(console, figures):
    """What boxmail-web (the CGI's user, which owns the staging directory)
    can put there must not make root follow a link, install anything
    unsigned or reset the box: a request that is a link to /etc/shadow,
    an unknown factory-reset word, and `install` of a file that is not an
    update file. Each is removed and reported in root's result file; the
    box does not reboot."""
    web = "su -s /bin/sh boxmail-web -c"
    cases = [
        ("a link as the request", f"{web} 'ln -s /etc/shadow request'",
         "the panel's request was not a regular file: ignored"),
        ("an unknown reset word", f"{web} 'printf \"factory-reset everything\\n\" > request'",
         "factory reset 'everything' is not keep-mail or wipe: ignored"),
        ("an unsigned file", f"{web} 'echo junk > firmware.bin && printf \"install\\n\" > request'",
         "not installed: "),
    ]
    shadow = console.run("ls -l /etc/shadow | cut -c1-10")
    for what, command, said in cases:
        mark = len(console.text())
        out = console.run(f"cd /var/spool/boxmail-firmware && rm -f /run/boxmail/firmware-result && {command}; "
                          "i=0; while [ -e request ] || [ -L request ]; do sleep 1; i=$((i+1)); "
                          "[ $i -gt 20 ] && break; done; sleep 1; echo \"LEFT:$(ls -A | tr '\\n' ' ')\"; "
                          "echo \"RESULT:$(cat /run/boxmail/firmware-result)\"; cd /", timeout=60)
        left = re.search(r"^LEFT:(.*)$", out, re.M)
        result = re.search(r"^RESULT:(.*)$", out, re.M)
        if not left or not result or left.group(1).strip() or said not in result.group(1):
            raise BootTestError(f"[upgrade] {what} in the staging directory: {out!r}")
        acted = console.text()[mark:]
        if "U-Boot" in acted or ("firmware: installing" in acted and "install" not in command):
            raise BootTestError(f"[upgrade] {what}: the box acted on it: {acted[-2000:]}")
    if console.run("ls -l /etc/shadow | cut -c1-10") != shadow:
        raise BootTestError("[upgrade] /etc/shadow changed while the web user's requests were handled")
    figure(figures, "hostile_requests", "a link to /etc/shadow as the request, an unknown reset word and an "
           "unsigned file, each written as the web user: removed and refused by root's watcher, no reboot")


def upgrade_tests(guest, tls_ctx, admin, figures, args):
    """On the box as the storage tests left it (booted through u-boot from
    now on): mail and a setting; an upgrade through the panel to a new
    version (it must run, from the other slot, with the mail and the
    setting); a tampered file refused; a firmware whose boxmaild cannot
    start (the box must come back on the good slot by itself); a factory
    reset from the panel."""
    ports = guest.ports
    initrd = guest.initrd
    v2, v3 = args.version + ".upgrade", args.version + ".broken"
    good = test_firmware(args, initrd, "boot-test-2", v2, {})
    broken = test_firmware(args, initrd, "boot-test-3", v3, {
        "usr/sbin/boxmaild": (0o755, b"#!/bin/sh\necho 'boxmaild: the boot test\'s broken firmware' >&2\nexit 1\n")})
    tampered = good + ".tampered"
    with open(good, "rb") as f:
        data = bytearray(f.read())
    data[len(data) - 1000] ^= 0x01        # one octet of the last part (the initramfs)
    with open(tampered, "wb") as f:
        f.write(data)
    figures["update_file_bytes"] = os.path.getsize(good)

    qemu, console, t0 = guest.start("upgrade", deadline=UPGRADE_DEADLINE)
    wait_greeting(ports["smtp"], t0, t0 + BOOT_DEADLINE, qemu)
    version, slot = running_version(console, 0)
    if version != args.version or slot != "a":
        raise BootTestError(f"[upgrade] the box runs {version} from slot {slot}, not {args.version} from a")
    # mail and a setting, to be found after each upgrade
    messages = [power_cut_message(f"upgrade-{n}", n) for n in range(UPGRADE_MESSAGES)]
    client = corpus.FeedClient(ports["smtp"], timeout=60)
    refused = client.connect()
    if refused:
        raise BootTestError(f"[upgrade] SMTP session refused: {refused}")
    for m in messages:
        stage, code, text = client.send_message("feed@relay.isp.example", [f"{DEMO_USER}@box.example"],
                                                boxtest.to_crlf_dotstuffed(m))
        if stage != "final" or code != 250:
            raise BootTestError(f"[upgrade] a message refused: {stage} {code} {text}")
    client.quit()
    expected = [corpus.stored_form(m) for m in messages]
    session = panel_login(ports, tls_ctx, admin)
    if not session:
        raise BootTestError("[upgrade] the admin login is refused")
    panel_add_alias(ports, tls_ctx, session, PERSIST_ALIAS, DEMO_USER)

    # -- a hostile web user (the CGI's uid) talking to root's watcher --------
    hostile_requests(console, figures)

    # -- a tampered file: refused, nothing changes ---------------------------
    mark = len(console.text())
    status, refused, text = upload_firmware(ports, tls_ctx, session, tampered)
    if status != 200 or not refused or "firmware: installing" in console.text()[mark:]:
        log = console.run("logread | tail -n 15; ls -la /var/spool/boxmail-firmware")
        raise BootTestError(f"[upgrade] the tampered update file: {status} {text[:3000]}\nguest log:\n{log}")
    figure(figures, "tampered", f"refused on the Firmware page: {refused}")
    time.sleep(2 * 2 + 1)   # the root side polls every 2 s: it must find no request
    if "firmware: installing" in console.text()[mark:]:
        raise BootTestError("[upgrade] the box began to install the tampered file")

    # -- the upgrade: upload, install into slot b, reboot, confirm -------------
    t_up = time.monotonic()
    mark = len(console.text())
    status, refused, text = upload_firmware(ports, tls_ctx, session, good)
    t_uploaded = time.monotonic()
    if status != 200 or refused:
        raise BootTestError(f"[upgrade] the upload of {v2}: {status} {text[:500]}")
    boot2 = wait_reboot(console, mark, 300)
    t_reboot = time.monotonic()
    m = console.wait_for(r"boxmail: booting slot (\w) \(active (\w), trial (\w*), boot (\d)\)", 60, boot2)
    if m.groups() != ("b", "a", "b", "1"):
        raise BootTestError(f"[upgrade] after the install u-boot says: {m.group(0)}")
    wait_greeting(ports["smtp"], t_reboot, t_reboot + BOOT_DEADLINE, qemu)
    t_new = time.monotonic()
    console.wait_for(r"firmware: slot b confirmed", 120, boot2)
    version, slot = running_version(console, boot2)
    if version != v2 or slot != "b":
        raise BootTestError(f"[upgrade] after the upgrade the box runs {version} from slot {slot}")
    same_messages(pop3_messages(ports, tls_ctx, DEMO_USER, DEMO_PASSWORD), expected, "after the upgrade")
    check_alias(ports, tls_ctx, admin, True, "after the upgrade")
    session = panel_login(ports, tls_ctx, admin)
    _, text = firmware_status(ports, tls_ctx, session)
    if v2 not in text:
        raise BootTestError(f"[upgrade] the Firmware page does not show {v2}: {text[:500]}")
    figures["upgrade"] = {"upload_s": round(t_uploaded - t_up, 1), "install_and_reboot_s": round(t_reboot - t_uploaded, 1),
                          "upload_to_new_greeting_s": round(t_new - t_up, 1)}
    figure(figures, "upgrade_text", f"{v2}: upload {t_uploaded - t_up:.1f} s, install until the reboot "
           f"{t_reboot - t_uploaded:.1f} s, upload start to the new version's greeting {t_new - t_up:.1f} s; "
           f"slot b confirmed, {len(expected)} messages and the alias kept")

    # -- a firmware that cannot start boxmaild: back to slot b by itself -------
    mark = len(console.text())
    t_bad = time.monotonic()
    status, refused, text = upload_firmware(ports, tls_ctx, session, broken)
    if status != 200 or refused:
        raise BootTestError(f"[upgrade] the upload of {v3}: {status} {text[:500]}")
    boots = []
    at = mark
    for n in (1, 2, 3):
        at = wait_reboot(console, at, 300)
        m = console.wait_for(r"boxmail: booting slot (\w) \(active (\w), trial (\w*), boot (\d)\)", 60, at)
        boots.append(m.group(0))
        if m.groups() != ("a", "b", "a", str(n)):
            raise BootTestError(f"[upgrade] boot {n} of the broken firmware: u-boot says {m.group(0)}")
        console.wait_for(r"firmware: slot a is on trial and unhealthy", 240, at)
        at += 1
    at = wait_reboot(console, at, 300)
    console.wait_for(r"boxmail: slot a did not come up in 3 boots: back to slot b", 60, at)
    m = console.wait_for(r"boxmail: booting slot (\w) \(active (\w), trial (\w*), boot (\d)\)", 60, at)
    if m.group(1) != "b":
        raise BootTestError(f"[upgrade] after three failed boots u-boot says {m.group(0)}")
    t_back = time.monotonic()
    wait_greeting(ports["smtp"], t_back, t_back + BOOT_DEADLINE, qemu)
    t_fallback = time.monotonic() - t_bad
    version, slot = running_version(console, at)
    if version != v2 or slot != "b":
        raise BootTestError(f"[upgrade] after the fallback the box runs {version} from slot {slot}")
    same_messages(pop3_messages(ports, tls_ctx, DEMO_USER, DEMO_PASSWORD), expected, "after the fallback")
    session = panel_login(ports, tls_ctx, admin)
    _, text = firmware_status(ports, tls_ctx, session)
    if v3 not in text and "did not come up" not in text:
        raise BootTestError(f"[upgrade] the Firmware page does not report the failed {v3}: {text[:600]}")
    figure(figures, "fallback", f"{v3} (boxmaild exits at once): 3 boots of slot a, then slot b ({v2}) again "
           f"by itself, {t_fallback:.1f} s from the upload to the old version's greeting; mail kept")

    # -- factory reset from the panel, keeping the mail ------------------------
    page, _ = firmware_status(ports, tls_ctx, session)
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    body = urllib.parse.urlencode({"csrf": token.group(1), "password": admin, "choice": "keep-mail"})
    mark = len(console.text())
    status, _, page, _ = web_request(ports["https"], "POST", PANEL + "/firmware/reset", tls_ctx, body,
                                     {"Content-Type": "application/x-www-form-urlencoded", "Cookie": session})
    if status not in (200, 303):
        raise BootTestError(f"[upgrade] POST /firmware/reset: {status} {page[:300]}")
    at = wait_reboot(console, mark, 120)
    console.wait_for(r"data: factory reset: \d+ settings entries", 120, at)
    t = time.monotonic()
    wait_greeting(ports["smtp"], t, t + BOOT_DEADLINE, qemu)
    wait_https(ports, tls_ctx, t, "panel-reset")   # lighttpd starts once boxmaild made its new certificate
    m = re.findall(r"web panel login \(user admin; password shown only now\):\s*password: (\S+)",
                   console.text()[at:])
    if not m or m[-1] == admin:
        raise BootTestError("[upgrade] the factory reset from the panel printed no new admin password")
    same_messages(pop3_messages(ports, tls_ctx, DEMO_USER, DEMO_PASSWORD), expected,
                  "after the factory reset from the panel")
    if panel_login(ports, tls_ctx, admin) is not None:
        raise BootTestError("[upgrade] after the factory reset from the panel the old admin password logs in")
    check_alias(ports, tls_ctx, m[-1], False, "after the factory reset from the panel")
    figure(figures, "panel_factory_reset", "keep-mail from the panel: new admin password, alias gone, "
           f"{len(expected)} messages kept")
    guest.poweroff(console)


def check_failed_fsck(guest, tls_ctx, figures):
    """A data partition that e2fsck -p cannot repair (the demo Maildir's
    inode cleared with the host's debugfs: its subdirectories lose their
    parent, and the superblock marked as
    having errors, as the kernel marks it when it finds one): the box must
    mount it read-only and refuse mail (no SMTP greeting); a factory reset
    that wipes brings it back."""
    debugfs = shutil.which("debugfs") or "/usr/sbin/debugfs"
    if not os.path.exists(debugfs):
        raise BootTestError("debugfs (e2fsprogs) is not installed on the host")
    data = guest.disk + ".data"
    copy_partition(guest.disk, 2, data)
    for request in (f"clri /var/mail/{DEMO_USER}", "ssv state 2"):
        p = subprocess.run([debugfs, "-w", "-R", request, data], capture_output=True, text=True, timeout=60)
        said = [line for line in p.stderr.splitlines() if line.strip() and not line.startswith("debugfs 1.")]
        if p.returncode != 0 or said:   # debugfs exits 0 after a failed request; it says so on stderr
            raise BootTestError(f"debugfs -R '{request}' on the data partition: {p.stderr}")
    write_partition(guest.disk, 2, data)
    os.unlink(data)
    name = "fsck-fails"
    qemu, console, t0 = guest.start(name)
    state = console.wait_for(r"data: state (\w+)", BOOT_DEADLINE).group(1)
    rc = re.search(r"data: fsck /dev/vda2: exit (\d+)", console.text())
    if state != "ro" or not rc or int(rc.group(1)) < 4:
        raise BootTestError(f"[{name}] a Maildir's inode cleared: state {state}, e2fsck {rc and rc.group(1)} "
                            f"(read-only and exit >= 4 expected):\n{console.text()[-3000:]}")
    console.wait_for(r"Please press Enter to activate this console", 60)
    time.sleep(5)   # boxmaild would be listening by now
    if greets(guest.ports["smtp"], 5, qemu):
        raise BootTestError(f"[{name}] the box greets on SMTP with its data partition read-only")
    guest.poweroff(console)
    console, greeting = guest.boot("fsck-fails-wipe", "boxmail.factory_reset=wipe")
    data_state(console, "fsck-fails-wipe", fresh=True)
    if pop3_messages(guest.ports, tls_ctx, DEMO_USER, DEMO_PASSWORD):
        raise BootTestError("after the wipe of a damaged partition the mailbox is not empty")
    admin = printed_admin_password(console)
    if not admin:
        raise BootTestError("after the wipe of a damaged partition no admin password was printed")
    guest.poweroff(console)
    figure(figures, "failed_fsck", f"e2fsck -p exit {rc.group(1)}: mounted read-only, no SMTP greeting; a "
           f"factory reset (wipe) brought the box back (greeting {greeting} s)")
    return admin


def greets(port, seconds, qemu):
    """Whether a 220 greeting comes on port within seconds."""
    try:
        wait_greeting(port, time.monotonic(), time.monotonic() + seconds, qemu)
        return True
    except BootTestError:
        return False


def print_power_cuts(table):
    print("boot-test: power cuts (SIGKILL of QEMU while 2 SMTP clients feed; disk cache=writethrough)\n"
          "| round | cut after s | acknowledged (round / total) | found | duplicates | found, not acknowledged (total) "
          "| guest e2fsck -p | journal | host e2fsck -f |\n|---|---|---|---|---|---|---|---|---|\n" +
          "".join(f"| {r['round']} | {r['cut_after_s']} | {r['acked_round']} / {r['acked_total']} | {r['found']} | "
                  f"{r['duplicates']} | {r['unacked_found']} | {r['e2fsck']} | {r['journal']} | {r['host_fsck']} |\n"
                  for r in table), flush=True)


def pop3_greets(port, timeout=4.0):
    """True when a POP3 connection through the forwarded port gets "+OK"
    within TIMEOUT s; False when it gets nothing (the guest's table drops
    the forwarded connection's SYN, QEMU's user network then closes or
    keeps silent)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            return s.recv(64).startswith(b"+OK")
    except OSError:
        return False


def ban_from_host(console, ports, tls_ctx, figures):
    """Issue 11's step: failed POP3 logins from the host over the forwarded
    port (the guest sees them from QEMU's gateway address) get the host
    auto-banned; the address shows up in the guest's set banned4 (listed
    with `boxmail-fw show`, the image has no nft program), the forwarded
    POP3 port goes silent while the panel (not a mail port) still answers,
    and `boxmailctl unban` lets the host in again. Run last: the ban cuts
    the host off every mail port."""
    out = console.run("/usr/sbin/boxmail-fw show")
    for want in ("table inet boxmail", "set banned4", "set allow4", "counter banned_drops"):
        if want not in out:
            raise BootTestError(f"`boxmail-fw show` in the guest does not list {want!r}:\n{out}")
    t = time.monotonic()
    attempts = 0
    while pop3_greets(ports["pop3"]):
        if attempts >= 30:
            raise BootTestError(f"{attempts} failed POP3 logins from the host did not get it banned")
        p3 = poplib.POP3("127.0.0.1", ports["pop3"], timeout=60)
        try:
            if "STLS" in p3.capa():
                p3.stls(context=tls_ctx)
            p3.user(DEMO_USER)
            p3.pass_("not-" + DEMO_PASSWORD)
            raise BootTestError("a wrong POP3 password was accepted")
        except poplib.error_proto:
            attempts += 1
        finally:
            try:
                p3.quit()
            except (OSError, poplib.error_proto):
                pass
    figures["ban_after_failed_logins"] = attempts
    figures["ban_s"] = round(time.monotonic() - t, 1)
    out = console.run("boxmailctl -c /etc/boxmail/boxmail.ini bans; /usr/sbin/boxmail-fw show")
    ban = re.search(r"^(\S+)\s+(\d+)\s+login\s*$", out, re.M)
    if not ban:
        raise BootTestError(f"the host's failed logins did not show up in `boxmailctl bans`:\n{out}")
    host = ban.group(1)
    if not re.search(r"set banned4 \{.*elements = \{[^}]*\b" + re.escape(host) + r" timeout", out, re.S):
        raise BootTestError(f"{host} is banned by boxmaild but not in the guest's set banned4:\n{out}")
    if not re.search(r"counter banned_drops \{\s*packets [1-9]", out):
        raise BootTestError(f"the guest's counter banned_drops counted nothing:\n{out}")
    if served_fingerprint(ports["https"], tls_ctx) is None:
        raise BootTestError("the panel's HTTPS does not answer the banned host (it is not a mail port)")
    print(f"boot-test: {attempts} failed POP3 logins from the host over the forwarded port: {host} is in the "
          f"guest's banned4 after {figures['ban_s']} s, the POP3 port is silent, the panel still answers",
          flush=True)
    out = console.run(f"boxmailctl -c /etc/boxmail/boxmail.ini unban {host}")
    t = time.monotonic()
    while not pop3_greets(ports["pop3"]):
        if time.monotonic() - t > 30:
            raise BootTestError(f"POP3 still silent 30 s after `boxmailctl unban {host}`: {out}")
        time.sleep(0.5)
    figures["firewall_ban"] = f"{host} banned after {attempts} failed POP3 logins, then unbanned"
    print(f"boot-test: `boxmailctl unban {host}` lets the host in again", flush=True)


def check_sizes(build, image_dir, figures):
    usr = os.path.join(build, "stage", "usr")
    for p in ("lib/boxmail/boxmail", "sbin/boxmail-fw"):
        f = os.path.join(usr, p)
        if os.path.isfile(f) and not os.path.islink(f):
            figures[f"{os.path.basename(p)}_stripped_bytes"] = os.path.getsize(f)
    size = figures.get("boxmail_stripped_bytes")
    if size is None:
        raise BootTestError(f"{usr}/lib/boxmail/boxmail is missing (make cross ARCH=aarch64)")
    for p in ("sbin/boxmaild", "bin/boxmailctl", "lib/boxmail/boxmail.cgi"):
        f = os.path.join(usr, p)
        if not os.path.islink(f) or os.path.realpath(f) != os.path.realpath(os.path.join(usr, "lib/boxmail/boxmail")):
            raise BootTestError(f"{f} is not a link to the multi-call program lib/boxmail/boxmail")
    if size >= BOXMAIL_LIMIT:
        raise BootTestError(f"boxmail (boxmaild, boxmailctl, boxmail.cgi) is {size} bytes stripped, "
                            f"over its {BOXMAIL_LIMIT} limit")
    initramfs = os.path.join(image_dir, "initramfs.cpio.gz")
    figures["initramfs_bytes"] = os.path.getsize(initramfs)
    if figures["initramfs_bytes"] >= INITRAMFS_LIMIT:
        raise BootTestError(f"{initramfs} is {figures['initramfs_bytes']} bytes, over the 8 MB target")


def has_pop3(build):
    boxmaild = os.path.join(build, "stage", "usr", "sbin", "boxmaild")
    p = subprocess.run(["qemu-aarch64", boxmaild, "--print-schema"], capture_output=True, timeout=60)
    if p.returncode != 0:
        raise BootTestError(f"boxmaild --print-schema under qemu-aarch64 failed: {p.stderr[-500:]!r}")
    return b"pop3" in p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--board", required=True)
    ap.add_argument("--image", required=True, help="make image's output dir")
    ap.add_argument("--build", required=True, help="the cross build dir (with stage/)")
    ap.add_argument("--corpus", required=True, help="corpus cache dir")
    ap.add_argument("--keep", action="store_true", help="leave the console log")
    ap.add_argument("--power-cuts", type=int, default=3, help="power-cut rounds (SIGKILL of QEMU while mail is fed)")
    ap.add_argument("--seed", type=int, default=None, help="the power cuts' random moments (default: random)")
    ap.add_argument("--key", required=True, help="the key the image takes update files from (FIRMWARE_KEY)")
    args = ap.parse_args()
    t_start = time.monotonic()
    figures = {}
    qemu = None
    guest = None
    try:
        for tool in ("qemu-system-aarch64", "qemu-aarch64"):
            if shutil.which(tool) is None:
                raise BootTestError(f"{tool} is not installed (make deps installs qemu-system-arm, qemu-user)")
        kernel = os.path.join(args.image, "Image")
        if not (os.path.isfile(kernel) and os.path.isfile(os.path.join(args.image, "initramfs.cpio.gz"))):
            raise BootTestError(f"no image in {args.image}: `make image BOARD=qemu-aarch64` failed or "
                                "was not run (the kernel or busybox package could not be fetched?)")
        check_sizes(args.build, args.image, figures)
        # The version the image was built with (build_image.py's sizes.txt).
        with open(os.path.join(args.image, "sizes.txt")) as f:
            built = re.search(r"^version=(\S+)$", f.read(), re.M)
        if not built:
            raise BootTestError(f"{args.image}/sizes.txt names no version: rebuild the image (make image)")
        args.version = built.group(1)
        pop3 = has_pop3(args.build)
        p = subprocess.run([sys.executable, os.path.join(SOURCE, "board", "common", "build_image.py"),
                            "--board", args.board, "--out", args.image,
                            "--extra-overlay", os.path.join(HERE, "overlay")], capture_output=True, text=True)
        if p.returncode != 0:
            raise BootTestError(f"cannot append the test overlay: {p.stderr}")
        initrd = os.path.join(args.image, "initramfs-test.cpio.gz")

        try:
            files = corpus.ensure_corpus(args.corpus)
        except corpus.CorpusError as e:
            raise BootTestError(f"corpus: {e}")
        messages = pick_messages(files, MESSAGES)

        ports = {"smtp": free_port(), "pop3": free_port(), "http": free_port(), "https": free_port()}
        # The box's disk as `make image` makes it (pack_firmware.py): the
        # boot partition with this test image in slot a, a blank data
        # partition (the first boot makes its file system).
        try:
            packed = pack_firmware.pack(args.board, os.path.abspath(args.image), args.version, args.key,
                                        initrd, "boot-test-1")
        except pack_firmware.PackError as e:
            raise BootTestError(f"cannot make the test's disk: {e}")
        disk = packed["disk"]
        figures["disk_bytes"] = os.path.getsize(disk)
        guest = Guest(packed["bios"], kernel, initrd, disk, ports, args.image)
        qemu, console, t0 = guest.start("first-boot", deadline=RUN_DEADLINE)
        figures["greeting_s"] = round(wait_greeting(ports["smtp"], t0, t0 + BOOT_DEADLINE, qemu), 2)
        print(f"boot-test: first SMTP greeting {figures['greeting_s']} s after QEMU start (first boot: "
              "the data partition's file system made)", flush=True)
        if not re.search(r"data: made an ext4 file system on /dev/vda2", console.text()) or \
                not re.search(r"data: state rw ", console.text()):
            raise BootTestError("the first boot did not make and mount the data partition:\n" + console.text()[-3000:])

        # -- SMTP: real corpus messages ------------------------------------
        client = corpus.FeedClient(ports["smtp"], timeout=60)
        refused = client.connect()
        if refused:
            raise BootTestError(f"SMTP session refused: {refused}")
        t = time.monotonic()
        for path, data in messages:
            stage, code, text = client.send_message("feed@relay.isp.example", [f"{DEMO_USER}@box.example"],
                                                    boxtest.to_crlf_dotstuffed(data))
            if stage != "final" or code != 250:
                raise BootTestError(f"{corpus.name_of(path)}: {stage} refused: {code} {text}")
        client.quit()
        figures["smtp_messages"] = len(messages)
        figures["smtp_bytes"] = sum(len(d) for _, d in messages)
        figures["smtp_s"] = round(time.monotonic() - t, 2)
        print(f"boot-test: {len(messages)} corpus messages ({figures['smtp_bytes']} bytes) accepted "
              f"over SMTP in {figures['smtp_s']} s", flush=True)

        # -- TLS: STARTTLS from the host --------------------------------------
        # The certificate is the guest's own, made on this first boot: not
        # verifiable from here, so compared with the guest's log below.
        tls_ctx = ssl.create_default_context()
        tls_ctx.check_hostname = False
        tls_ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=60) as c:
            c.starttls(context=tls_ctx)
            der = c.sock.getpeercert(binary_form=True)
            version, cipher = c.sock.version(), c.sock.cipher()[0]
            code, _ = c.ehlo("boot-test.example")
            if code != 250 or not c.has_extn("auth"):
                raise BootTestError("EHLO after STARTTLS: no 250 with AUTH")
        host_fp = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
        if version != "TLSv1.2" or not re.match(r"ECDHE-(ECDSA|RSA)-(AES\d+-GCM|CHACHA20-POLY1305)", cipher):
            raise BootTestError(f"STARTTLS negotiated {version} {cipher}")
        figures["starttls"] = f"{version} {cipher}"
        print(f"boot-test: SMTP STARTTLS {version} {cipher}, certificate SHA-256 {host_fp}", flush=True)

        # -- POP3: byte-exact ----------------------------------------------
        if pop3:
            expected = {corpus.stored_form(d) for _, d in messages}
            p3 = poplib.POP3("127.0.0.1", ports["pop3"], timeout=60)
            stls = "STLS" in p3.capa()
            if stls:
                p3.stls(context=tls_ctx)
            p3.user(DEMO_USER)
            p3.pass_(DEMO_PASSWORD)
            count, _ = p3.stat()
            if count != len(messages):
                raise BootTestError(f"POP3 STAT says {count} messages, {len(messages)} were sent")
            got = set()
            for line in p3.list()[1]:
                num, size = (int(x) for x in line.split())
                _, lines, octets = p3.retr(num)
                stored = b"\n".join(lines) + b"\n"
                if octets != size:
                    raise BootTestError(f"POP3 message {num}: LIST says {size} octets, RETR sent {octets}")
                _, body = boxtest.split_stored(stored)
                if body not in expected:
                    raise BootTestError(f"POP3 message {num} does not match any message sent: {stored[:300]!r}")
                got.add(body)
            p3.quit()
            if got != expected:
                raise BootTestError(f"POP3 returned {len(got)} distinct messages of {len(expected)}")
            figures["pop3"] = f"{len(got)} messages byte-exact ({'after STLS' if stls else 'in the clear: no STLS in this build'})"
            print(f"boot-test: POP3 retrieved all {len(got)} messages byte-exact", flush=True)
        else:
            figures["pop3"] = "not in this boxmaild (no [pop3] in --print-schema)"
            print("boot-test: POP3 not checked: the built boxmaild has no POP3 server yet", flush=True)

        # -- the panel: HTTPS, and HTTP redirects --------------------------
        # lighttpd starts once boxmaild has made its certificate: wait for it.
        while served_fingerprint(ports["https"], tls_ctx) is None:
            if time.monotonic() - t0 > BOOT_DEADLINE:
                raise BootTestError(f"no HTTPS on the guest's port 443 within {BOOT_DEADLINE:.0f} s of QEMU start")
            time.sleep(0.25)
        figures["https_ready_s"] = round(time.monotonic() - t0, 2)
        print(f"boot-test: the panel's HTTPS answers {figures['https_ready_s']} s after QEMU start", flush=True)
        admin = re.search(r"web panel login \(user admin; password shown only now\):\s*password: (\S+)",
                          console.text())
        if not admin:
            raise BootTestError("the first boot did not print the panel's admin password on the console")
        session = check_panel(ports, tls_ctx, host_fp, admin.group(1), figures)
        # a setting changed on the panel, to be found after the reboot
        panel_add_alias(ports, tls_ctx, session, PERSIST_ALIAS, DEMO_USER)

        # -- the guest's own figures, on the serial console ----------------
        console.wait_for(r"Please press Enter to activate this console", 30)
        console.send("")
        time.sleep(1)
        out = console.run("grep -E '^(MemTotal|MemFree|MemAvailable):' /proc/meminfo; "
                          "for p in $(pidof boxmaild); do grep VmRSS /proc/$p/status; done; "
                          "for p in $(pidof lighttpd); do w=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$p/status); "
                          "for q in $p $w; do echo web-mem $(awk '/^(Rss|Pss|Anonymous):/ "
                          "{ v[$1] = $2 } END { print v[\"Rss:\"], v[\"Pss:\"], v[\"Anonymous:\"] }' "
                          "/proc/$q/smaps_rollup) $(tr '\\0' ' ' < /proc/$q/cmdline); "
                          "done; done; "
                          "for p in $(pidof boxmail-fw); do echo fw-mem $(awk '/^(Rss|Pss|Anonymous):/ "
                          "{ v[$1] = $2 } END { print v[\"Rss:\"], v[\"Pss:\"], v[\"Anonymous:\"] }' "
                          "/proc/$p/smaps_rollup) $(awk '/^(Uid|CapEff):/ { print $2 }' /proc/$p/status); done; "
                          "/usr/sbin/boxmail-fw check; echo fw-rc=$?; "
                          "time -v /usr/sbin/boxmail-fw check 2>&1 | grep -i 'maximum resident'; "
                          "uname -r")
        mem = {k: int(v) for k, v in re.findall(r"^(Mem\w+):\s+(\d+) kB", out, re.M)}
        rss = [int(v) for v in re.findall(r"^VmRSS:\s+(\d+) kB", out, re.M)]
        # RSS, PSS (shared pages divided among their users) and anonymous
        # KiB (what the process alone adds: heap, stacks, written data; the
        # rest are program and library pages, which are in the RAM-backed
        # root file system anyway) of lighttpd, then of the shell that
        # watches the certificate for it.
        web = re.findall(r"^web-mem (\d+) (\d+) (\d+) (.*)$", out, re.M)
        if not mem or len(rss) != 1:
            raise BootTestError(f"cannot read memory figures from the guest console:\n{out}")
        if len(web) != 2 or "lighttpd" not in web[0][3] or "boxmail httpd" not in web[1][3]:
            raise BootTestError(f"no lighttpd under `/etc/init.d/boxmail httpd` in the guest:\n{out}")
        figures.update(guest_mem_total_kib=mem.get("MemTotal"), guest_mem_free_kib=mem.get("MemFree"),
                       guest_mem_available_kib=mem.get("MemAvailable"), boxmaild_rss_kib=rss[0])
        for name, (r_kib, pss_kib, anon_kib, _) in zip(("lighttpd", "lighttpd_watcher"), web):
            figures.update({f"{name}_rss_kib": int(r_kib), f"{name}_pss_kib": int(pss_kib),
                            f"{name}_anonymous_kib": int(anon_kib)})
        # The resident firewall helper ([firewall] enabled in the image's
        # INI; docs/firewall.md): RSS, PSS, anonymous KiB, its uid and CapEff.
        helper = re.search(r"^fw-mem (\d+) (\d+) (\d+) (\d+) ([0-9a-f]+)$", out, re.M)
        if helper:
            figures.update(boxmail_fw_rss_kib=int(helper.group(1)), boxmail_fw_pss_kib=int(helper.group(2)),
                           boxmail_fw_anonymous_kib=int(helper.group(3)))
            print(f"boot-test: resident boxmail-fw RSS/PSS/anonymous {helper.group(1)}/{helper.group(2)}/"
                  f"{helper.group(3)} KiB, uid {helper.group(4)}, CapEff {helper.group(5)}; with boxmaild "
                  f"{rss[0] + int(helper.group(1))} KiB RSS", flush=True)
        else:
            raise BootTestError(f"no resident boxmail-fw in the guest (the image's INI enables [firewall]):\n{out}")
        fw = re.search(r"^boxmail-fw: (.*)$", out, re.M)
        # The appliance's INI turns the firewall on: its table must be
        # there (a missing kernel module fails the helper's apply).
        if helper and fw and "(0 tables" in fw.group(1):
            raise BootTestError("the firewall helper runs but its table inet boxmail is not in the guest's "
                                "ruleset (`boxmail-fw check`: " + fw.group(1) + "); see its log line on the console")
        figures["boxmail_fw_check"] = fw.group(1) if fw else "no output"
        peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", out)
        figures["boxmail_fw_peak_rss_kib"] = int(peak.group(1)) if peak else None
        if "fw-rc=0" not in out:
            print(f"boot-test: note: boxmail-fw check failed in the guest: {figures['boxmail_fw_check']}",
                  flush=True)
        print(f"boot-test: guest memory {mem}; boxmaild RSS {rss[0]} KiB; lighttpd RSS/PSS/anonymous "
              f"{figures['lighttpd_rss_kib']}/{figures['lighttpd_pss_kib']}/{figures['lighttpd_anonymous_kib']} "
              f"KiB (its watcher shell {figures['lighttpd_watcher_rss_kib']}/{figures['lighttpd_watcher_pss_kib']}/"
              f"{figures['lighttpd_watcher_anonymous_kib']} KiB); "
              f"boxmail-fw check: {figures['boxmail_fw_check']} (peak RSS {figures['boxmail_fw_peak_rss_kib']} KiB)",
              flush=True)
        if rss[0] >= RSS_LIMIT_KIB:
            raise BootTestError(f"boxmaild's RSS in the guest is {rss[0]} KiB, over the 4 MiB target")

        # -- who runs as what (docs/security.md) ----------------------------
        out = console.run("grep -E '^boxmail(-web)?:' /etc/passwd; "
                          "for p in $(pidof boxmaild); do echo boxmaild; "
                          "grep -E '^(Uid|Gid|Groups|CapEff|CapPrm|CapBnd|NoNewPrivs):' /proc/$p/status; done; "
                          "for p in $(pidof lighttpd); do echo web-server; grep -E '^(Uid|CapEff):' /proc/$p/status; done")
        ids = {m.group(1): m.group(2) for m in re.finditer(r"^(boxmail(?:-web)?):x:(\d+):", out, re.M)}
        daemon = out.split("boxmaild", 1)[-1].split("web-server", 1)[0] if "boxmaild" in out else ""
        fields = {k: v.split() for k, v in re.findall(r"^(\w+):\s+(.*)$", daemon, re.M)}
        httpd = re.findall(r"^web-server\s*\nUid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\nCapEff:\s+([0-9a-f]+)", out, re.M)
        problems = []
        if set(ids) != {"boxmail", "boxmail-web"}:
            problems.append(f"accounts {ids}")
        elif fields.get("Uid") != [ids["boxmail"]] * 4:
            problems.append(f"boxmaild Uid {fields.get('Uid')}, not boxmail's {ids['boxmail']}")
        for cap in ("CapEff", "CapPrm", "CapBnd"):
            if not fields.get(cap) or int(fields[cap][0], 16) != 0:
                problems.append(f"boxmaild {cap} {fields.get(cap)}")
        if fields.get("NoNewPrivs") != ["1"]:
            problems.append(f"boxmaild NoNewPrivs {fields.get('NoNewPrivs')}")
        if len(httpd) != 1 or list(httpd[0][:4]) != [ids.get("boxmail-web")] * 4 or int(httpd[0][4], 16) != 0:
            problems.append(f"lighttpd Uid/CapEff {httpd}, not boxmail-web's {ids.get('boxmail-web')} without "
                            "capabilities")
        if problems:
            raise BootTestError("privileges in the guest: " + "; ".join(problems) + f"\nconsole:\n{out}")
        figures["privileges"] = (f"boxmaild uid {ids['boxmail']} (boxmail), CapEff/CapBnd 0, NoNewPrivs 1; "
                                 f"lighttpd uid {ids['boxmail-web']} (boxmail-web), CapEff 0")
        print(f"boot-test: {figures['privileges']}", flush=True)

        # -- the certificate made on first boot ------------------------------
        out = console.run("logread | grep -E 'self-signed certificate|TLS certificate'; ls -ln /etc/boxmail/tls")
        made = re.search(r"made a self-signed certificate for (\S+) in \S+ \(key \S+, (\d+) ms\)", out)
        loaded = re.search(r"TLS certificate loaded: .*SHA-256 ([0-9A-F:]+)\)", out)
        key = re.search(r"^-rw-------\s+\d+\s+(\d+)\s+\d+\s+\d+.*key\.pem$", out, re.M)
        if not made or not loaded:
            raise BootTestError(f"no certificate lines in the guest's log:\n{out}")
        if loaded.group(1) != host_fp:
            raise BootTestError(f"the guest loaded {loaded.group(1)}, the host was served {host_fp}")
        if not key or key.group(1) != ids["boxmail"]:
            raise BootTestError(f"the key is not 0600 owned by boxmail ({ids['boxmail']}):\n{out}")
        figures["certificate_ms"] = int(made.group(2))
        print(f"boot-test: first boot made a self-signed certificate for {made.group(1)} in "
              f"{made.group(2)} ms; key 0600 owned by boxmail", flush=True)

        # -- a replaced certificate reaches the panel's HTTPS -----------------
        cert_fp = replace_certificate(console, ports, tls_ctx, figures)

        # -- the firewall: a ban from the host (last: it cuts the host off) ---
        ban_from_host(console, ports, tls_ctx, figures)

        # -- power off -----------------------------------------------------
        console.send("poweroff")
        try:
            qemu.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise BootTestError("the guest did not power off within 60 s of `poweroff`")
        figures["qemu_total_s"] = round(time.monotonic() - t0, 1)
        print(f"boot-test: guest powered off; QEMU ran {figures['qemu_total_s']} s", flush=True)
        if not re.search(r"data: state rw \(/dev/vda2 on /data: (\d+) KiB used, (\d+) KiB free\)", console.text()):
            raise BootTestError("no data partition state on the console")
        used, free = (int(x) for x in re.search(r"data: state rw \(/dev/vda2 on /data: (\d+) KiB used, "
                                                r"(\d+) KiB free\)", console.text()).groups())
        figures["data_disk_kib"] = partition(disk, 2)[1] // 1024
        figures["data_fs_free_after_mkfs_kib"] = free
        qemu = guest.qemu = None

        # -- the data partition: reboots, factory resets, power cuts ---------
        expected = [corpus.stored_form(d) for _, d in messages]
        admin_now = storage_tests(guest, tls_ctx, cert_fp, admin.group(1), expected, figures, args)

        # -- firmware upgrades through the panel, the fallback, the reset ---
        upgrade_tests(guest, tls_ctx, admin_now, figures, args)
    except (BootTestError, AssertionError, OSError, corpus.ConnectionCut, poplib.error_proto) as e:
        print(f"boot-test: FAILED: {e}", file=sys.stderr)
        if qemu is not None and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if guest is not None:
            guest.kill()
        log = guest.log if guest is not None else os.path.join(args.image, "boot-test-console.log")
        if os.path.isfile(log):
            with open(log, "rb") as f:
                tail = f.read()[-4000:].decode("utf-8", "replace")
            print(f"---- guest console (tail of {log}) ----\n{tail}", file=sys.stderr)
        return 1
    finally:
        if qemu is not None and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        if guest is not None:
            guest.kill()
    if figures["greeting_s"] > GREETING_TARGET:
        print(f"boot-test: note: greeting after {figures['greeting_s']} s, over the {GREETING_TARGET:.0f} s target",
              flush=True)
    with open(os.path.join(args.image, "boot-test.txt"), "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in figures.items()))
    print(f"boot-test: PASSED in {time.monotonic() - t_start:.1f} s; figures in "
          f"{os.path.join(args.image, 'boot-test.txt')}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
