#!/usr/bin/python3
"""testssl_run.py - testssl.sh (Debian's testssl.sh package) against a real
boxmaild: SMTP STARTTLS on the feed port, submission over implicit TLS
(465-style) and POP3S (995-style), plus any extra host:port given with
--extra; with --panel also the web panel's HTTPS as the appliance serves
it (lighttpd with mod_mbedtls and rootfs-overlay/etc/boxmail/
lighttpd-panel.conf, started by tests/web/panel_env.py --https with its
own boxmaild's certificate). Runs inside a private network namespace
(tests/netns-run): nothing leaves loopback, and no DNS is asked
(--nodns none).

Prints every finding above INFO and exits 1 when one is not in ACCEPTED
below (each with the reason it is accepted). `make testssl` runs it; not
part of CI (about two minutes per port).
"""
import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration", "lib"))
import boxtest  # noqa: E402

# Findings that are expected on a box tested on loopback with its own
# certificate, and why they are not defects.
ACCEPTED = {
    "cert_chain_of_trust": "the out-of-the-box certificate is self-signed by design; an administrator "
                           "installs a CA-issued one on the Certificate page",
    "cert_trust": "testssl connects to 127.0.0.1, the certificate names the box's host name",
    "cert_revocation": "a self-signed certificate has no CRL or OCSP; a CA-issued one brings its own",
    "TLS1_3": "TLS 1.3 needs mbedTLS 3.x (docs/tls.md); Debian bookworm ships 2.28",
    "cert_chain_of_trust_warn": "as cert_chain_of_trust",
    "engine_problem": "about the machine's openssl binary (no GOST engine), not the server",
}
# More for the panel's HTTPS (--panel).
ACCEPTED_PANEL = {
    "HSTS": "not sent on purpose: the panel is reached by a LAN address or name with a self-signed "
            "certificate (browsers ignore HSTS then), and an HSTS name would lock the administrator "
            "out after going back to a self-signed certificate; plain HTTP only redirects (docs/tls.md)",
}
PANEL_PORTS = (18180, 18543, 12625, 11201)   # HTTP (redirects), HTTPS, the panel's boxmaild's SMTP, POP3
SEVERE = ("LOW", "MEDIUM", "HIGH", "CRITICAL", "WARN")


def run_testssl(target, starttls, out_json):
    cmd = ["testssl", "--quiet", "--color", "0", "--warnings", "off", "--nodns", "none",
           "--jsonfile", out_json]
    if starttls:
        cmd += ["--starttls", starttls]
    cmd.append(target)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    print(p.stdout, flush=True)
    with open(out_json) as f:
        return p.returncode, json.load(f)


def findings(items):
    for it in items:
        if it.get("severity") in SEVERE:
            yield it


@contextlib.contextmanager
def panel():
    """The panel's HTTPS on loopback (tests/web/panel_env.py --https, in a
    directory of its own that it hands to the panel's accounts); yields its
    host:port."""
    http_port, https_port, smtp_port, pop3_port = PANEL_PORTS
    d = tempfile.mkdtemp(prefix="boxmail-testssl-panel-")
    p = subprocess.Popen([sys.executable, os.path.join(boxtest.SOURCE, "tests", "web", "panel_env.py"),
                          "--build", boxtest.BUILD, "--dir", d,
                          "--http", f"127.0.0.1:{http_port}", "--https", f"127.0.0.1:{https_port}",
                          "--smtp-port", str(smtp_port), "--pop3-port", str(pop3_port),
                          "--admin-password", "testssl-panel-pw", "--stdin-stop"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for line in p.stdout:
            if line.startswith("panel-env: ready"):
                break
        else:
            raise SystemExit(f"panel_env.py exited with {p.wait()} before the panel was ready")
        yield f"127.0.0.1:{https_port}"
    finally:
        p.stdin.close()
        p.wait(timeout=60)
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extra", action="append", default=[], help="host:port to test as plain TLS (HTTPS)")
    ap.add_argument("--panel", action="store_true", help="also the panel's HTTPS (lighttpd, as on the appliance)")
    args = ap.parse_args()
    unexpected = 0
    with boxtest.Box(config={"server": {"plaintext_login_networks": ""}}) as box, \
            tempfile.TemporaryDirectory() as t, contextlib.ExitStack() as stack:
        box.start()
        targets = [("smtp STARTTLS", f"127.0.0.1:{box.port}", "smtp", ACCEPTED),
                   ("submissions", f"127.0.0.1:{box.submissions_port}", None, ACCEPTED),
                   ("pop3 STLS", f"127.0.0.1:{box.pop3_port}", "pop3", ACCEPTED),
                   ("pop3s", f"127.0.0.1:{box.pop3s_port}", None, ACCEPTED)]
        targets += [(f"extra {e}", e, None, ACCEPTED) for e in args.extra]
        if args.panel:
            targets.append(("panel HTTPS (lighttpd)", stack.enter_context(panel()), None,
                            {**ACCEPTED, **ACCEPTED_PANEL}))
        for i, (name, target, starttls, accepted) in enumerate(targets):
            rc, items = run_testssl(target, starttls, os.path.join(t, f"out-{i}.json"))
            print(f"== {name} ({target}): testssl exit {rc}", flush=True)
            for it in findings(items):
                ok = it["id"] in accepted
                unexpected += 0 if ok else 1
                print(f"  {'accepted' if ok else 'FINDING '} {it['severity']:8} {it['id']}: {it['finding']}"
                      + (f"  [{accepted[it['id']]}]" if ok else ""))
        box.stop()
    print(f"testssl: {unexpected} unexpected finding(s)")
    return 1 if unexpected else 0


if __name__ == "__main__":
    sys.exit(main())
