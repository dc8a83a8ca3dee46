"""t-11-feed: recipient resolution of the SMTP feed (domain strip, aliases,
postmaster, catch-all, relay tricks).

Box "list" (accept_domains = example.com *.example.org; no catch_all;
max_alias_depth = 3; aliases sales = alice, bob / team = sales, carol /
devnull = null / deep1 = deep2 ... deep5 = alice / loop1 = loop2, loop2 = loop1):
  RCPT alice@example.com, alice@EXAMPLE.COM, alice@sub.example.org -> 250 2.1.5
  RCPT alice@example.org, alice@other.net, alice@[127.0.0.1] -> 550 5.7.1
  ALICE@example.com -> alice; sales@ -> alice and bob (one file, linked);
  team@ (nested) -> alice, bob, carol; devnull@ -> 250, DATA -> 250, nothing
  stored; deep1@ and loop1@ -> 550 5.4.6; postmaster@ and <Postmaster> ->
  delivered (to the first mailbox, alice); nosuch@ -> 550 5.1.1;
  relay tricks -> 550 5.7.1, nothing stored anywhere.
Box "star" (accept_domains = *, catch_all = bob):
  any domain -> delivered; nosuch@anything -> bob (catch-all);
  the relay tricks are still 550 5.7.1 (the catch-all never takes them).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, Dialogue, read, run, split_stored, to_crlf_dotstuffed  # noqa: E402

RELAY_TRICKS = [
    "alice%evil.example@{dom}",
    '"alice@evil.example"@{dom}',
    "evil.example!alice@{dom}",
    '"alice%evil.example"@{dom}',
    "alice%evil.example%{dom}@{dom}",
]


def rcpt_codes(box, rcpts):
    """One transaction, RSET at the end; returns [(code, enhanced)] per RCPT."""
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<s@client.example>")
    d.expect(250, "2.1.0")
    out = []
    for r in rcpts:
        d.send(f"RCPT TO:<{r}>")
        code, lines = d.reply()
        out.append((code, lines[-1][:5]))
    d.send("QUIT")
    d.expect(221)
    d.close()
    return out


def deliver(box, rcpts, tag):
    """Delivers a message tagged TAG to RCPTS (each must get 250); returns the
    {mailbox: [files]} that hold it."""
    body = f"Subject: {tag}\n\n{tag}\n".encode()
    d = Dialogue(box.port)
    d.hello()
    code, lines = d.transaction("s@client.example", rcpts, to_crlf_dotstuffed(body))
    assert (code, lines[-1][:5]) == (250, "2.0.0"), (tag, code, lines)
    d.send("QUIT")
    d.expect(221)
    d.close()
    found = {}
    for mailbox, files in box.delivered().items():
        mine = [f for f in files if split_stored(read(f))[1] == body]
        if mine:
            found[mailbox] = mine
    return found


def relay_tricks(box, dom):
    before = box.delivered()
    rcpts = [t.format(dom=dom) for t in RELAY_TRICKS]
    codes = rcpt_codes(box, rcpts)
    assert codes == [(550, "5.7.1")] * len(rcpts), list(zip(rcpts, codes))
    # the same, then DATA: no valid recipients, and nothing stored anywhere
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<s@client.example>")
    d.expect(250, "2.1.0")
    for r in rcpts:
        d.send(f"RCPT TO:<{r}>")
        d.expect(550, "5.7.1")
    d.send("DATA")
    d.expect(554, "5.5.1")
    d.send("QUIT")
    d.expect(221)
    d.close()
    assert box.delivered() == before


def list_mode():
    aliases = {"sales": "alice, bob", "team": "sales, carol", "devnull": "null",
               "deep1": "deep2", "deep2": "deep3", "deep3": "deep4", "deep4": "deep5",
               "deep5": "alice", "loop1": "loop2", "loop2": "loop1"}
    with Box(config={"smtp": {"accept_domains": "example.com *.example.org",
                              "max_alias_depth": "3"},
                     "aliases": aliases},
             users=("alice", "bob", "carol"), name="list") as box:
        box.start()
        codes = rcpt_codes(box, ["alice@example.com", "alice@EXAMPLE.COM", "alice@sub.example.org",
                                 "alice@a.b.example.org", "alice@example.org", "alice@other.net",
                                 "alice@example.com.other.net", "alice@xexample.com",
                                 "alice@[127.0.0.1]", "nosuch@example.com", "deep1@example.com",
                                 "loop1@example.com"])
        assert codes == [(250, "2.1.5")] * 4 + [(550, "5.7.1")] * 5 + [
            (550, "5.1.1"), (550, "5.4.6"), (550, "5.4.6")], codes

        assert deliver(box, ["ALICE@Example.COM"], "upper case").keys() == {"alice"}
        got = deliver(box, ["sales@example.com"], "sales")
        assert got.keys() == {"alice", "bob"}, got
        assert os.stat(got["alice"][0]).st_ino == os.stat(got["bob"][0]).st_ino
        got = deliver(box, ["team@sub.example.org"], "team")
        assert got.keys() == {"alice", "bob", "carol"}, got
        assert all(len(v) == 1 for v in got.values()), got
        # an alias and its member both named: delivered once
        got = deliver(box, ["sales@example.com", "alice@example.com"], "dup")
        assert {k: len(v) for k, v in got.items()} == {"alice": 1, "bob": 1}, got
        got = deliver(box, ["postmaster@example.com"], "postmaster")
        assert got.keys() == {"alice"}, got
        got = deliver(box, ["Postmaster"], "Postmaster bare")
        assert got.keys() == {"alice"}, got

        before = box.delivered()
        got = deliver(box, ["devnull@example.com"], "discarded")
        assert got == {}, got
        assert box.delivered() == before
        assert box.tmp_files() == []

        relay_tricks(box, "example.com")


def star_mode():
    with Box(config={"smtp": {"accept_domains": "*", "catch_all": "bob"}},
             name="star") as box:
        box.start()
        assert deliver(box, ["alice@any.example"], "any").keys() == {"alice"}
        assert deliver(box, ["alice@[127.0.0.1]"], "literal").keys() == {"alice"}
        assert deliver(box, ["nosuch@else.example"], "caught").keys() == {"bob"}
        assert deliver(box, ["NoSuch2@else.example", "alice@x.example"], "caught2").keys() == {"alice", "bob"}
        relay_tricks(box, "any.example")


def main():
    list_mode()
    star_mode()


run(main)
