#!/usr/bin/python3
"""panel_env - boxmaild + a web server + boxmail.cgi, ready to use.

    tests/web/panel_env.py --build build --dir var [--http 127.0.0.1:8080]
        [--https 127.0.0.1:8443] [--smtp-port 2525] [--pop3-port 1100]
        [--admin-password PW] [--demo] [--ini-extra TEXT]

Used by `make run` (the panel on 127.0.0.1:8080), the browser tests
(tests/web/panel.test.mjs, panel_https.test.mjs, inside a private network
namespace) and the bench (tests/bench/panel_bench.py).

The web server is busybox httpd on --http (plain HTTP, as `make run`), or,
with --https, the appliance's: lighttpd with mod_mbedtls, configured by the
appliance's own rootfs-overlay/etc/boxmail/lighttpd-panel.conf (TLS policy,
redirect, CGI) with this machine's paths and ports in DIR/lighttpd.conf,
serving HTTPS on --https with boxmaild's certificate (DIR/tls/, made by
boxmaild on its first start, as on the box) and answering every request on
--http with a redirect to HTTPS. In DIR it makes, once:
  boxmail.ini   the schema's defaults with absolute paths under DIR (busybox
                httpd runs a CGI in its cgi-bin directory, so relative paths
                would point elsewhere) and the given ports, then --ini-extra
                (more sections, e.g. [dns] for the outgoing mail test)
  admin         the panel's administrator (boxmailctl admin passwd)
  passwd        with --demo: mailboxes alice and bob, passwords printed once
and each time: www/ (index.html -> the panel, cgi-bin/boxmail.cgi copied
from the build), then starts boxmaild -c DIR/boxmail.ini and the web server
with BOXMAIL_CONFIG/BOXMAIL_PANEL_STATE and BOXMAIL_CONFFILES (DIR/conffiles:
the image's list of settings with /etc/boxmail as DIR) in the CGI's
environment, and the
Firmware page's BOXMAIL_FIRMWARE_DIR, BOXMAIL_FIRMWARE_KEY, BOXMAIL_RELEASE
and BOXMAIL_FIRMWARE_STATUS when set in this one (lighttpd only after
boxmaild made its certificate). As root, lighttpd reads the key
(boxmail's, 0600) and drops to boxmail-web, like busybox httpd. Prints one
line "panel-env: ready URL" when all answer, then waits; SIGTERM, SIGINT
(Ctrl-C) or the end of stdin (with --stdin-stop) stops them.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))


def wait_port(host, port, proc, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"panel-env: {what} exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"panel-env: {what} did not listen on {host}:{port}")


def wait_files(paths, proc, what, timeout=20):
    """Waits until every file of paths exists and is not empty."""
    deadline = time.monotonic() + timeout
    while not all(os.path.isfile(p) and os.path.getsize(p) > 0 for p in paths):
        if proc.poll() is not None:
            raise SystemExit(f"panel-env: {what} exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"panel-env: {what} did not make {' and '.join(paths)}")
        time.sleep(0.05)


MAIL_USER = "boxmail"       # boxmaild after its ports are bound ([server] user)
WEB_USER = "boxmail-web"    # busybox httpd and the CGI


def accounts():
    """As root: makes the two system accounts if missing (tests/system-accounts)
    and returns True; not root: False (everything runs as the caller)."""
    if os.geteuid() != 0:
        return False
    subprocess.run([os.path.join(SOURCE, "tests", "system-accounts")], check=True)
    return True


def chown_tree(top, uid, gid):
    """chown -R without following symbolic links."""
    os.lchown(top, uid, gid)
    for root, dirs, files in os.walk(top):
        for n in dirs + files:
            os.lchown(os.path.join(root, n), uid, gid)


def hand_over(d, ini, admin, state):
    """The appliance's ownership (docs/security.md), as its init script sets
    it, on DIR: DIR itself is the panel's, group boxmail, setgid (the panel
    writes the INI file and the passwd-file there, boxmaild reads them);
    the store is boxmail's, which the panel cannot enter; the control
    socket's directory lets only the panel's group in; the panel's state
    and the admin password are the panel's alone."""
    import grp
    import pwd
    mail = pwd.getpwnam(MAIL_USER)
    web = pwd.getpwnam(WEB_USER)
    mail_gid = grp.getgrnam(MAIL_USER).gr_gid
    os.chown(d, web.pw_uid, mail_gid)
    os.chmod(d, 0o2750)
    for f in (ini, os.path.join(d, "passwd")):
        if os.path.exists(f):
            os.chown(f, web.pw_uid, mail_gid)
            os.chmod(f, 0o640)
    for sub in ("mail", "spool"):
        path = os.path.join(d, sub)
        os.makedirs(path, exist_ok=True)
        chown_tree(path, mail.pw_uid, mail.pw_gid)
        os.chmod(path, 0o750)
    run = os.path.join(d, "run")
    os.makedirs(run, exist_ok=True)
    os.chown(run, 0, web.pw_gid)
    os.chmod(run, 0o750)
    if os.path.exists(admin):
        os.chown(admin, web.pw_uid, web.pw_gid)
        os.chmod(admin, 0o600)
    chown_tree(state, web.pw_uid, web.pw_gid)
    os.chmod(state, 0o700)
    www = os.path.join(d, "www")
    chown_tree(www, 0, 0)
    os.chmod(www, 0o755)


def write_ini(path, d, smtp_port, pop3_port, extra=""):
    text = f"""; boxmail.ini for the panel on the build machine (tests/web/panel_env.py).
; Every key not set here is at its default (see docs/boxmail.ini.5).

[server]
hostname = boxmail.localdomain
passwd_file = {d}/passwd
control_socket = {d}/run/boxmaild.sock
log = stderr

[smtp]
listen = 127.0.0.1:{smtp_port}
accept_domains = *

[pop3]
listen = 127.0.0.1:{pop3_port}

[tls]
certificate = {d}/tls/cert.pem
key = {d}/tls/key.pem

[store]
mail_dir = {d}/mail
spool_dir = {d}/spool

[relay]
smarthost_credentials = {d}/relay/smarthost-login

[aliases]
"""
    if extra:
        text += "\n" + extra.replace("\\n", "\n") + "\n"
    with open(path, "w") as f:
        f.write(text)


def write_lighttpd_conf(path, d, www, http, https, env):
    """DIR/lighttpd.conf: this machine's sockets, paths and account around
    the appliance's policy file (included from the source tree)."""
    import grp
    import pwd
    if os.geteuid() == 0:
        user = group = WEB_USER
    else:
        user = pwd.getpwuid(os.getuid()).pw_name
        group = grp.getgrgid(os.getgid()).gr_name
    http_host, http_port = http.rsplit(":", 1)
    https_port = https.rsplit(":", 1)[1]
    setenv = ", ".join(f'"{k}" => "{v}"' for k, v in env.items())
    text = f"""# lighttpd.conf for the panel on the build machine (tests/web/panel_env.py
# --https): the appliance's policy on this machine's ports and paths.
var.boxmail_www  = "{www}"
var.boxmail_cert = "{d}/tls/cert.pem"
var.boxmail_key  = "{d}/tls/key.pem"
var.boxmail_user = "{user}"
var.boxmail_group = "{group}"
var.boxmail_https_port_suffix = ":{https_port}"

server.bind = "{http_host}"
server.port = {http_port}
$SERVER["socket"] == "{https}" {{ ssl.engine = "enable" }}

include "{SOURCE}/rootfs-overlay/etc/boxmail/lighttpd-panel.conf"

# The files are not at the CGI's defaults here.
setenv.add-environment = ( {setenv} )
"""
    with open(path, "w") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--dir", default="var")
    ap.add_argument("--http", default="127.0.0.1:8080")
    ap.add_argument("--https", help="serve HTTPS here with lighttpd (--http then redirects)")
    ap.add_argument("--smtp-port", type=int, default=2525)
    ap.add_argument("--pop3-port", type=int, default=1100)
    ap.add_argument("--admin-password")
    ap.add_argument("--demo", action="store_true")
    ap.add_argument("--ini-extra", default="", help="text appended to a new boxmail.ini (\\n for line ends)")
    ap.add_argument("--stdin-stop", action="store_true")
    ap.add_argument("--cgi", help="boxmail.cgi to serve (default: BUILD/boxmail.cgi)")
    a = ap.parse_args()

    build = os.path.abspath(a.build)
    d = os.path.abspath(a.dir)
    os.makedirs(d, exist_ok=True)
    web = accounts()
    ini = os.path.join(d, "boxmail.ini")
    admin = os.path.join(d, "admin")
    first = not os.path.exists(ini)
    if first:
        write_ini(ini, d, a.smtp_port, a.pop3_port, a.ini_extra)
    ctl = [os.path.join(build, "boxmailctl"), "-c", ini]
    env = dict(os.environ, BOXMAIL_ADMIN=admin)
    admin_pw = None
    if a.admin_password:
        subprocess.run(ctl + ["admin", "passwd", "--password-stdin"], input=a.admin_password + "\n",
                       text=True, env=env, check=True, capture_output=True)
        admin_pw = a.admin_password
    elif not os.path.exists(admin):
        out = subprocess.run(ctl + ["admin", "passwd"], text=True, env=env, check=True,
                             capture_output=True).stdout
        admin_pw = out.split("admin: ", 1)[1].split()[0]
    demo = []
    if a.demo and not os.path.exists(os.path.join(d, "passwd")):
        for name in ("alice", "bob"):
            out = subprocess.run(ctl + ["user", "add", name], text=True, check=True, capture_output=True).stdout
            demo.append(out.strip())

    www = os.path.join(d, "www")
    os.makedirs(os.path.join(www, "cgi-bin"), exist_ok=True)
    shutil.copy2(a.cgi or os.path.join(build, "boxmail.cgi"), os.path.join(www, "cgi-bin", "boxmail.cgi.new"))
    os.replace(os.path.join(www, "cgi-bin", "boxmail.cgi.new"), os.path.join(www, "cgi-bin", "boxmail.cgi"))
    shutil.copy2(os.path.join(SOURCE, "rootfs-overlay/usr/share/boxmail/www/index.html"), os.path.join(www, "index.html"))
    state = os.path.join(d, "panel")
    os.makedirs(state, mode=0o700, exist_ok=True)

    if web:
        hand_over(d, ini, admin, state)
    host, port = a.http.rsplit(":", 1)
    log = open(os.path.join(d, "boxmaild.log"), "ab")
    daemon = subprocess.Popen([os.path.join(build, "boxmaild"), "-c", ini], stdout=log, stderr=log,
                              stdin=subprocess.DEVNULL)
    # The image's settings list, its /etc/boxmail being this directory.
    with open(os.path.join(SOURCE, "rootfs-overlay/usr/share/boxmail/conffiles")) as f:
        shipped = f.read()
    conffiles = os.path.join(d, "conffiles")
    with open(conffiles, "w") as f:
        f.write(shipped.replace("\n/etc/boxmail/", "\n" + d + "/"))
    cgi_env = dict(BOXMAIL_CONFIG=ini, BOXMAIL_ADMIN=admin, BOXMAIL_PANEL_STATE=state, BOXMAIL_CONFFILES=conffiles)
    # The Firmware page's files (tests/web/firmware.test.mjs points them at
    # its own): passed through from this environment.
    for k in ("BOXMAIL_FIRMWARE_DIR", "BOXMAIL_FIRMWARE_KEY", "BOXMAIL_RELEASE", "BOXMAIL_FIRMWARE_STATUS",
              "BOXMAIL_FIRMWARE_RESULT"):
        if k in os.environ:
            cgi_env[k] = os.environ[k]
    httpd = None

    def stop(*_):
        for p in (httpd, daemon):
            if p is not None and p.poll() is None:
                p.terminate()
        for p in (httpd, daemon):
            try:
                if p is not None:
                    p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        wait_port("127.0.0.1", a.smtp_port, daemon, "boxmaild")
        if a.https:
            # As /etc/init.d/boxmail httpd: lighttpd only once boxmaild has
            # made its certificate (after binding its ports, on its first start).
            wait_files([os.path.join(d, "tls", "key.pem"), os.path.join(d, "tls", "cert.pem")], daemon, "boxmaild")
            conf = os.path.join(d, "lighttpd.conf")
            write_lighttpd_conf(conf, d, www, a.http, a.https, cgi_env)
            httpd = subprocess.Popen(["lighttpd", "-D", "-f", conf], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=open(os.path.join(d, "lighttpd.log"), "ab"))
            wait_port(host, int(port), httpd, "lighttpd")
            shost, sport = a.https.rsplit(":", 1)
            wait_port(shost.strip("[]"), int(sport), httpd, "lighttpd (HTTPS)")
        else:
            httpd = subprocess.Popen(["busybox", "httpd", "-f", "-p", a.http, "-h", www] +
                                     (["-u", f"{WEB_USER}:{WEB_USER}"] if web else []) +
                                     ["-c", os.path.join(HERE, "busybox-httpd.conf")],
                                     env=dict(os.environ, **cgi_env), stdin=subprocess.DEVNULL,
                                     stderr=open(os.path.join(d, "httpd.log"), "ab"))
            wait_port(host, int(port), httpd, "busybox httpd")
        sock = os.path.join(d, "run", "boxmaild.sock")
        deadline = time.monotonic() + 10
        while not os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.05)
    except SystemExit:
        stop()
        raise
    url = f"https://{a.https}/cgi-bin/boxmail.cgi" if a.https else f"http://{host}:{port}/cgi-bin/boxmail.cgi"
    if admin_pw:
        print(f"panel-env: admin login: user admin, password {admin_pw} (shown only now; "
              f"set another with `build/boxmailctl -c {ini} admin passwd`)", flush=True)
    else:
        print(f"panel-env: admin login: user admin, password as printed on the first run "
              f"(`build/boxmailctl -c {ini} admin passwd` sets a new one)", flush=True)
    for line in demo:
        print(f"panel-env: demo mailbox {line} (shown only now)", flush=True)
    print(f"panel-env: SMTP on 127.0.0.1:{a.smtp_port}, POP3 on 127.0.0.1:{a.pop3_port}, "
          f"data and logs in {d}", flush=True)
    print(f"panel-env: ready {url}", flush=True)
    if a.stdin_stop:
        sys.stdin.read()
        stop()
    while True:
        if daemon.poll() is not None or httpd.poll() is not None:
            print("panel-env: boxmaild or httpd exited", file=sys.stderr, flush=True)
            stop()
        time.sleep(0.5)


if __name__ == "__main__":
    main()
