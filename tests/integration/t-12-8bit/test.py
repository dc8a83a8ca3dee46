"""t-12-8bit: 8BITMIME (RFC 6152).

  C: MAIL FROM:<s@client.example> BODY=8BITMIME   S: 250 2.1.0
  C: RCPT TO:<alice@x.example>                    S: 250 2.1.5
  C: DATA / message with Latin-1 and UTF-8 bytes in header and body / .
  S: 250 2.0.0  -> stored byte-exact (LF line ends)
  C: MAIL FROM:<s@client.example> BODY=7BIT       S: 250 2.1.0  (delivered too)
  C: MAIL FROM:<s@client.example> BODY=foo        S: 501 5.5.4
  C: MAIL FROM:<s@client.example> body=8bitmime   S: 250 2.1.0  (keywords are case-insensitive)
Also: every octet 0x80..0xFF and the controls other than CR, LF and NUL in a
body line arrive unchanged.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, Dialogue, maildir_sizes, read, run, split_stored, to_crlf_dotstuffed  # noqa: E402

EIGHT_BIT = (
    "Subject: Grüße aus Köln – ½ price €\n".encode("utf-8")
    + b"X-Latin1: caf\xe9 na\xefve \xa3 \xff\n"
    + b"Content-Type: text/plain; charset=utf-8\n"
    + b"Content-Transfer-Encoding: 8bit\n"
    + b"\n"
    + "Zürich, Ελληνικά, 日本語, emoji 😀\n".encode("utf-8")
    + b"Latin-1 line: Gr\xfc\xdfe \xe0 \xe9t\xe9\n"
    + b"all high octets: " + bytes(range(0x80, 0x100)) + b"\n"
    + b"controls: " + bytes(c for c in range(1, 0x20) if c not in (0x0a, 0x0d)) + b"\x7f\n"
    + b".leading dot \xe9\n"
)
SEVEN_BIT = b"Subject: plain\n\nplain ASCII body\n"


def main():
    with Box(config={"smtp": {"accept_domains": "*"}}) as box:
        box.start()
        d = Dialogue(box.port)
        lines = d.hello()
        assert "8BITMIME" in lines, lines
        code, lines = d.transaction("s@client.example", ["alice@x.example"],
                                    to_crlf_dotstuffed(EIGHT_BIT), params="BODY=8BITMIME")
        assert (code, lines[-1][:5]) == (250, "2.0.0"), (code, lines)
        code, lines = d.transaction("s@client.example", ["bob@x.example"],
                                    to_crlf_dotstuffed(SEVEN_BIT), params="BODY=7BIT")
        assert (code, lines[-1][:5]) == (250, "2.0.0"), (code, lines)
        d.send("MAIL FROM:<s@client.example> BODY=foo")
        d.expect(501, "5.5.4")
        d.send("MAIL FROM:<s@client.example> BODY=")
        d.expect(501, "5.5.4")
        d.send("MAIL FROM:<s@client.example> body=8bitmime SIZE=1000")
        d.expect(250, "2.1.0")
        d.send("RSET")
        d.expect(250, "2.0.0")
        d.send("QUIT")
        d.expect(221, "2.0.0")
        d.close()

        (a,) = box.messages("alice")
        added, original = split_stored(read(a))
        assert original == EIGHT_BIT, f"8-bit message changed:\n{original!r}\n!=\n{EIGHT_BIT!r}"
        maildir_sizes(a)
        (b,) = box.messages("bob")
        assert split_stored(read(b))[1] == SEVEN_BIT


run(main)
