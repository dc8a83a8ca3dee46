"""t-01-smtplib: Python's smtplib delivers to one mailbox and to two.

Dialogue (smtplib does the SMTP):
  client: EHLO, MAIL FROM:<sender@client.example>, RCPT TO:<alice@...>, DATA, message
  server: 250 2.0.0 Ok: queued as QID
Checks:
  - one file in alice's new/, none in bob's; Maildir tmp/ empty afterwards;
  - the file is "Return-Path: <sender>" + one Received: header (naming our
    host) + the message byte-exact (LF line ends, dot-stuffing removed);
  - the name ends in ,S=<file size>,W=<CRLF size>, and both are right;
  - a log line "QID: ... from=... rcpt=... result=accepted" with the QID of
    the 250 reply;
  - to alice and bob at once: one file in each new/, the same inode (one file
    hard-linked into both Maildirs), identical content.
"""
import os
import re
import smtplib
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from boxtest import Box, maildir_sizes, poll, qid_of, read, run, split_stored  # noqa: E402

MESSAGE = (
    b"From: Sender <sender@client.example>\n"
    b"To: Alice <alice@feed.example>\n"
    b"Subject: t-01 smtplib\n"
    b"Message-ID: <t01.1@client.example>\n"
    b"\n"
    b"First line of the body.\n"
    b".A line that starts with a dot (dot-stuffed on the wire).\n"
    b"..two dots\n"
    b".\n"
    b"\n"
    b"Trailing spaces stay   \n"
    b"\tTab-led line\n"
    b"Last line.\n"
)


def send(box, rcpts, message):
    """smtplib transaction; returns the (code, text) of the reply to DATA."""
    with smtplib.SMTP("127.0.0.1", box.port, local_hostname="client.example", timeout=30) as s:
        code, _ = s.ehlo()
        assert code == 250, code
        code, _ = s.mail("sender@client.example")
        assert code == 250, code
        for r in rcpts:
            code, text = s.rcpt(r)
            assert code == 250, (r, code, text)
        # a str is sent with CRLF line ends (bytes would go out as they are)
        code, text = s.data(message.decode("ascii"))
        return code, text.decode()


def check_file(path, message, sender="sender@client.example"):
    data = read(path)
    added, original = split_stored(data)
    assert original == message, f"body differs:\n{original!r}\n!=\n{message!r}"
    assert added.startswith(f"Return-Path: <{sender}>\n".encode()), added
    received = added.split(b"\n", 1)[1]
    assert received.count(b"Received:") == 1, added
    assert b"mx.test.example" in received, f"Received: does not name our host: {received!r}"
    assert not data.count(b"\r\n"), "CRLF stored; line ends must be LF"
    maildir_sizes(path)
    return data


def main():
    with Box(config={"smtp": {"accept_domains": "*"}}) as box:
        box.start()

        # -- one recipient ----------------------------------------------------
        code, text = send(box, ["alice@feed.example"], MESSAGE)
        assert code == 250 and text.startswith("2.0.0 "), (code, text)
        qid = qid_of([text])
        alice = box.messages("alice")
        assert len(alice) == 1, alice
        assert box.messages("bob") == [], box.messages("bob")
        assert box.tmp_files() == [], box.tmp_files()
        data = check_file(alice[0], MESSAGE)
        # the stored Received: carries the same queue id (RFC 5321 4.4 "id")
        assert f" id {qid}".encode() in split_stored(data)[0], split_stored(data)[0]
        m = box.wait_log(rf"^boxmaild: {re.escape(qid)}: .*result=accepted.*$")
        line = m.group(0)
        assert "client=127.0.0.1" in line, line
        assert "helo=client.example" in line, line
        assert re.search(r"from=<?sender@client\.example>?", line), line
        assert re.search(r"rcpt=\S*alice@feed\.example", line), line
        assert re.search(r'reply="250 2\.0\.0 ', line), line

        # -- two recipients: one file, hard-linked ----------------------------
        message2 = MESSAGE.replace(b"t-01 smtplib", b"t-01 smtplib, two recipients")
        code, text = send(box, ["alice@feed.example", "bob@other.example"], message2)
        assert code == 250 and text.startswith("2.0.0 "), (code, text)
        qid2 = qid_of([text])
        assert qid2 != qid, (qid, qid2)
        alice = box.messages("alice")
        bob = box.messages("bob")
        assert len(alice) == 2 and len(bob) == 1, (alice, bob)
        new_alice = [p for p in alice if read(p).endswith(message2)]
        assert len(new_alice) == 1, new_alice
        a_st, b_st = os.stat(new_alice[0]), os.stat(bob[0])
        assert a_st.st_ino == b_st.st_ino and a_st.st_dev == b_st.st_dev, \
            "the two deliveries are not one hard-linked file"
        # two links, one per Maildir (the daemon may drop its spool link just
        # after the 250, so poll for that briefly)
        poll(lambda: os.stat(bob[0]).st_nlink == 2, 5,
             f"link count 2 (is {os.stat(bob[0]).st_nlink})")
        check_file(bob[0], message2)
        assert read(new_alice[0]) == read(bob[0])
        assert box.tmp_files() == [], box.tmp_files()
        line = box.wait_log(rf"^boxmaild: {re.escape(qid2)}: .*result=accepted.*$").group(0)
        assert re.search(r"rcpt=\S*alice@feed\.example\S*,\S*bob@other\.example", line), line


run(main)
