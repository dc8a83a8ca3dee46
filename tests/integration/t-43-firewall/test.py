"""t-43-firewall: boxmaild's own nftables table through boxmail-fw (issue 11).

Inside the test's private network namespace (tests/netns-run: a real
nf_tables ruleset, never the host's):

  (1) With [firewall] enabled, boxmaild (started as root) starts boxmail-fw
      before its own drop: the helper runs as uid 65534 with CAP_NET_ADMIN
      as its only capability (effective, permitted, bounding), NoNewPrivs 1;
      `nft list table inet boxmail` shows banned4/banned6 (timeout),
      allow4/allow6 (the allow list) and the input chain guarding the
      box's mail ports. A table of someone else's (inet filter) is never
      touched.
  (2) `boxmailctl ban 127.0.0.5 SECONDS`: 127.0.0.5 is in banned4, an SMTP
      and a POP3 connection from it (client socket bound to 127.0.0.5)
      get nothing, 127.0.0.2 gets its greetings, the drop counter counts
      (and `stats` reports it as firewall_drops=, with bans=1 today);
      `bans` lists it with its time left and reason; the ban expires (the
      address gets its greeting again, `bans` is empty).
  (3) An allow-listed address (127.0.0.3, and 127.0.0.1) cannot be banned:
      refused with a clear message, nothing in the set.
  (4) A reload re-applies the table with a new allow list and keeps the
      bans. SIGTERM: no table is left; the state file keeps the running ban; a
      new start re-applies the table with the ban (its time counted from
      the first ban, not again), and the address is still refused.
  (5) The helper killed: boxmaild logs it and keeps serving mail; a ban
      is still recorded and says the helper is not running.
  (6) boxmail-fw spoken to directly over a SOCK_SEQPACKET socketpair:
      malformed requests (garbage, nft text, networks, a ban before apply,
      an allow-listed address, over-long, non-ASCII) are refused with
      "1 error ..." and never applied; a batch is answered in order; EOF,
      and SIGTERM to the helper, delete the table. RSS of the resident helper in both models
      (child per batch; kept libnftables context) is printed. A helper
      started while an older one still owns the table (a boxmaild killed
      and restarted at once) waits for the older one's cleanup: the table
      it applies stays.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from fwtest import banned4, greets, nft, table  # noqa: E402

FW = os.path.join(boxtest.BUILD, "boxmail-fw")
CAP_NET_ADMIN = 12


def nft_seconds(text):
    """Seconds in an nft duration such as 4m55s or 1h2m3s500ms."""
    scale = {"d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(int(n) * scale[u] for n, u in re.findall(r"(\d+)(ms|d|h|m|s)", text))


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return out


def memory(pid):
    st = proc_status(pid)
    roll = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                roll[k] = int(v.split()[0])
    return int(st["VmRSS"][0]), int(st["VmHWM"][0]), roll.get("Pss", 0), roll.get("Anonymous", 0)


def helper_pid(box, start=0):
    return int(box.wait_log(r"firewall: started \S+ \(pid (\d+)\)", start=start).group(1))


def serve_helper(*options, stderr=subprocess.DEVNULL):
    """`boxmail-fw serve FD [OPTIONS]` on a fresh SOCK_SEQPACKET socketpair,
    as boxmaild starts it: (the process, our end with a 20 s timeout)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    helper = subprocess.Popen([FW, "serve", str(theirs.fileno()), *options], pass_fds=[theirs.fileno()],
                              stderr=stderr, text=True)
    theirs.close()
    ours.settimeout(20)
    return helper, ours


def main():
    # Someone else's table: never touched by anything below.
    nft("add", "table", "inet", "filter")
    nft("add", "chain", "inet", "filter", "input", "{ type filter hook input priority 0; policy accept; }")
    nft("add", "rule", "inet", "filter", "input", "tcp", "dport", "9", "counter", "accept")
    foreign = nft("list", "table", "inet", "filter").stdout

    with boxtest.Box(name="t43", config={"firewall": {"enabled": "yes", "program": FW,
                                                      "allow": "127.0.0.3 127.0.0.1"}}) as box:
        # (1)
        box.start()
        pid = helper_pid(box)
        box.wait_log(r"firewall: applied: 5 ports, 2 allowed networks")
        st = proc_status(pid)
        assert st["Uid"] == ["65534"] * 4 and st["Gid"] == ["65534"] * 4, (st["Uid"], st["Gid"])
        for cap in ("CapPrm", "CapEff", "CapBnd"):
            assert int(st[cap][0], 16) == 1 << CAP_NET_ADMIN, (cap, st[cap])
        assert int(st["CapInh"][0], 16) == 0 and int(st["CapAmb"][0], 16) == 0, st
        assert st["NoNewPrivs"] == ["1"], st["NoNewPrivs"]
        t = table()
        assert t is not None
        for want in ("set banned4", "set banned6", "set allow4", "set allow6", "flags timeout", "counter banned_drops",
                     "hook input priority filter - 10; policy accept;"):
            assert want in t, (want, t)
        ports = sorted([box.port, box.pop3_port, box.submission_port, box.submissions_port, box.pop3s_port])
        assert "tcp dport { " + ", ".join(map(str, ports)) + " } ip saddr @banned4" in t, t
        assert re.search(r"set allow4 \{[^}]*elements = \{ 127\.0\.0\.1, 127\.0\.0\.3 \}", t, re.S), t
        rss, hwm, pss, anon = memory(pid)
        print(f"helper pid {pid}: uid 65534, CAP_NET_ADMIN only, NoNewPrivs; table applied; "
              f"resident helper (child per batch) VmRSS {rss} kB (peak {hwm}), Pss {pss} kB, anonymous {anon} kB")

        # (2)
        assert greets(box.port, "127.0.0.5", b"220")
        p = box.ctl("ban", "127.0.0.5", "6")
        assert "banned 127.0.0.5 for 6 s (manual)" in p.stdout, p.stdout
        banned_at = time.monotonic()
        boxtest.poll(lambda: banned4() == ["127.0.0.5"], what="127.0.0.5 in banned4")
        assert not greets(box.port, "127.0.0.5")
        assert not greets(box.pop3_port, "127.0.0.5")
        assert greets(box.port, "127.0.0.2", b"220")
        assert greets(box.pop3_port, "127.0.0.2", b"+OK")
        drops = int(re.search(r"packets (\d+)", nft("list", "counter", "inet", "boxmail", "banned_drops").stdout).group(1))
        assert drops >= 1
        # `stats` reads the same counter through the helper (the Status
        # page's blocked connections) and counts the ban as one of today's.
        blocked = [l for l in box.control("stats") if l.startswith("blocked ")]
        fields = dict(kv.split("=") for kv in blocked[0].split()[1:])
        assert int(fields["firewall_drops"]) >= drops and fields["bans"] == "1", blocked
        # `boxmail-fw show` (for boxes without the nft program) lists the same table.
        shown = subprocess.run([FW, "show"], capture_output=True, text=True, timeout=30)
        assert shown.returncode == 0, shown.stderr
        assert re.search(r"set banned4 \{.*elements = \{ 127\.0\.0\.5 timeout", shown.stdout, re.S), shown.stdout
        assert "counter banned_drops" in shown.stdout, shown.stdout
        lines = box.ctl("bans").stdout.splitlines()
        assert lines[0] == "ADDRESS\tSECONDS-LEFT\tREASON", lines
        addr, left, reason = lines[1].split("\t")
        assert addr == "127.0.0.5" and 0 < int(left) <= 6 and reason == "manual", lines
        reply = box.control("bans")
        assert reply[0] == "ok 1 banned" and reply[1].startswith("127.0.0.5 "), reply
        print("banned 127.0.0.5: SMTP and POP3 from it get nothing, 127.0.0.2 is greeted, the counter counts")
        boxtest.poll(lambda: greets(box.port, "127.0.0.5", b"220", timeout=1), timeout=20,
                     what="the ban to expire")
        waited = time.monotonic() - banned_at
        assert waited >= 5, waited
        assert banned4() == []
        assert box.ctl("bans").stdout.strip() == "no address is banned"
        print(f"the ban expired after {waited:.1f} s (6 s asked)")

        # (3)
        for a in ("127.0.0.3", "127.0.0.1", "::ffff:127.0.0.3"):
            p = box.ctl("ban", a, "60", "manual", check=False)
            assert p.returncode == 1, (a, p.returncode, p.stdout, p.stderr)
            assert "is allow-listed ([firewall] allow or [relay] relay_networks) and is never banned" in p.stderr, p.stderr
        for line, error in (("ban 127.0.0.9 60 Not-A-Token", "the reason"), ("ban 127.0.0.0/8 60", "not one IP address"),
                            ("ban 127.0.0.9 2592001", "SECONDS must be 1..2592000")):
            reply = box.control(line)
            assert reply[0].startswith("error") and error in reply[0], (line, reply)
        assert banned4() == []
        print("allow-listed addresses and malformed bans are refused; nothing in the set")

        # (4)
        box.ctl("ban", "127.0.0.6", "300", "login-failures")
        boxtest.poll(lambda: banned4() == ["127.0.0.6"], what="127.0.0.6 in banned4")
        # A reload re-applies the table with the new allow list; the bans stay.
        start = len(box.log())
        box.write_config({"firewall": {"allow": "127.0.0.3 127.0.0.4 127.0.0.1"}})
        box.signal(signal.SIGHUP)
        box.wait_log(r"firewall: applied: 5 ports, 3 allowed networks", start=start)
        allow4 = nft("list", "set", "inet", "boxmail", "allow4").stdout
        assert "127.0.0.3-127.0.0.4" in allow4, allow4   # auto-merge joins neighbours
        assert banned4() == ["127.0.0.6"]
        assert not greets(box.port, "127.0.0.6")
        assert box.stop() == 0
        assert table() is None, "the table is left after SIGTERM"
        assert "firewall: stopped: table deleted" in box.log()
        shown = subprocess.run([FW, "show"], capture_output=True, text=True, timeout=30)
        assert shown.returncode == 1 and "cannot list table inet boxmail" in shown.stderr, (shown.returncode, shown.stderr)
        with open(os.path.join(box.spool_dir, "firewall-bans")) as f:
            state = f.read()
        assert re.fullmatch(r"boxmail-bans 1\n127\.0\.0\.6 \d+ login-failures\n", state), state
        time.sleep(2)
        start = len(box.log())
        box.start()
        helper_pid(box, start)
        box.wait_log(r"firewall: applied", start=start)
        boxtest.poll(lambda: banned4() == ["127.0.0.6"], what="127.0.0.6 in banned4 after the restart")
        listing = nft("list", "set", "inet", "boxmail", "banned4").stdout
        left = nft_seconds(re.search(r"127\.0\.0\.6 timeout (\S+)", listing).group(1))
        assert 280 <= left <= 298, left   # the time left, not 300 again
        assert not greets(box.port, "127.0.0.6")
        assert greets(box.port, "127.0.0.2", b"220")
        print(f"a reload keeps the bans; SIGTERM leaves no table; the restart keeps the ban (timeout {left} s of 300)")

        # (5)
        pid = helper_pid(box, start)
        start = len(box.log())
        os.kill(pid, signal.SIGKILL)
        box.wait_log(r"firewall: the helper boxmail-fw \(pid %d\) is gone .*mail goes on" % pid, start=start)
        assert greets(box.port, "127.0.0.2", b"220")
        box.deliver("alice@example.com", b"Subject: still here\r\n\r\nmail without the firewall\r\n")
        p = box.ctl("ban", "127.0.0.7", "60")
        assert "the firewall helper is not running" in p.stdout, p.stdout
        assert box.stop() == 0
        print("the helper killed: logged, mail still served and delivered, bans still recorded")
    nft("delete", "table", "inet", "boxmail")   # a killed helper cannot clean up: the next start re-applies

    # (6) boxmail-fw directly
    figures = {}
    for keep in (False, True):
        helper, ours = serve_helper(*(["--keep-context"] if keep else []), stderr=subprocess.PIPE)

        def ask(*datagrams):
            for d in datagrams:
                ours.send(d if isinstance(d, bytes) else d.encode())
            return [ours.recv(65536).decode() for _ in datagrams]

        # (An empty datagram reads as EOF on a SEQPACKET socket: the helper
        # stops, as when boxmaild closes its end; not a request.)
        refused = [b"hello", b"1", b"2 list", b"1  list", b"1 list\n", b"1 nft flush ruleset",
                   b"1 nft add table ip filter", b"1 apply ports=25 allow=0.0.0.0/0",
                   b"1 apply ports=25 allow=127.0.0.1;flush ruleset", b"1 ban 127.0.0.0/8 60 manual",
                   b"1 ban 127.0.0.9 60 a\"b", b"1 ban 127.0.0.9 0 manual", b"1 ban 127.0.0.09 60 manual",
                   "1 ban 127.0.0.9 60 caf\u00e9".encode(), b"1 ban " + b"9" * 5000]
        for d in refused:
            [r] = ask(d)
            assert r.startswith("1 error "), (d, r)
        [r] = ask("1 ban 127.0.0.9 60 manual")
        assert r == "1 error no ruleset applied yet (send apply first)", r
        assert table() is None   # nothing was applied
        ports = f"{box.port},{box.pop3_port}" if box.port < box.pop3_port else f"{box.pop3_port},{box.port}"
        replies = ask(f"1 apply ports={ports} allow=127.0.0.1", "1 ban 127.0.0.1 60 manual", "1 garbage",
                      "1 ban 127.0.0.9 60 manual", "1 ban 2001:db8::1 60 manual", "1 list")
        assert replies[0].startswith("1 ok applied: 2 ports, 1 allowed networks"), replies
        assert replies[1] == "1 error 127.0.0.1 is in the allowed networks: never banned", replies
        assert replies[2].startswith("1 error unknown request"), replies
        assert replies[3] == "1 ok banned 127.0.0.9 for 60 s", replies
        assert replies[4] == "1 ok banned 2001:db8::1 for 60 s", replies
        head, *bans = replies[5].split("\n")
        assert head == "1 ok 2 banned drops=0", replies[5]   # the counter banned_drops, nothing dropped yet
        assert [b.split()[0] for b in bans] == ["127.0.0.9", "2001:db8::1"] and bans[0].endswith(" manual"), bans
        assert banned4() == ["127.0.0.9"]
        [r] = ask("1 unban 127.0.0.9")
        assert r == "1 ok unbanned 127.0.0.9" and banned4() == [], r
        # Re-applying keeps the bans and never touches another table.
        [r] = ask(f"1 apply ports={ports} allow=-")
        assert r.startswith("1 ok applied"), r
        assert "2001:db8::1" in nft("list", "set", "inet", "boxmail", "banned6").stdout
        figures["kept context" if keep else "child per batch"] = memory(helper.pid)
        ours.close()   # EOF: the helper deletes the table and exits
        assert helper.wait(timeout=20) == 0
        err = helper.stderr.read()
        assert "refused a malformed request" in err and "table inet boxmail deleted" in err, err
        assert table() is None
    # SIGTERM to the helper itself: it deletes the table too.
    helper, ours = serve_helper()
    ours.send(b"1 apply ports=25 allow=-")
    assert ours.recv(65536).startswith(b"1 ok applied")
    assert table() is not None
    helper.terminate()
    assert helper.wait(timeout=20) == 0
    assert table() is None
    ours.close()
    # A boxmaild killed and restarted at once: the new helper applies while
    # the old one has yet to see EOF. The old one's cleanup (delete table)
    # must not undo the new one's apply: the new helper waits for it.
    old, old_ours = serve_helper()
    old_ours.send(b"1 apply ports=25 allow=-")
    assert old_ours.recv(65536).startswith(b"1 ok applied")
    new, new_ours = serve_helper(stderr=subprocess.PIPE)
    new_ours.send(b"1 apply ports=25,110 allow=-")
    time.sleep(0.5)
    old_ours.close()   # the old helper sees EOF now, after the new one was asked to apply
    assert old.wait(timeout=20) == 0
    assert new_ours.recv(65536).startswith(b"1 ok applied: 2 ports")
    t = table()
    assert t is not None and "tcp dport { 25, 110 }" in t, "the old helper's cleanup deleted the new table"
    new_ours.close()
    assert new.wait(timeout=20) == 0
    err = new.stderr.read()
    assert re.search(r"waited \d+ ms for the helper before this one to clean up", err), err
    assert table() is None
    print("a helper started while the one before it still owns the table waits for its cleanup: the new table stays")
    assert nft("list", "table", "inet", "filter").stdout == foreign
    for model, (rss, hwm, pss, anon) in figures.items():
        print(f"boxmail-fw resident, {model}: VmRSS {rss} kB (peak {hwm} kB), Pss {pss} kB, anonymous {anon} kB")
    print("boxmail-fw refuses every malformed request, answers a batch in order, deletes the table at EOF; "
          "inet filter untouched")
    nft("delete", "table", "inet", "filter")


if __name__ == "__main__":
    boxtest.run(main)
