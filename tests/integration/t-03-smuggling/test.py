"""t-03-smuggling: only CRLF.CRLF ends DATA (SMTP smuggling, CVE-2023-51764 family).

For each end-of-data look-alike the client sends, after DATA/354, one write:
  "Subject: smuggle N\r\n\r\nbefore" LOOKALIKE
  "MAIL FROM:<evil@x.example>\r\nRCPT TO:<bob@x.example>\r\nDATA\r\nsmuggled\r\n"
  "after\r\n.\r\n"
Default config (bare_lf=normalize, bare_cr=keep): exactly one reply, 250 2.0.0
(checked: the next NOOP gets 250 2.0.0, not a smuggled MAIL's 250 2.1.0), one
message, to alice only, holding the smuggled text; bob gets nothing.
bare_lf=reject: the look-alikes with a bare LF get 550 5.5.2 after the real
end and nothing is delivered; the others still make one message.
bare_cr=reject: the look-alikes with a bare CR get 550 5.5.2 likewise.
Also (default config): bare CR bytes are stored intact; a bare-LF line end is
stored as a line end.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, Dialogue, read, run, split_stored  # noqa: E402

SMUGGLED = b"MAIL FROM:<evil@x.example>\r\nRCPT TO:<bob@x.example>\r\nDATA\r\nsmuggled\r\n"

# (name, look-alike, has bare LF, has bare CR)
LOOKALIKES = [
    ("LF.LF", b"\n.\n", True, False),
    ("LF.CRLF", b"\n.\r\n", True, False),
    ("CR.CRLF", b"\r.\r\n", False, True),
    ("CRLF.CR", b"\r\n.\r", False, True),      # followed directly by "MAIL FROM..."
    ("CRLF.NUL", b"\r\n.\0\r\n", False, False),
]


def payload(i, lookalike):
    return (f"Subject: smuggle {i}\r\n\r\nbefore".encode() + lookalike + SMUGGLED
            + b"after\r\n.\r\n")


def attempt(box, i, lookalike):
    """Sends one look-alike message; returns the (code, lines) of the one reply
    after the real end, having checked that no second reply follows."""
    d = Dialogue(box.port)
    d.hello()
    d.send("MAIL FROM:<sender@client.example>")
    d.expect(250, "2.1.0")
    d.send("RCPT TO:<alice@x.example>")
    d.expect(250, "2.1.5")
    d.send("DATA")
    d.expect(354)
    d.send(payload(i, lookalike), raw=True)
    code, lines = d.reply()
    # Anything smuggled would answer before this NOOP.
    d.send("NOOP")
    d.expect(250, "2.0.0", text="^2.0.0 Ok")
    d.send("QUIT")
    d.expect(221, "2.0.0")
    assert d.closed()
    assert d.buf == b"", d.buf
    d.close()
    return code, lines


def check_one_message(box, i, before):
    alice = box.messages("alice")
    assert len(alice) == before + 1, (i, alice)
    assert box.messages("bob") == [], box.messages("bob")
    assert set(box.delivered()) == {"alice"}, box.delivered()
    newest = [p for p in alice if f"Subject: smuggle {i}\n".encode() in read(p)]
    assert len(newest) == 1, newest
    _, original = split_stored(read(newest[0]))
    assert original.startswith(f"Subject: smuggle {i}\n\nbefore".encode()), original
    for part in (b"MAIL FROM:<evil@x.example>\n", b"RCPT TO:<bob@x.example>\n",
                 b"DATA\n", b"smuggled\n"):
        assert part in original, (i, part, original)
    assert original.endswith(b"after\n"), original


def run_box(config, refused):
    """REFUSED(bare_lf, bare_cr) -> True when the config must refuse the message."""
    with Box(config={"smtp": dict(config, accept_domains="*")}, name="smuggle") as box:
        box.start()
        for i, (name, lookalike, bare_lf, bare_cr) in enumerate(LOOKALIKES):
            before = len(box.messages("alice"))
            code, lines = attempt(box, i, lookalike)
            if refused(bare_lf, bare_cr):
                assert (code, lines[-1][:6]) == (550, "5.5.2 "), (config, name, code, lines)
                assert box.delivered().get("alice", []) == box.messages("alice")
                assert len(box.messages("alice")) == before, (config, name)
                assert box.messages("bob") == []
            else:
                assert (code, lines[-1][:6]) == (250, "2.0.0 "), (config, name, code, lines)
                check_one_message(box, i, before)
        assert box.tmp_files() == [], box.tmp_files()
        return box.log()


def bare_bytes_kept():
    with Box(config={"smtp": {"accept_domains": "*"}}, name="bare") as box:
        box.start()
        d = Dialogue(box.port)
        d.hello()
        # bare CR inside lines and at a line's end: kept as data bytes
        msg_cr = b"Subject: bare CR\r\n\r\na\rb\r\nend of line\r\r\n\rstart\r\n.\r\n"
        code, lines = d.transaction("s@client.example", ["alice@x.example"], msg_cr)
        assert code == 250, (code, lines)
        # bare LF line end: taken as a line end (normalize)
        msg_lf = b"Subject: bare LF\r\n\r\nline one\nline two\r\nline three\r\n.\r\n"
        code, lines = d.transaction("s@client.example", ["bob@x.example"], msg_lf)
        assert code == 250, (code, lines)
        d.send("QUIT")
        d.expect(221)
        d.close()
        (a,) = box.messages("alice")
        _, original = split_stored(read(a))
        assert original == b"Subject: bare CR\n\na\rb\nend of line\r\n\rstart\n", original
        (b,) = box.messages("bob")
        _, original = split_stored(read(b))
        assert original == b"Subject: bare LF\n\nline one\nline two\nline three\n", original


def main():
    run_box({}, lambda lf, cr: False)
    run_box({"bare_lf": "reject"}, lambda lf, cr: lf)
    run_box({"bare_cr": "reject"}, lambda lf, cr: cr)
    bare_bytes_kept()


run(main)
