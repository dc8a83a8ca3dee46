"""t-25-pop3-truncated: message files changed behind the daemon's back
are reported, never sent short (issue 12, item 7).

POP3 announces a message's size from W= in its file name (no file is read
at login). The file is fstat'ed when RETR/TOP open it: when its size is not
the name's S= it is not sent.

Client sends / server replies, written out (alice has five messages):
  message 2 truncated to 12 octets, message 3 grown by 100 octets, both
  before the login;
  RETR 2 -> -ERR [SYS/TEMP] Message 2 cannot be sent: its file does not
  match its size; the log names the file (an error line); TOP 2 0 and
  LIST 2 -> the same -ERR; TOP 3 0 -> -ERR (the grown file), then RETR 3
  and LIST 3 too; STAT and LIST leave 2 and 3 out; RETR 1 -> the message,
  byte-exact; DELE 2 works.
  Message 4 (about 24 MiB) shrinks while it is being sent: the client
  reads only the first line, the file is truncated, then the client reads
  on: the connection ends WITHOUT the terminating "." (a client treats that
  as a failed retrieval), and the log says where the file ended.
  Message 5 keeps its size but gains a line end (its content no longer
  adds up to W=): the message is sent, but the connection ends without
  the "." and the log says so.
  A new session: RETR 1 still works.
  Store errors: bob's Maildir/new is a file, not a directory: a message
  to bob gets 451 4.3.0 and an error line with the mailbox, the Maildir
  and the errno text (not just "result=deferred" at info level).
"""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

DAMAGED = "-ERR [SYS/TEMP] Message {} cannot be sent: its file does not match its size"


def msg(i, lines=30):
    return f"Subject: message {i}\n\n".encode() + (f"line of message {i} ".encode() + b"z" * 40 + b"\n") * lines


def read_to_eof(sock):
    data = b""
    sock.settimeout(60)
    while True:
        chunk = sock.recv(1 << 20)
        if not chunk:
            return data
        data += chunk


def main():
    cfg = {"smtp": {"max_message_size": "64M"}}
    with boxtest.Box(config=cfg, users=("alice", "bob")) as box:
        box.start()
        big = b"Subject: big\n\n" + (b"b" * 1000 + b"\n") * (24 * 1024)
        for i in range(1, 6):
            box.deliver("alice@example.com", big if i == 4 else msg(i))
        files = box.messages("alice")
        assert len(files) == 5, files
        # Maildir order is delivery time; the names sort the same way here.
        files.sort(key=lambda p: (int(os.path.basename(p).split(".")[0]),
                                  int(os.path.basename(p).split(".M")[1].split("P")[0])))
        original1 = boxtest.read(files[0])
        os.truncate(files[1], 12)
        with open(files[2], "ab") as f:
            f.write(b"appended behind the daemon's back\n" * 3)
        data5 = bytearray(boxtest.read(files[4]))
        k = data5.index(b"z" * 40) + 5
        data5[k] = ord("\n")
        with open(files[4], "r+b") as f:
            f.write(bytes(data5))
        w = [int(os.path.basename(p).split(",W=")[1]) for p in files]

        start = len(box.log())
        p = box.pop3_dialogue()
        p.login("alice", "pw-alice")
        p.send("RETR 2")
        p.expect(DAMAGED.format(2), exact=True)
        box.wait_log(r"error: pop3: user=alice message file \S+/" + os.path.basename(files[1]) +
                     r" has 12 octets on disk, its name says \d+; not sent", start=start)
        p.send("TOP 2 0")
        p.expect(DAMAGED.format(2), exact=True)
        p.send("LIST 2")
        p.expect(DAMAGED.format(2), exact=True)
        p.send("TOP 3 0")
        p.expect(DAMAGED.format(3), exact=True)
        box.wait_log(r"error: pop3: user=alice message file \S+/" + os.path.basename(files[2]) +
                     r" has \d+ octets on disk", start=start)
        p.send("RETR 3")
        p.expect(DAMAGED.format(3), exact=True)
        p.send("LIST 3")
        p.expect(DAMAGED.format(3), exact=True)
        p.send("STAT")
        p.expect(f"+OK 3 {w[0] + w[3] + w[4]}", exact=True)
        p.send("LIST")
        p.expect("+OK 3 messages")
        listing = p.multiline().decode().split("\r\n")
        assert listing[:3] == [f"1 {w[0]}", f"4 {w[3]}", f"5 {w[4]}"], listing
        p.send("RETR 1")
        p.expect(f"+OK {w[0]} octets", exact=True)
        got = boxtest.unstuff(p.multiline())
        assert got == original1.replace(b"\n", b"\r\n"), got[:200]
        p.send("DELE 2")
        p.expect("+OK Message 2 deleted", exact=True)
        p.send("RSET")
        p.expect("+OK")

        # message 4 shrinks while it is being sent: no final "."
        p.send("RETR 4")
        p.expect(f"+OK {w[3]} octets", exact=True)
        os.truncate(files[3], 100)
        rest = p.buf + read_to_eof(p.sock)
        assert len(rest) < w[3], len(rest)
        assert not rest.endswith(b"\r\n.\r\n"), rest[-50:]
        p.close()
        box.wait_log(r"error: pop3: client=\S+ user=alice message \S+/" + os.path.basename(files[3]) +
                     r": the file ended at octet \d+ while it was sent \(\d+ expected\); "
                     r"connection closed without the final \".\"", start=start)

        # message 5: same size, different line count: sent, but no final "."
        p = box.pop3_dialogue()
        p.login("alice", "pw-alice")
        p.send("RETR 5")
        p.expect(f"+OK {w[4]} octets", exact=True)
        rest = p.buf + read_to_eof(p.sock)
        assert not rest.endswith(b"\r\n.\r\n"), rest[-50:]
        p.close()
        box.wait_log(r"error: pop3: client=\S+ user=alice message \S+/" + os.path.basename(files[4]) +
                     r": its content has \d+ octets with CRLF line ends, its name says W=" + str(w[4]),
                     start=start)

        # the other messages are still there
        p = box.pop3_dialogue()
        p.login("alice", "pw-alice")
        p.send("RETR 1")
        p.expect(f"+OK {w[0]} octets", exact=True)
        assert boxtest.unstuff(p.multiline()) == original1.replace(b"\n", b"\r\n")
        p.send("QUIT")
        p.expect("+OK Logging out")
        p.close()

        # a store failure is logged as an error with mailbox, place and errno text
        new_dir = os.path.join(box.maildir("bob"), "new")
        os.rmdir(new_dir)
        with open(new_dir, "w") as f:
            f.write("not a directory\n")
        start = len(box.log())
        d = box.dialogue()
        d.hello()
        code, lines = d.transaction("sender@example.org", ["bob@example.com"], boxtest.to_crlf_dotstuffed(msg(6)))
        assert (code, lines[-1]) == (451, "4.3.0 Error: local error in processing"), (code, lines)
        d.close()
        box.wait_log(r"error: (\w+): cannot store the message for mailbox\(es\) bob: \S+/bob: Not a directory "
                     r"\(errno 20\)", start=start)
        box.wait_log(r"result=deferred", start=start)


if __name__ == "__main__":
    boxtest.run(main)
