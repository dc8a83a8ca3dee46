"""dnsresponder - a tiny UDP DNS server for tests that need answers dnsmasq
cannot be made to give (SERVFAIL, a null MX, garbage names, hostile TXT).

Responder(respond) answers each query with respond(packet) -> bytes on
127.0.0.1:PORT (a free port) from a daemon thread; dnsmasq forwards zones
to it with --server=/ZONE/127.0.0.1#PORT. `names` lists the questions seen.
"""
import socket
import struct
import threading


def parse_question(packet):
    """(lower-case name, qtype, the question section as bytes) of a query."""
    pos, labels = 12, []
    while packet[pos]:
        n = packet[pos]
        labels.append(packet[pos + 1:pos + 1 + n].decode("latin-1"))
        pos += 1 + n
    qtype, = struct.unpack("!H", packet[pos + 1:pos + 3])
    return ".".join(labels).lower(), qtype, packet[12:pos + 5]


def rr(qtype, rdata):
    """One answer record for the question's name (a compression pointer to it), TTL 60."""
    return b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata


def reply(packet, question, rcode, answers):
    """A response to PACKET: QR AA RD RA, RCODE, the question and ANSWERS."""
    qid, = struct.unpack("!H", packet[:2])
    header = struct.pack("!HHHHHH", qid, 0x8400 | 0x0100 | 0x0080 | rcode, 1, len(answers), 0, 0)
    return header + question + b"".join(answers)


class Responder(threading.Thread):
    def __init__(self, respond):
        super().__init__(daemon=True)
        self.respond = respond
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.names = []

    def run(self):
        while True:
            try:
                packet, peer = self.sock.recvfrom(4096)
            except OSError:
                return
            try:
                self.names.append(parse_question(packet)[0])
                self.sock.sendto(self.respond(packet), peer)
            except Exception as e:   # noqa: BLE001 - a malformed query: ignore, as a server would
                print("responder:", e)
