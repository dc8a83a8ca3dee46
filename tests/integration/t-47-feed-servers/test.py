"""t-47-feed-servers: [smtp] feed_servers restricts the feed port, and the
daemon refuses banned clients itself (issue 11; smtp/feed_list.hpp,
docs/firewall.md "Feed servers"), inside the test's private network
namespace (tests/netns-run: a real nf_tables ruleset, never the host's).

dnsmasq on 127.0.0.1 is boxmaild's DNS server; mx.isp.test comes from a
hosts file it re-reads on SIGHUP. Box: [firewall] enabled, allow =
127.0.0.1; feed_servers = 127.0.0.3 mx.isp.test; feed_refresh = 1 s.
Clients bind 127.0.0.x.

  (1) mx.isp.test resolves to 127.0.0.4: the set feed4 holds 127.0.0.1
      (allow), 127.0.0.3 and 127.0.0.4; the feed port greets .3, .4 and .1;
      127.0.0.5 gets nothing (dropped; counter feed_drops counts), while
      its submission and POP3 connections are greeted.
  (2) The firewall gone (`nft delete table inet boxmail`): 127.0.0.5 gets
      "554 5.7.1" from the daemon itself, 503 5.5.1 to EHLO and 221 to
      QUIT (RFC 5321 3.1); the log says why; .3 still gets 220.
  (3) A reload with feed_servers = 127.0.0.5 mx.isp.test re-applies the
      table: feed4 holds .5 instead of .3; .5 is greeted, .3 dropped.
  (4) mx.isp.test moves to 127.0.0.6 (hosts file, SIGHUP): after a refresh
      the log and feed4 say 127.0.0.6, which is greeted; .4 is not.
  (5) DNS down (dnsmasq stopped): the lookups fail, logged ("keeping");
      feed4 still holds 127.0.0.6, which is still greeted.
  (6) A banned address with the table deleted (a dead firewall):
      `boxmailctl ban 127.0.0.5` then `nft delete table inet boxmail`:
      127.0.0.5 gets "421 4.7.0" on the feed and submission ports and
      "-ERR" on POP3 from the daemon, logged; 127.0.0.6 is still greeted.
"""
import ipaddress
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from fwtest import greeting, nft  # noqa: E402

FW = os.path.join(boxtest.BUILD, "boxmail-fw")


def feed4():
    """The addresses in feed4 (auto-merge lists neighbours as ranges: expanded)."""
    t = nft("list", "set", "inet", "boxmail", "feed4", check=False).stdout
    m = re.search(r"elements = \{([^}]*)\}", t)
    out = []
    for e in (m.group(1).split(",") if m else []):
        e = e.strip()
        if "/" in e:
            out += [str(h) for h in ipaddress.ip_network(e)]
            continue
        first, _, last = e.partition("-")
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last or first)
        out += [str(ipaddress.ip_address(int(a) + i)) for i in range(int(b) - int(a) + 1)]
    return sorted(out)


def feed_drops():
    t = nft("list", "counter", "inet", "boxmail", "feed_drops").stdout
    return int(re.search(r"packets (\d+)", t).group(1))


def greeted(port, source):
    g = greeting(port, source)
    return g is not None and g.startswith(("220", "+OK"))


def start_dnsmasq(directory, hosts):
    port = boxtest.free_port()
    args = ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
            f"--addn-hosts={hosts}", "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={port}",
            "--user=root", f"--pid-file={os.path.join(directory, 'dnsmasq.pid')}", "--local=/test/",
            "--log-queries", f"--log-facility={os.path.join(directory, 'dnsmasq.log')}"]
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port


def write_hosts(path, address):
    with open(path, "w") as f:
        f.write(f"{address} mx.isp.test\n")


def main():
    box = None
    dns = None
    try:
        box = boxtest.Box(name="t47", config={
            "firewall": {"enabled": "yes", "program": FW, "allow": "127.0.0.1"},
            "smtp": {"feed_servers": "127.0.0.3 mx.isp.test", "feed_refresh": "1"},
            "server": {"plaintext_login_networks": "127.0.0.0/8"},
        })
        hosts = os.path.join(box.dir, "hosts")
        write_hosts(hosts, "127.0.0.4")
        dns, dns_port = start_dnsmasq(box.dir, hosts)
        box.write_config({"dns": {"servers": f"127.0.0.1:{dns_port}", "timeout": "1", "attempts": "1"}})
        box.start()

        # (1)
        box.wait_log(r"feed_servers: mx\.isp\.test is 127\.0\.0\.4")
        boxtest.poll(lambda: feed4() == ["127.0.0.1", "127.0.0.3", "127.0.0.4"], what="feed4 filled")
        for source in ("127.0.0.3", "127.0.0.4", "127.0.0.1"):
            assert greeted(box.port, source), source
        before = feed_drops()
        assert greeting(box.port, "127.0.0.5") is None, "127.0.0.5 reached the feed port"
        assert feed_drops() > before, "feed_drops did not count"
        assert greeted(box.submission_port, "127.0.0.5"), "submission refused"
        assert greeted(box.pop3_port, "127.0.0.5"), "POP3 refused"
        print(f"ok (1) feed4 = {feed4()}; .3 .4 .1 greeted on 25; .5 dropped (feed_drops {feed_drops()}); "
              ".5 greeted on submission and POP3")

        # (2)
        nft("delete", "table", "inet", "boxmail")
        mark = len(box.log())
        d = boxtest.Dialogue(box.port, source="127.0.0.5")
        try:
            code, lines = d.reply()
            assert code == 554 and lines[-1].startswith("5.7.1 No SMTP service here for client host [127.0.0.5]"), lines
            d.send("EHLO client.example")
            code, lines = d.reply()
            assert code == 503, (code, lines)
            d.send("QUIT")
            d.expect(221)
        finally:
            d.close()
        box.wait_log(r"smtp: client=127\.0\.0\.5 refused: not a feed server", start=mark)
        assert greeted(box.port, "127.0.0.3")
        print("ok (2) no table: 127.0.0.5 gets 554 5.7.1 from the daemon, 503 to EHLO, 221 to QUIT; .3 greeted")

        # (3)
        box.write_config({"smtp": {"feed_servers": "127.0.0.5 mx.isp.test"}})
        reply = box.control("reload")
        assert reply[0].startswith("ok"), reply
        boxtest.poll(lambda: feed4() == ["127.0.0.1", "127.0.0.4", "127.0.0.5"], what="feed4 after the reload")
        assert greeted(box.port, "127.0.0.5")
        assert greeting(box.port, "127.0.0.3") is None
        print(f"ok (3) reload: feed4 = {feed4()}; .5 greeted, .3 dropped")

        # (4)
        mark = len(box.log())
        write_hosts(hosts, "127.0.0.6")
        dns.send_signal(signal.SIGHUP)
        box.wait_log(r"feed_servers: mx\.isp\.test is 127\.0\.0\.6", start=mark, timeout=15)
        boxtest.poll(lambda: feed4() == ["127.0.0.1", "127.0.0.5", "127.0.0.6"], what="feed4 after the move")
        assert greeted(box.port, "127.0.0.6")
        assert greeting(box.port, "127.0.0.4") is None
        print(f"ok (4) the name moved: feed4 = {feed4()}")

        # (5)
        mark = len(box.log())
        dns.terminate()
        dns.wait(timeout=10)
        dns = None
        box.wait_log(r"feed_servers: mx\.isp\.test did not resolve \(.*\); its last addresses stay admitted",
                     start=mark, timeout=15)
        time.sleep(1.5)   # another round
        assert feed4() == ["127.0.0.1", "127.0.0.5", "127.0.0.6"], feed4()
        assert greeted(box.port, "127.0.0.6")
        print("ok (5) DNS down: the lookups fail, logged; feed4 keeps 127.0.0.6, which is greeted")

        # (6)
        box.ctl("ban", "127.0.0.5", "600")
        nft("delete", "table", "inet", "boxmail")
        mark = len(box.log())
        for port in (box.port, box.submission_port):
            g = greeting(port, "127.0.0.5")
            assert g is not None and g.startswith("421 4.7.0"), (port, g)
        g = greeting(box.pop3_port, "127.0.0.5")
        assert g is not None and g.startswith("-ERR"), g
        box.wait_log(r"smtp: client=127\.0\.0\.5 refused: banned", start=mark)
        box.wait_log(r"pop3: client=127\.0\.0\.5 refused: banned", start=mark)
        assert greeted(box.port, "127.0.0.6")
        print(f"ok (6) banned, no table: 127.0.0.5 gets '{g}' on POP3 and 421 4.7.0 on SMTP from the daemon")
    except BaseException:
        if box is not None:
            print("---- boxmaild log (tail) ----\n" + box.log()[-3000:])
            print("---- nft ----\n" + nft("list", "table", "inet", "boxmail", check=False).stdout)
        raise
    finally:
        if dns is not None:
            dns.terminate()
            dns.wait(timeout=10)
        if box is not None:
            box.stop()
            box.cleanup()


if __name__ == "__main__":
    main()
    print("t-47-feed-servers: all ok")
