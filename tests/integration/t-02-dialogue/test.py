"""t-02-dialogue: the exact reply to each command, sequence error and address form.

Each block below is one connection, the dialogue written out: C: is what the
client sends, S: the reply it must get (code and enhanced status code; the
greeting, EHLO/HELO replies and 354 carry no enhanced code, RFC 2034 3).
A second box checks the banner after "ESMTP boxmail" and vrfy = yes
(VRFY alice@x.example, <bob@x.example> and plain "alice" -> 250 2.1.5;
nosuchuser, with or without a domain -> 550 5.1.1).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, Dialogue, read, run, split_stored, to_crlf_dotstuffed  # noqa: E402

HOST = "mx.test.example"
SIZE = 10485760


def basic_commands(box):
    d = Dialogue(box.port)
    # S: 220 mx.test.example ESMTP boxmail
    lines = d.expect(220)
    assert lines == [f"{HOST} ESMTP boxmail"], lines
    # C: EHLO -> 250-host, PIPELINING, SIZE n, 8BITMIME, STARTTLS, AUTH (the
    # harness lets loopback log in without TLS), 250 ENHANCEDSTATUSCODES
    d.send("EHLO client.example")
    lines = d.expect(250)
    assert lines == [HOST, "PIPELINING", f"SIZE {SIZE}", "8BITMIME", "STARTTLS", "AUTH PLAIN LOGIN",
                     "ENHANCEDSTATUSCODES"], lines
    # C: HELO -> 250 host
    d.send("HELO client.example")
    assert d.expect(250) == [HOST]
    d.send("NOOP")
    d.expect(250, "2.0.0")
    d.send("RSET")
    d.expect(250, "2.0.0")
    d.send("HELP")
    d.expect(214, "2.0.0")
    d.send("VRFY alice")
    d.expect(252, "2.5.0")
    d.send("XYZZY")
    d.expect(500, "5.5.2")
    # lower case verbs are the same verbs (RFC 5321 2.4)
    d.send("noop")
    d.expect(250, "2.0.0")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    assert d.closed(), "connection still open after 221"
    assert d.buf == b"", d.buf


def sequence_errors(box):
    # MAIL before EHLO/HELO
    d = Dialogue(box.port)
    d.expect(220)
    d.send("MAIL FROM:<a@client.example>")
    d.expect(503, "5.5.1")
    d.send("EHLO client.example")
    d.expect(250)
    # RCPT before MAIL
    d.send("RCPT TO:<alice@x.example>")
    d.expect(503, "5.5.1")
    # DATA before MAIL
    d.send("DATA")
    d.expect(503, "5.5.1")
    d.send("MAIL FROM:<a@client.example>")
    d.expect(250, "2.1.0")
    # DATA before RCPT
    d.send("DATA")
    d.expect(503, "5.5.1")
    # nested MAIL
    d.send("MAIL FROM:<b@client.example>")
    d.expect(503, "5.5.1")
    # RSET ends the transaction: MAIL is allowed again
    d.send("RSET")
    d.expect(250, "2.0.0")
    d.send("MAIL FROM:<b@client.example>")
    d.expect(250, "2.1.0")
    # all RCPTs refused, then DATA: 554 5.5.1 no valid recipients
    d.send("RCPT TO:<nosuchuser@x.example>")
    d.expect(550, "5.1.1")
    d.send("DATA")
    d.expect(554, "5.5.1")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()


def syntax_errors(box):
    d = Dialogue(box.port)
    d.hello()
    for bad in ("MAIL FROM:alice@client.example",       # no angle brackets
                "MAIL FROM:<alice@client.example",      # unclosed
                "MAIL FROM:<a b@client.example>",       # space in local-part
                "MAIL FROM:<alice@>",                   # no domain
                "MAIL FROM:<alice@@client.example>",
                "MAIL TO:<alice@client.example>"):
        d.send(bad)
        code, lines = d.reply()
        assert code == 501 and lines[-1][:6] in ("5.5.4 ", "5.1.7 "), (bad, code, lines)
    d.send("MAIL FROM:<a@client.example> FOO=bar")
    d.expect(555, "5.5.4")
    d.send("MAIL FROM:<a@client.example>")
    d.expect(250, "2.1.0")
    for bad in ("RCPT TO:<alice@@x.example>",
                "RCPT TO:<alice@host@us.example>",      # user@host@us
                "RCPT TO:<alice@x.example",
                "RCPT TO:<>",
                "RCPT TO:<alice@-bad-.example>",
                "RCPT TO:<a\"b@x.example>"):
        d.send(bad)
        d.expect(501, "5.1.3")
    d.send("RCPT TO:<alice@x.example> FOO=bar")
    d.expect(555, "5.5.4")
    d.send("RCPT TO:<alice@x.example>")
    d.expect(250, "2.1.5")
    d.send("RSET")
    d.expect(250, "2.0.0")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()


def address_forms(box):
    """Each accepted form delivers: one message per form, checked in the Maildir."""
    cases = [
        # (reverse-path, forward-path, mailbox that gets it)
        ("a@client.example", '"alice"@x.example', "alice"),          # quoted local-part
        ("a@client.example", "bob@[127.0.0.1]", "bob"),             # address literal
        ("a@client.example", "@a.example,@b.example:alice@x.example", "alice"),  # source route
        ("a@client.example", "Postmaster", None),                   # <Postmaster>, no domain
        ("", "bob@x.example", "bob"),                               # null reverse-path
        ("a@[192.0.2.1]", "alice@x.example", "alice"),              # literal in reverse-path
    ]
    d = Dialogue(box.port)
    d.hello()
    for i, (sender, rcpt, mailbox) in enumerate(cases):
        before = {b: len(f) for b, f in box.delivered().items()}
        body = f"Subject: form {i}\n\nform {i}: {rcpt}\n".encode()
        code, lines = d.transaction(sender, [rcpt], to_crlf_dotstuffed(body))
        assert code == 250 and lines[-1].startswith("2.0.0 "), (rcpt, code, lines)
        after = box.delivered()
        grown = [b for b, f in after.items() if len(f) != before.get(b, 0)]
        assert len(grown) == 1, (rcpt, grown)
        if mailbox is not None:
            assert grown == [mailbox], (rcpt, grown)
        newest = [p for p in after[grown[0]] if read(p).endswith(body)]
        assert len(newest) == 1, (rcpt, newest)
        added, original = split_stored(read(newest[0]))
        assert original == body
        assert added.startswith(f"Return-Path: <{sender}>\n".encode()), added
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()


def more_rules(box):
    d = Dialogue(box.port)
    d.expect(220)
    # EHLO/HELO need a domain (RFC 5321 4.1.1.1)
    d.send("EHLO")
    d.expect(501, "5.5.4")
    d.send("HELO")
    d.expect(501, "5.5.4")
    # commands trickled one byte per write are the same commands
    for b in b"EHLO trickle.example\r\nNOOP\r\n":
        d.send(bytes([b]), raw=True)
    assert d.expect(250)[0] == HOST
    d.expect(250, "2.0.0")
    # EHLO in a transaction resets it (RFC 5321 4.1.4)
    d.send("MAIL FROM:<a@client.example>")
    d.expect(250, "2.1.0")
    d.send("EHLO client.example")
    d.expect(250)
    d.send("RCPT TO:<alice@x.example>")
    d.expect(503, "5.5.1")
    # SIZE= must be a number
    d.send("MAIL FROM:<a@client.example> SIZE=abc")
    d.expect(501, "5.5.4")
    d.send("MAIL FROM:<a@client.example> SIZE=1000")
    d.expect(250, "2.1.0")
    # RFC 5321 4.5.3.1: local-part at most 64 octets, domain at most 255
    d.send("RCPT TO:<" + "a" * 65 + "@x.example>")
    d.expect(501, "5.1.3")
    d.send("RCPT TO:<alice@" + ("d" * 63 + ".") * 4 + "example>")
    d.expect(501, "5.1.3")
    # case of the domain and of the local-part does not matter
    d.send("RCPT TO:<ALICE@X.EXAMPLE>")
    d.expect(250, "2.1.5")
    d.send("DATA extra")
    d.expect(501, "5.5.4")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    d.close()


def http_refused(box):
    for request in (b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                    b"POST /cgi-bin/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\n\r\nQUIT",
                    b"CONNECT 10.0.0.1:25 HTTP/1.1\r\n\r\n"):
        d = Dialogue(box.port)
        d.expect(220)
        d.send(request, raw=True)
        d.expect(554, "5.7.0")
        assert d.closed(), f"not closed after {request[:8]!r}"
        assert d.buf == b"", f"more replies after the 554: {d.buf!r}"
    # also after EHLO
    d = Dialogue(box.port)
    d.hello()
    d.send("GET / HTTP/1.0")
    d.expect(554, "5.7.0")
    assert d.closed()


def banner_and_vrfy():
    with Box(config={"smtp": {"banner": "Office mail, be nice", "vrfy": "yes"}},
             name="vrfy") as box:
        box.start()
        d = Dialogue(box.port)
        assert d.expect(220) == [f"{HOST} ESMTP boxmail Office mail, be nice"]
        d.send("EHLO client.example")
        d.expect(250)
        d.send("VRFY alice@x.example")
        d.expect(250, "2.1.5", text="alice")
        d.send("VRFY <bob@x.example>")
        d.expect(250, "2.1.5", text="bob")
        d.send("VRFY nosuchuser@x.example")
        d.expect(550, "5.1.1")
        # RFC 5321 3.5.1/4.1.1.6: the argument is a String, a user name alone
        # is a valid one ("VRFY Smith" in 3.5.2): not a syntax error
        d.send("VRFY alice")
        d.expect(250, "2.1.5", text="alice")
        d.send("VRFY nosuchuser")
        d.expect(550, "5.1.1")
        d.send("QUIT")
        d.expect(221, "2.0.0")
        d.close()


def main():
    with Box(config={"smtp": {"accept_domains": "*", "max_message_size": str(SIZE),
                              "max_errors": "50"}}) as box:
        box.start()
        basic_commands(box)
        sequence_errors(box)
        syntax_errors(box)
        address_forms(box)
        more_rules(box)
        http_refused(box)
    banner_and_vrfy()


run(main)
