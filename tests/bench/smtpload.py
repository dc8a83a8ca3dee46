"""smtpload - a small raw-socket SMTP load client for the feed benchmark.

Each worker thread keeps one SMTP session open and sends message after
message over it: MAIL, RCPT and DATA pipelined in one write (RFC 2920: DATA
ends the group), then, after the 354, the CRLF/dot-stuffed payload ending in
CRLF.CRLF. The acceptance latency of a message is the time from the moment
its last octet (the CRLF.CRLF) has been handed to the kernel to the moment
the complete reply to the end of data has been read.
"""
import socket
import threading
import time


class SmtpError(Exception):
    pass


class Session:
    """One SMTP session on 127.0.0.1:port (greeting read, EHLO sent)."""

    def __init__(self, port, helo="src.example", timeout=60):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        code, text = self.reply()
        if code != 220:
            raise SmtpError(f"greeting: {code} {text}")
        self.sock.sendall(f"EHLO {helo}\r\n".encode())
        code, text = self.reply()
        if code != 250:
            raise SmtpError(f"EHLO: {code} {text}")

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            data = self.sock.recv(65536)
            if not data:
                raise SmtpError("connection closed by server")
            self.buf += data

    def reply(self):
        """Reads one (possibly multiline) reply; returns (code, last line text)."""
        while True:
            line = self._line()
            if len(line) < 3 or not line[:3].isdigit():
                raise SmtpError(f"bad reply line {line!r}")
            if len(line) == 3 or line[3:4] == b" ":
                return int(line[:3]), line[4:].decode("utf-8", "replace")

    def send_message(self, sender, recipient, payload):
        """Sends one message (payload: CRLF, dot-stuffed, ending CRLF.CRLF).

        Returns (accepted, latency_seconds, final reply). A refusal at MAIL or
        RCPT is reset with RSET and returned as not accepted (latency None)."""
        self.sock.sendall(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode())
        mail = self.reply()
        rcpt = self.reply()
        data = self.reply()
        if data[0] != 354:
            self.sock.sendall(b"RSET\r\n")
            self.reply()
            return False, None, (mail, rcpt, data)
        self.sock.sendall(payload)
        t0 = time.perf_counter()
        final = self.reply()
        t1 = time.perf_counter()
        return final[0] == 250, t1 - t0, final

    def quit(self):
        try:
            self.sock.sendall(b"QUIT\r\n")
            self.reply()
        except (OSError, SmtpError):
            pass
        self.sock.close()


def feed(port, payloads, sessions, sender="bench@src.example", recipient="bench@feed.example"):
    """Sends every payload over `sessions` parallel sessions (threads pull the
    next payload from a shared index). Returns a dict: accepted, refused,
    errors (list of strings), latencies (seconds, accepted messages only),
    seconds (wall time from the first connect to the last reply), cpu_seconds
    (this client's own user+system time during the run)."""
    import os
    lock = threading.Lock()
    state = {"next": 0, "accepted": 0, "refused": 0, "errors": [], "refusals": []}
    latencies = []

    def worker():
        local_lat = []
        try:
            s = Session(port)
        except (OSError, SmtpError) as e:
            with lock:
                state["errors"].append(f"connect: {e}")
            return
        try:
            while True:
                with lock:
                    i = state["next"]
                    if i >= len(payloads):
                        break
                    state["next"] = i + 1
                ok, lat, reply = s.send_message(sender, recipient, payloads[i])
                with lock:
                    if ok:
                        state["accepted"] += 1
                    else:
                        state["refused"] += 1
                        if len(state["refusals"]) < 20:
                            state["refusals"].append(f"message {i}: {reply}")
                if ok:
                    local_lat.append(lat)
        except (OSError, SmtpError) as e:
            with lock:
                state["errors"].append(f"session: {e}")
        finally:
            s.quit()
            with lock:
                latencies.extend(local_lat)

    c0 = os.times()
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t1 = time.perf_counter()
    c1 = os.times()
    return {
        "accepted": state["accepted"],
        "refused": state["refused"],
        "refusals": state["refusals"],
        "errors": state["errors"],
        "latencies": latencies,
        "seconds": t1 - t0,
        "cpu_seconds": (c1.user + c1.system) - (c0.user + c0.system),
    }


def hold_sessions(port, count, helo="src.example"):
    """Opens `count` sessions (greeting read, EHLO answered) and returns them
    open; the caller closes them with close_sessions()."""
    out = []
    try:
        for _ in range(count):
            out.append(Session(port, helo=helo, timeout=30))
    except BaseException:
        close_sessions(out)
        raise
    return out


def close_sessions(sessions):
    for s in sessions:
        s.quit()


def percentile(values, p):
    """p-th percentile (0..100) by nearest rank; None for no values."""
    if not values:
        return None
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


def synthetic_message(i, size=1024, sender="bench@src.example", recipient="bench@feed.example"):
    """A CRLF, dot-stuffed DATA payload: a short header section and a body of
    `size` octets of 78-character lines (like smtp-source -l size)."""
    head = (f"From: <{sender}>\r\nTo: <{recipient}>\r\nSubject: bench {i}\r\n"
            f"Message-ID: <bench.{i}@src.example>\r\n\r\n").encode()
    body = bytearray()
    n = 0
    while size - len(body) >= 2:
        n += 1
        room = size - len(body) - 2
        if 78 < room < 80:  # leave room for a last line of at least one octet
            room = 70
        body += (str(n % 10) + "X" * 77)[:room].encode() + b"\r\n"
    return head + bytes(body) + b".\r\n"
