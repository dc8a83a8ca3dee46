#!/usr/bin/python3
"""deb_test - build boxmail's .deb and install it into a throw-away Debian root.

    tests/debian/deb_test.py --build BUILD [--keep]

What it does (docs/debian.md, "The test"); every step fails the test with a
message:
  1. `cpack -G DEB` in BUILD (into BUILD/deb/): the package's fields
     (Section mail, Priority optional, Depends, Recommends), its file list
     (nothing under /usr/local, nothing outside boxmail's own paths), its
     control members (conffiles, postinst, prerm, postrm).
  2. lintian, when installed: every finding is printed; an error or warning
     not in ACCEPTED fails. `systemd-analyze verify` on the units, when
     available.
  3. A Debian root made by mmdebstrap (variant apt) from the machine's own
     apt sources (/etc/apt/sources.list{,.d}; no mirror is named here), the
     same suite as the machine; the tarball is cached as
     BUILD/debian-root/SUITE-ARCH.tar and the downloaded .debs in
     BUILD/debian-root/archives, so a rerun downloads nothing.
  4. `apt-get install ./boxmail_*.deb` in that root (chroot; Depends and
     Recommends resolved by apt, maintainer scripts run, no systemd
     running, a policy-rc.d so that no package's service starts): the
     accounts, `dpkg -L` (no /usr/local), the conffiles as dpkg lists them,
     owners and modes (docs/security.md's Files table with the Debian
     paths), every path the packaged INI names, the unit enabled and the
     panel's not.
  5. boxmailctl adds a mailbox; boxmaild is started the way boxmail.service
     starts it, inside `unshare -n` (only loopback: nothing listens outside
     the private network namespace) and a private mount namespace: the
     unit's ExecStartPre and ExecStart, its CapabilityBoundingSet and
     NoNewPrivileges (setpriv), UMask, ProtectSystem=strict with its
     ReadWritePaths (the root bound read-only, those paths read-write),
     PrivateTmp and PrivateDevices (a tmpfs /tmp and /dev); its syslog lines
     are caught on the root's /dev/log. A message is delivered over SMTP on
     port 25 (smtplib) and found in the Maildir; the firewall helper must
     make its nftables table (nft, when installed); boxmaild must run as
     boxmail with no capabilities, make only system calls within the
     unit's SystemCallFilter (strace, when installed), and stop cleanly on
     SIGTERM. Next to it, lighttpd as boxmail-panel.service starts it (the
     package's Recommends): the panel's login page over HTTPS with
     boxmaild's certificate, HTTP redirecting, lighttpd as boxmail-web.
  6. The package installed again over an edited boxmail.ini (postinst
     with the accounts and directories already there): the edit, owners,
     modes and the mail are kept. `apt-get remove`: the settings, the mail and the accounts stay, the
     unit is masked. `apt-get purge`: /etc/boxmail and /var/lib/boxmail are
     gone, the accounts stay (Debian practice), no unit link is left.
Needs root (chroot, unshare, mount) and network access to the machine's
Debian mirror on the first run.
"""
import argparse
import glob
import os
import re
import shutil
import smtplib
import socket
import stat
import subprocess
import sys
import threading
import time
import uuid

# lintian tags accepted, each with the reason (docs/debian.md, "lintian").
ACCEPTED = {
    "bogus-mail-host": "the default maintainer address; a vendor sets -DBOXMAIL_DEB_MAINTAINER=... (docs/debian.md)",
    "bogus-mail-host-in-debian-changelog": "the same address in the generated changelog",
    "initial-upload-closes-no-bugs": "not an upload to the Debian archive",
    "no-manual-page": "boxmail-fw is an internal helper that boxmaild starts, not a command for people",
    "copyright-without-copyright-notice": "the source tree states no licence yet (an open problem)",
}

UNIT = "boxmail.service"


class Fail(Exception):
    pass


def say(msg):
    print(f"deb-test: {msg}", flush=True)


def run(cmd, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise Fail(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stdout[-3000:]}{p.stderr[-3000:]}")
    return p


# -- 1. the package ---------------------------------------------------------

def build_deb(build):
    out = os.path.join(build, "deb")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    run(["cpack", "-G", "DEB", "-B", out, "--config", os.path.join(build, "CPackConfig.cmake")], cwd=build)
    debs = glob.glob(os.path.join(out, "boxmail_*.deb"))
    if len(debs) != 1:
        raise Fail(f"cpack made {debs} in {out}, expected one boxmail_*.deb")
    return debs[0]


# Where the package may put files: boxmail's own paths only.
OWN_PATHS = [
    r"etc/boxmail/(boxmail\.ini|lighttpd\.conf|lighttpd-panel\.conf)",
    r"lib/systemd/system/boxmail(-panel)?\.service",
    r"usr/sbin/(boxmaild|boxmail-fw)",
    r"usr/bin/boxmailctl",
    r"usr/lib/boxmail(/.*)?",
    r"usr/lib/tmpfiles\.d/boxmail\.conf",
    r"usr/share/boxmail(/.*)?",
    r"usr/share/doc/boxmail(/.*)?",
    r"usr/share/man/man[58]/boxmail(d|ctl|\.ini)\.[58]\.gz",
]
CONFFILES = ["/etc/boxmail/boxmail.ini", "/etc/boxmail/lighttpd.conf", "/etc/boxmail/lighttpd-panel.conf"]


def check_deb(deb):
    fields = {}
    for line in run(["dpkg-deb", "-f", deb]).stdout.splitlines():
        if ":" in line and not line.startswith(" "):
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    want = {"Package": "boxmail", "Section": "mail", "Priority": "optional"}
    for k, v in want.items():
        if fields.get(k) != v:
            raise Fail(f"control field {k} is {fields.get(k)!r}, not {v!r}")
    depends = fields.get("Depends", "")
    for d in ("adduser", "libnftables1"):
        if not re.search(rf"(^|, ){re.escape(d)}\b", depends):
            raise Fail(f"Depends lacks {d}: {depends}")
    if "lighttpd" in depends or "lighttpd" not in fields.get("Recommends", ""):
        raise Fail(f"the panel's web server must be recommended, not required: Depends {depends}, "
                   f"Recommends {fields.get('Recommends')}")
    if "\n " not in run(["dpkg-deb", "-f", deb, "Description"]).stdout:
        raise Fail("Description has no long description")

    own = [re.compile(p + "$") for p in OWN_PATHS]
    files, dirs = [], []
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        parts = line.split(None, 5)
        name = parts[5].split(" -> ")[0].lstrip(".").lstrip("/").rstrip("/")
        (dirs if line.startswith("d") else files).append(name)
    for f in files:
        if f.startswith("usr/local") or not any(p.match(f) for p in own):
            raise Fail(f"the package installs /{f}, outside boxmail's own paths")
    for d in dirs:
        if d and (d.startswith("usr/local") or not any(f == d or f.startswith(d + "/") for f in files)):
            raise Fail(f"the package has the directory /{d}, outside boxmail's own paths")
    for f in ("usr/lib/boxmail/boxmail", "usr/sbin/boxmaild", "usr/sbin/boxmail-fw", "usr/bin/boxmailctl",
              "usr/lib/boxmail/boxmail.cgi", "usr/share/boxmail/www/cgi-bin/boxmail.cgi",
              "lib/systemd/system/boxmail.service", "usr/lib/tmpfiles.d/boxmail.conf",
              "usr/share/doc/boxmail/copyright") + tuple(c[1:] for c in CONFFILES):
        if f not in files:
            raise Fail(f"the package lacks /{f}")
    # One multi-call program (docs/firmware.md, "One program, three names"):
    # the daemon, the tool and the CGI are relative links to it.
    links = {}
    for line in run(["dpkg-deb", "-c", deb]).stdout.splitlines():
        if line.startswith("l") and " -> " in line:
            name, _, to = line.split(None, 5)[5].partition(" -> ")
            links[name.lstrip(".").lstrip("/")] = to
    for f, to in (("usr/sbin/boxmaild", "../lib/boxmail/boxmail"), ("usr/bin/boxmailctl", "../lib/boxmail/boxmail"),
                  ("usr/lib/boxmail/boxmail.cgi", "boxmail")):
        if links.get(f) != to:
            raise Fail(f"/{f} is not a link to {to} (links: {links})")
    if "usr/lib/boxmail/boxmail" in links:
        raise Fail("/usr/lib/boxmail/boxmail is a link, not the program")

    members = run(["sh", "-c", f"dpkg-deb --ctrl-tarfile '{deb}' | tar -t"]).stdout.split()
    for m in ("./conffiles", "./postinst", "./prerm", "./postrm", "./md5sums"):
        if m not in members:
            raise Fail(f"control member {m} is missing ({members})")
    conffiles = run(["sh", "-c", f"dpkg-deb --ctrl-tarfile '{deb}' | tar -xO ./conffiles"]).stdout.split()
    if sorted(conffiles) != sorted(CONFFILES):
        raise Fail(f"conffiles {conffiles}, expected {CONFFILES}")
    say(f"{os.path.basename(deb)}: {os.path.getsize(deb)} bytes, {len(files)} files; Depends: {depends}; "
        f"Recommends: {fields.get('Recommends')}")
    return fields


# -- 2. lint ----------------------------------------------------------------

def lint(deb, work):
    if shutil.which("lintian"):
        p = run(["lintian", "--allow-root", "--display-info", "--no-tag-display-limit", deb], check=False)
        findings = [l for l in p.stdout.splitlines() if re.match(r"^[EWIXP]: ", l)]
        bad = []
        for line in findings:
            tag = line.split()[2] if len(line.split()) > 2 else ""
            accepted = ACCEPTED.get(tag)
            say(f"lintian: {line}" + (f"  [accepted: {accepted}]" if accepted else ""))
            if line[0] in "EW" and not accepted:
                bad.append(line)
        if p.returncode not in (0, 1, 2) or (p.returncode != 0 and not findings):
            raise Fail(f"lintian failed ({p.returncode}): {p.stderr.strip()}")
        if bad:
            raise Fail(f"lintian: {len(bad)} finding(s) not accepted:\n" + "\n".join(bad))
        say(f"lintian: {len(findings)} finding(s), none that is not accepted")
    else:
        say("lintian is not installed: not linted")
    if shutil.which("systemd-analyze"):
        root = os.path.join(work, "unpacked")
        shutil.rmtree(root, ignore_errors=True)
        run(["dpkg-deb", "-x", deb, root])
        # Verified against this machine's systemd (targets, /bin/kill); the
        # package's own programs are not installed here, and lighttpd is
        # only recommended: "not executable" for those alone is expected.
        expected = [f"Command /{f} is not executable" for f in ("usr/sbin/boxmaild", "usr/sbin/lighttpd")
                    if f == "usr/sbin/lighttpd" or os.path.isfile(os.path.join(root, f))]
        for unit in ("boxmail.service", "boxmail-panel.service"):
            p = run(["systemd-analyze", "verify", "--man=no", f"{root}/lib/systemd/system/{unit}"], check=False)
            out = (p.stdout + p.stderr).strip()
            lines = [l for l in out.splitlines() if not any(e in l for e in expected)]
            if lines:
                raise Fail(f"systemd-analyze verify {unit}:\n{out}")
        say("systemd-analyze verify: both units clean")
        shutil.rmtree(root)


# -- 3. the Debian root -----------------------------------------------------

def machine_sources():
    out = []
    if os.path.isfile("/etc/apt/sources.list"):
        with open("/etc/apt/sources.list") as f:
            if any(l.strip() and not l.lstrip().startswith("#") for l in f):
                out.append("/etc/apt/sources.list")
    out += sorted(glob.glob("/etc/apt/sources.list.d/*.list") + glob.glob("/etc/apt/sources.list.d/*.sources"))
    if not out:
        raise Fail("the machine has no apt sources (/etc/apt/sources.list{,.d})")
    return out


def base_tarball(cache):
    with open("/etc/os-release") as f:
        suite = re.search(r"^VERSION_CODENAME=(\S+)", f.read(), re.M).group(1)
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    tar = os.path.join(cache, f"{suite}-{arch}.tar")
    if os.path.isfile(tar):
        return tar
    if not shutil.which("mmdebstrap"):
        raise Fail("mmdebstrap is not installed (make deps)")
    t0 = time.time()
    run(["mmdebstrap", "--variant=apt", "--mode=root", "--format=tar", "--skip=cleanup/apt/lists",
         "--aptopt=Acquire::Languages \"none\"", suite, tar + ".tmp"] + machine_sources())
    os.replace(tar + ".tmp", tar)
    say(f"base root {tar}: {os.path.getsize(tar)} bytes, made in {time.time() - t0:.0f} s")
    return tar


def in_root(root, archives, script, check=True):
    """Runs a shell script in a private mount namespace with the root's /dev,
    /proc, the apt archive cache and resolv.conf in place, then chroot."""
    wrapper = f"""set -e
mount --bind /dev '{root}/dev'
mount -t proc proc '{root}/proc'
mkdir -p '{root}/var/cache/apt/archives'
mount --bind '{archives}' '{root}/var/cache/apt/archives'
cp /etc/resolv.conf '{root}/etc/resolv.conf' 2>/dev/null || true
exec chroot '{root}' /bin/sh -ec "$1"
"""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8",
               PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    return run(["unshare", "-m", "sh", "-c", wrapper, "in-root", script], check=check, env=env)


APT = "apt-get -o APT::Sandbox::User=root -o Dpkg::Use-Pty=0 -y -q"


def install(root, archives, deb):
    """apt-get install of the .deb with its Recommends (the panel's
    lighttpd). No service of any package may start in the root: it shares
    the machine's network here (policy-rc.d says no to invoke-rc.d)."""
    policy = os.path.join(root, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod(policy, 0o755)
    shutil.copy(deb, os.path.join(root, "tmp"))
    name = os.path.basename(deb)
    p = in_root(root, archives, f"{APT} install /tmp/{name}", check=False)
    if p.returncode != 0:   # lists older than the mirror: read them again, once
        say("apt-get install failed with the cached lists; apt-get update and again")
        p = in_root(root, archives, f"{APT} update && {APT} install /tmp/{name}")
    if not os.path.isfile(os.path.join(root, "usr/sbin/lighttpd")):
        raise Fail("apt-get did not install the recommended lighttpd")
    return p.stdout


# -- 4. the installed package -----------------------------------------------

def account(root, name):
    with open(os.path.join(root, "etc/passwd")) as f:
        for line in f:
            p = line.rstrip("\n").split(":")
            if p[0] == name:
                return int(p[2]), int(p[3]), p[5], p[6]
    return None


def group_id(root, name):
    with open(os.path.join(root, "etc/group")) as f:
        for line in f:
            p = line.split(":")
            if p[0] == name:
                return int(p[2])
    return None


def check_mode(root, path, user, group, mode):
    st = os.lstat(os.path.join(root, path.lstrip("/")))
    uid = account(root, user)[0] if user != "root" else 0
    gid = group_id(root, group) if group != "root" else 0
    got = (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode))
    if got != (uid, gid, mode):
        raise Fail(f"{path}: owner {st.st_uid}:{st.st_gid} mode {oct(got[2])}, expected "
                   f"{user}:{group} ({uid}:{gid}) {oct(mode)}")


def keyed_lines(path, comment):
    """{(section, key): [values in order]} of an INI-like file (boxmail.ini
    with ';' comments, a systemd unit with '#')."""
    out, section = {}, ""
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line.strip("[]")
            elif line and not line.startswith(comment) and "=" in line:
                k, _, v = line.partition("=")
                out.setdefault((section, k.strip()), []).append(v.strip())
    return out


def ini_values(path):
    """{(section, key): value} of boxmail.ini (the last value wins)."""
    return {k: v[-1] for k, v in keyed_lines(path, ";").items()}


def check_installed(root, archives):
    for name in ("boxmail", "boxmail-web"):
        a = account(root, name)
        if a is None or not (100 <= a[0] < 1000) or not a[3].endswith("nologin"):
            raise Fail(f"the system account {name} is missing or not a system account: {a}")
    listed = in_root(root, archives, "dpkg-query -L boxmail").stdout.split()
    if any(p.startswith("/usr/local") for p in listed):
        raise Fail(f"dpkg -L boxmail lists files under /usr/local: {listed}")
    conffiles = in_root(root, archives, "dpkg-query -W -f='${Conffiles}' boxmail").stdout.split()
    got = sorted(c for c in conffiles if c.startswith("/"))
    if got != sorted(CONFFILES):
        raise Fail(f"dpkg-query lists the conffiles {got}, expected {CONFFILES}")
    check_mode(root, "/etc/boxmail", "boxmail-web", "boxmail", 0o2750)
    check_mode(root, "/etc/boxmail/boxmail.ini", "boxmail-web", "boxmail", 0o640)
    check_mode(root, "/etc/boxmail/passwd", "boxmail-web", "boxmail", 0o640)
    check_mode(root, "/var/lib/boxmail", "root", "root", 0o755)
    check_mode(root, "/var/lib/boxmail/mail", "boxmail", "boxmail", 0o750)
    check_mode(root, "/var/lib/boxmail/spool", "boxmail", "boxmail", 0o750)
    check_mode(root, "/run/boxmail", "root", "boxmail-web", 0o750)
    check_mode(root, "/run/boxmail/panel", "boxmail-web", "boxmail-web", 0o700)
    # The packaged INI names paths that exist after the installation.
    ini = ini_values(os.path.join(root, "etc/boxmail/boxmail.ini"))
    for key, is_dir in ((("store", "mail_dir"), True), (("store", "spool_dir"), True),
                        (("server", "passwd_file"), False), (("server", "control_socket"), False),
                        (("tls", "certificate"), False), (("tls", "key"), False),
                        (("relay", "smarthost_credentials"), False)):
        v = ini.get(key)
        if v is None or not v.startswith("/"):
            raise Fail(f"the packaged INI does not name an absolute [{key[0]}] {key[1]}: {v!r}")
        d = v if is_dir else os.path.dirname(v)
        if key[1] in ("certificate", "key", "smarthost_credentials"):
            d = os.path.dirname(d)   # tls/ and relay/ are made by boxmaild at its first start
        if not os.path.isdir(os.path.join(root, d.lstrip("/"))):
            raise Fail(f"[{key[0]}] {key[1]} = {v}: {d} does not exist after the installation")
    if ini.get(("server", "log")) != "syslog":
        raise Fail(f"the packaged INI logs to {ini.get(('server', 'log'))}, not syslog")
    in_root(root, archives, "boxmaild -c /etc/boxmail/boxmail.ini --check-config")
    wants = os.path.join(root, "etc/systemd/system/multi-user.target.wants")
    if not os.path.islink(os.path.join(wants, "boxmail.service")):
        raise Fail("boxmail.service is not enabled (no multi-user.target.wants link)")
    if os.path.lexists(os.path.join(wants, "boxmail-panel.service")):
        raise Fail("boxmail-panel.service is enabled; the package must leave it off")
    say(f"installed: accounts, {len(listed)} paths (none in /usr/local), conffiles {got}, owners and modes, "
        "the INI's paths, the unit enabled and the panel's not")


# -- 5. boxmaild as the unit starts it --------------------------------------

def unit_settings(path):
    """The [Service] settings of a unit file, each a list of values in order."""
    return {k: v for (sec, k), v in keyed_lines(path, "#").items() if sec == "Service"}


def syscall_set(filters):
    """The system calls an allow-list SystemCallFilter= admits (its @groups
    expanded by systemd-analyze), or None when it cannot be told."""
    out = run(["systemd-analyze", "syscall-filter"], check=False).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), [])
        elif cur is not None and line.strip() and not line.strip().startswith("#"):
            cur.append(line.strip())

    def expand(name, seen):
        if name in seen:
            return set()
        seen.add(name)
        if not name.startswith("@"):
            return {name}
        got = set()
        for x in groups.get(name, []):
            got |= expand(x, seen)
        return got
    allowed = set()
    for f in filters:
        if f.startswith("~"):
            return None
        for name in f.split():
            allowed |= expand(name, set())
    return allowed or None


def traced_syscalls(path):
    """System calls boxmaild (and its threads and children) made, from an
    `strace -f` log: every call after the execve of /usr/sbin/boxmaild."""
    seen, started = set(), False
    with open(path) as f:
        for line in f:
            if not started:
                started = 'execve("/usr/sbin/boxmaild"' in line and "= 0" in line
                continue
            m = re.match(r"^\d+\s+([a-z_0-9]+)\(", line)
            if m:
                seen.add(m.group(1))
    return seen


def start_pre(unit, start, name):
    """Runs the unit's ExecStartPre commands; a failing one fails the test."""
    for pre in unit.get("ExecStartPre", []):
        p = start(pre, unit=unit)
        out = p.communicate(timeout=30)[0]
        if p.returncode != 0:
            raise Fail(f"{name} ExecStartPre {pre} failed ({p.returncode}): {out}")


def wait_listening(proc, port, name, show_log):
    """Waits (at most 20 s) until 127.0.0.1:port accepts; fails when proc exits first."""
    deadline = time.time() + 20
    while True:
        if proc.poll() is not None:
            raise Fail(f"{name} exited ({proc.returncode}) at start: {proc.stdout.read()}\n{show_log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.time() > deadline:
                raise Fail(f"{name} does not answer on port {port} after 20 s\n{show_log()}")
            time.sleep(0.2)


def serve(root):
    """Runs inside `unshare -m -n` (see run_daemon): the sandbox, boxmaild, one
    message. Prints lines the parent reads; exits 1 with a message."""
    s = unit_settings(os.path.join(root, "lib/systemd/system", UNIT))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    sh = lambda *c: subprocess.run(list(c), check=True)
    # ProtectSystem=strict + ReadWritePaths: the root read-only, those paths read-write.
    sh("mount", "--bind", root, root)
    for p in " ".join(s.get("ReadWritePaths", [])).split():
        optional = p.startswith("-")
        p = p.lstrip("-")
        full = os.path.join(root, p.lstrip("/"))
        if not os.path.isdir(full):
            if optional:
                continue
            raise Fail(f"ReadWritePaths names {p}, which does not exist (the unit would not start)")
        sh("mount", "--bind", full, full)
    sh("mount", "-o", "remount,bind,ro", root)
    sh("mount", "-t", "proc", "proc", os.path.join(root, "proc"))
    if s.get("PrivateTmp") == ["yes"]:
        sh("mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", os.path.join(root, "tmp"))
    dev = os.path.join(root, "dev")
    sh("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", dev)
    for n in ("null", "zero", "urandom", "random"):
        open(os.path.join(dev, n), "w").close()
        sh("mount", "--bind", f"/dev/{n}", os.path.join(dev, n))
    # /dev/log: boxmaild's syslog lines ([server] log = syslog).
    log_lines = []
    logsock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    logsock.bind(os.path.join(dev, "log"))
    os.chmod(os.path.join(dev, "log"), 0o666)

    def collect():
        while True:
            try:
                log_lines.append(logsock.recv(65536).decode(errors="replace"))
            except OSError:
                return
    threading.Thread(target=collect, daemon=True).start()

    def start(cmdline, trace=(), unit=s):
        """cmdline in the root with unit's bounding set, NoNewPrivileges, UMask."""
        caps = " ".join(unit["CapabilityBoundingSet"]).split()
        bounding = "-all," + ",".join("+" + c.lower().removeprefix("cap_") for c in caps)
        wrap = ["chroot", root, "setpriv", f"--bounding-set={bounding}"]
        if unit.get("NoNewPrivileges") == ["yes"]:
            wrap.append("--no-new-privs")
        umask = int(unit.get("UMask", ["0022"])[0], 8)
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
        return subprocess.Popen(list(trace) + wrap + cmdline.split(), env=env, preexec_fn=lambda: os.umask(umask),
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    # SystemCallFilter: boxmaild runs under strace (when installed) and
    # every call it makes must be in the unit's allow-list.
    allowed = syscall_set(s.get("SystemCallFilter", [])) if shutil.which("systemd-analyze") else None
    tracefile = f"/tmp/deb-test-strace.{os.getpid()}"
    trace = ["strace", "-f", "-qq", "-o", tracefile] if allowed and shutil.which("strace") else []

    def show_log():
        return "\n".join("  syslog: " + l for l in log_lines)

    start_pre(s, start, UNIT)
    t0 = time.time()
    daemon = start(s["ExecStart"][0], trace)
    pid = None
    try:
        wait_listening(daemon, 25, "boxmaild", show_log)
        print(f"greeting-after {time.time() - t0:.2f}", flush=True)
        # The daemon dropped its privileges inside the unit's bounding set.
        pid = daemon.pid   # chroot execs setpriv, which execs boxmaild
        if trace:
            pid = int(subprocess.run(["pgrep", "-P", str(daemon.pid), "-x", "boxmaild"], capture_output=True,
                                     text=True).stdout.split()[0])
        status = {}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                status[k] = v.split()
        boxmail_uid = account(root, "boxmail")[0]
        if [int(x) for x in status["Uid"]] != [boxmail_uid] * 4:
            raise Fail(f"boxmaild runs as uid {status['Uid']}, not boxmail ({boxmail_uid})\n{show_log()}")
        for c in ("CapEff", "CapPrm", "CapBnd"):
            if int(status[c][0], 16) != 0:
                raise Fail(f"boxmaild keeps capabilities {c} {status[c][0]}")
        if status.get("NoNewPrivs") != ["1"]:
            raise Fail(f"boxmaild has NoNewPrivs {status.get('NoNewPrivs')}")
        for f in ("etc/boxmail/tls/cert.pem", "etc/boxmail/tls/key.pem"):
            if not os.path.isfile(os.path.join(root, f)):
                raise Fail(f"boxmaild did not make /{f} at its first start\n{show_log()}")
        print(f"running-as uid={boxmail_uid} caps=0 nnp=1", flush=True)
        firewall(root, show_log)
        token = uuid.uuid4().hex
        msg = (f"From: deb-test <test@example.org>\r\nTo: alice@example.org\r\nSubject: deb {token}\r\n"
               f"Message-ID: <{token}@example.org>\r\n\r\ndelivered into the Debian root {token}\r\n")
        with smtplib.SMTP("127.0.0.1", 25, timeout=30) as c:
            refused = c.sendmail("test@example.org", ["alice@example.org"], msg)
        if refused:
            raise Fail(f"recipients refused: {refused}")
        new = os.path.join(root, "var/lib/boxmail/mail/alice/new")
        found = None
        deadline = time.time() + 10
        while found is None and time.time() < deadline:
            for n in os.listdir(new):
                with open(os.path.join(new, n), "rb") as f:
                    if token.encode() in f.read():
                        found = n
            time.sleep(0.2)
        if found is None:
            raise Fail(f"the message {token} is not in {new}\n{show_log()}")
        st = os.stat(os.path.join(new, found))
        if st.st_uid != boxmail_uid:
            raise Fail(f"the delivered file belongs to uid {st.st_uid}, not boxmail")
        print(f"delivered {found}", flush=True)
        panel(root, start, show_log)
    finally:
        if daemon.poll() is None:
            # SIGTERM to boxmaild itself (strace would only detach); strace
            # exits with boxmaild's status.
            os.kill(pid, 15) if pid else daemon.terminate()
            try:
                daemon.wait(timeout=45)
            except subprocess.TimeoutExpired:
                daemon.kill()
                raise Fail("boxmaild did not stop within 45 s of SIGTERM")
    if daemon.returncode != 0:
        raise Fail(f"boxmaild exited {daemon.returncode} after SIGTERM\n{show_log()}")
    if trace:
        used = traced_syscalls(tracefile)
        os.unlink(tracefile)
        if not used:
            raise Fail("strace recorded no system call of boxmaild")
        outside = sorted(used - allowed)
        if outside:
            raise Fail(f"boxmaild made system calls outside the unit's SystemCallFilter: {outside}")
        print(f"syscalls {len(used)} distinct, all within SystemCallFilter", flush=True)
    print(f"stopped rc=0; {len(log_lines)} syslog lines, the first: {log_lines[:1]}", flush=True)


def firewall(root, show_log):
    """[firewall] enabled (the packaged INI): the helper boxmail-fw, started
    by boxmaild as root inside the unit's bounding set, keeps CAP_NET_ADMIN
    and loads libnftables (a Depends, loaded with dlopen) to make the table
    inet boxmail in this network namespace."""
    ini = ini_values(os.path.join(root, "etc/boxmail/boxmail.ini"))
    if ini.get(("firewall", "enabled"), "no") != "yes":
        return
    if not shutil.which("nft"):
        print("firewall: nft is not installed here: the table is not checked", flush=True)
        return
    deadline = time.time() + 15
    while True:
        p = subprocess.run(["nft", "list", "table", "inet", "boxmail"], capture_output=True, text=True)
        if p.returncode == 0:
            break
        if time.time() > deadline:
            raise Fail(f"no nftables table inet boxmail 15 s after the start (the firewall helper): "
                       f"{p.stderr.strip()}\n{show_log()}")
        time.sleep(0.3)
    print("firewall: the helper made the table inet boxmail", flush=True)


def panel(root, start, show_log):
    """boxmail-panel.service (lighttpd with /etc/boxmail/lighttpd.conf) as the
    unit starts it, next to the running boxmaild: HTTPS on 443 serves the
    login page through the cgi-bin link, with boxmaild's certificate; port 80
    redirects; lighttpd runs as boxmail-web."""
    import http.client
    import ssl
    u = unit_settings(os.path.join(root, "lib/systemd/system/boxmail-panel.service"))
    start_pre(u, start, "boxmail-panel.service")
    web = start(u["ExecStart"][0], unit=u)
    try:
        wait_listening(web, 443, "lighttpd", show_log)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", 443, context=ctx, timeout=20)
        c.request("GET", "/cgi-bin/boxmail.cgi/login")
        r = c.getresponse()
        body = r.read().decode(errors="replace")
        der = c.sock.getpeercert(binary_form=True)
        c.close()
        if r.status != 200 or "password" not in body.lower():
            raise Fail(f"GET https /cgi-bin/boxmail.cgi/login: {r.status}: {body[:300]!r}\n{show_log()}")
        with open(os.path.join(root, "etc/boxmail/tls/cert.pem")) as f:
            if ssl.DER_cert_to_PEM_cert(der).split("-----")[2].split() != f.read().split("-----")[2].split():
                raise Fail("the panel's HTTPS does not serve boxmaild's certificate")
        c = http.client.HTTPConnection("127.0.0.1", 80, timeout=20)
        c.request("GET", "/cgi-bin/boxmail.cgi/login", headers={"Host": "box.example"})
        r = c.getresponse()
        r.read()
        if r.status != 308 or r.getheader("Location") != "https://box.example/cgi-bin/boxmail.cgi/login":
            raise Fail(f"plain HTTP answered {r.status} {r.getheader('Location')}, not 308 to HTTPS")
        c.close()
        users = subprocess.run(["ps", "-o", "user=", "-C", "lighttpd"], capture_output=True, text=True).stdout.split()
        uid = account(root, "boxmail-web")[0]
        with open(f"/proc/{web.pid}/status") as f:
            ids = next(l.split()[1:] for l in f if l.startswith("Uid:"))
        if [int(x) for x in ids] != [uid] * 4:
            raise Fail(f"lighttpd runs as uid {ids}, not boxmail-web ({uid}) {users}")
        print(f"panel: HTTPS login page 200 with boxmaild's certificate, HTTP 308, lighttpd as boxmail-web",
              flush=True)
    finally:
        if web.poll() is None:
            web.terminate()
            web.wait(timeout=20)


def run_daemon(root, archives):
    in_root(root, archives, "echo 'deb-test-password-1' | boxmailctl -c /etc/boxmail/boxmail.ini "
                            "user add alice --password-stdin")
    maildir = os.path.join(root, "var/lib/boxmail/mail/alice")
    if not os.path.isdir(os.path.join(maildir, "new")):
        raise Fail(f"boxmailctl user add made no Maildir {maildir}")
    check_mode(root, "/var/lib/boxmail/mail/alice", "boxmail", "boxmail", 0o700)
    p = run(["unshare", "-m", "-n", sys.executable, os.path.abspath(__file__), "--serve", root], check=False)
    for line in p.stdout.splitlines():
        say(f"daemon: {line}")
    if p.returncode != 0:
        raise Fail(f"boxmaild in the root:\n{p.stderr.strip()}")


# -- 6. reinstall, remove and purge -----------------------------------------

def reinstall(root, archives, deb):
    """The same package installed again over an edited conffile (what an
    upgrade does): postinst runs with the old version (the accounts exist,
    the directories too), the edit is kept, owners and modes stay right,
    the mail stays."""
    ini = os.path.join(root, "etc/boxmail/boxmail.ini")
    with open(ini, "a") as f:
        f.write("; edited by deb-test\n")
    name = os.path.basename(deb)
    in_root(root, archives, f"dpkg --force-confold -i /tmp/{name}")
    with open(ini) as f:
        if "; edited by deb-test" not in f.read():
            raise Fail("reinstalling the package replaced the edited boxmail.ini")
    check_mode(root, "/etc/boxmail", "boxmail-web", "boxmail", 0o2750)
    check_mode(root, "/etc/boxmail/boxmail.ini", "boxmail-web", "boxmail", 0o640)
    check_mode(root, "/var/lib/boxmail/mail", "boxmail", "boxmail", 0o750)
    if not os.listdir(os.path.join(root, "var/lib/boxmail/mail/alice/new")):
        raise Fail("reinstalling the package lost the delivered message")
    say("reinstalled over an edited conffile: the edit, the owners and modes and the mail kept")



def remove_and_purge(root, archives):
    in_root(root, archives, f"{APT} remove boxmail")
    status = in_root(root, archives, "dpkg-query -W -f='${db:Status-Abbrev}' boxmail").stdout.strip()
    if status != "rc":
        raise Fail(f"after apt-get remove boxmail is {status!r}, not 'rc' (removed, settings kept)")
    for keep in ("etc/boxmail/boxmail.ini", "etc/boxmail/passwd", "etc/boxmail/tls/key.pem",
                 "var/lib/boxmail/mail/alice/new"):
        if not os.path.exists(os.path.join(root, keep)):
            raise Fail(f"apt-get remove deleted /{keep}")
    if os.path.exists(os.path.join(root, "usr/sbin/boxmaild")):
        raise Fail("apt-get remove left /usr/sbin/boxmaild")
    mask = os.path.join(root, "etc/systemd/system", UNIT)
    if not os.path.islink(mask) or os.readlink(mask) != "/dev/null":
        raise Fail("apt-get remove did not mask boxmail.service")
    in_root(root, archives, f"{APT} purge boxmail")
    for gone in ("etc/boxmail", "var/lib/boxmail", "run/boxmail", "etc/systemd/system/" + UNIT,
                 "etc/systemd/system/multi-user.target.wants/" + UNIT):
        if os.path.lexists(os.path.join(root, gone)):
            raise Fail(f"apt-get purge left /{gone}")
    for name in ("boxmail", "boxmail-web"):
        if account(root, name) is None:
            raise Fail(f"apt-get purge removed the system account {name} (Debian keeps them)")
    status = in_root(root, archives, "dpkg-query -W -f='${db:Status-Abbrev}' boxmail", check=False).stdout.strip()
    if status not in ("", "pn", "un"):
        raise Fail(f"after apt-get purge boxmail is {status!r}")
    say("remove keeps /etc/boxmail, the mail and the accounts and masks the unit; purge deletes "
        "/etc/boxmail and /var/lib/boxmail and keeps the accounts")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build")
    ap.add_argument("--keep", action="store_true", help="leave the Debian root in BUILD/debian-root/root")
    ap.add_argument("--serve", help=argparse.SUPPRESS)
    args = ap.parse_args()
    try:
        if args.serve:
            serve(args.serve)
            return 0
        if not args.build:
            ap.error("--build is required")
        if os.geteuid() != 0:
            raise Fail("needs root (chroot, unshare, mount)")
        t_all = time.time()
        build = os.path.abspath(args.build)
        work = os.path.join(build, "debian-root")
        archives = os.path.join(work, "archives")
        os.makedirs(os.path.join(archives, "partial"), exist_ok=True)
        t = time.time()
        deb = build_deb(build)
        check_deb(deb)
        say(f"package built and checked in {time.time() - t:.1f} s")
        t = time.time()
        lint(deb, work)
        say(f"lint in {time.time() - t:.1f} s")
        t = time.time()
        tar = base_tarball(work)
        root = os.path.join(work, "root")
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(root)
        run(["tar", "-xpf", tar, "--numeric-owner", "-C", root])
        say(f"root unpacked in {time.time() - t:.1f} s")
        t = time.time()
        install(root, archives, deb)
        say(f"installed with apt in {time.time() - t:.1f} s")
        check_installed(root, archives)
        t = time.time()
        run_daemon(root, archives)
        say(f"daemon run in {time.time() - t:.1f} s")
        reinstall(root, archives, deb)
        t = time.time()
        remove_and_purge(root, archives)
        say(f"remove and purge in {time.time() - t:.1f} s")
        if not args.keep:
            shutil.rmtree(root)
        say(f"passed in {time.time() - t_all:.1f} s")
        return 0
    except Fail as e:
        print(f"deb-test: FAIL: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
