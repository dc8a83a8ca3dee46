"""The firewall tests' shared parts (t-43, t-46, t-47): nft run inside the
test's own network namespace (tests/netns-run: never the host's ruleset),
and what a connection from a given loopback source address is greeted
with."""
import re
import socket
import subprocess


def nft(*args, check=True):
    """Runs `nft ARGS`; with `check`, a failure raises AssertionError."""
    p = subprocess.run(["nft", *args], capture_output=True, text=True, timeout=30)
    if check and p.returncode != 0:
        raise AssertionError(f"nft {args}: {p.stderr}")
    return p


def table():
    """`nft list table inet boxmail`'s text, or None when there is none."""
    p = nft("list", "table", "inet", "boxmail", check=False)
    return p.stdout if p.returncode == 0 else None


def banned4():
    """The addresses in set banned4, sorted (the table must exist)."""
    t = nft("list", "set", "inet", "boxmail", "banned4").stdout
    m = re.search(r"elements = \{([^}]*)\}", t)
    return sorted(e.strip().split()[0] for e in m.group(1).split(",")) if m else []


def first_octets(port, source, timeout=2.0):
    """What a connection from SOURCE to 127.0.0.1:PORT receives first (up
    to 512 octets), or None when it gets nothing (dropped, refused)."""
    with socket.socket() as s:
        s.bind((source, 0))
        s.settimeout(timeout)
        try:
            s.connect(("127.0.0.1", port))
            return s.recv(512)
        except (socket.timeout, TimeoutError, ConnectionError):
            return None


def greets(port, source, expect=b"", timeout=2.0):
    """True when a connection from SOURCE gets a greeting starting with
    EXPECT; False when it gets nothing."""
    data = first_octets(port, source, timeout)
    return data is not None and data.startswith(expect)


def greeting(port, source, timeout=1.5):
    """The first line a connection from SOURCE gets; None when it gets nothing."""
    data = first_octets(port, source, timeout)
    return None if data is None else data.decode("ascii", "replace").split("\r\n")[0]
