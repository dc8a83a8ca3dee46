"""t-48-firmware-install: `boxmailctl firmware install|confirm|status`
(firmware/installer.hpp; docs/firmware.md "Installing an update
(boxmailctl firmware)") run as the program itself, with --disk, --boot,
--key, --release and --running pointing at files of a temporary directory:
a boot directory with slots a/ and b/, a 1 MiB file as the disk holding the
boot-state sector, the test key and release file of tests/unit/data/firmware.

  (1) status of a new box: slot a, no trial, the versions of both slots.
  (2) install of the signed sample while a runs: exit 0, the one line,
      slot b's files byte-exact, the sector "bm_active=a bm_try=b
      bm_tries=0"; status says so.
  (3) a second install while b runs on trial: refused (exit 1, the message);
      confirm on b: "slot b confirmed", the sector names b active; a second
      confirm prints nothing, exit 0.
  (4) refused files (exit 1, one stderr line each; the slots and the sector
      unchanged, no .new left): an octet flipped, another key, another
      board, a part missing, an extra part, cut short, trailing octets; a
      symbolic link, a FIFO (no writer: the command must not hang), a
      directory.
  (5) usage errors exit 2 with the synopsis.
  (6) the file swapped while being read: a 96 MiB signed file is being
      installed; once the command has read past the header (its offset in
      /proc/PID/fdinfo) it is stopped (SIGSTOP), another signed file is
      renamed over the path, and it goes on: the first file is installed
      byte-exact. Then the same with the unread rest of the file rewritten
      in place: refused (the SHA-256 of what was read), slot unchanged.
  (7) a boot partition too small (a 64 KiB tmpfs in a mount namespace of
      its own): ENOSPC refused with the path, slot a's old files kept,
      no .new left, the sector unchanged.
"""
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402

DATA = os.path.join(boxtest.SOURCE, "tests", "unit", "data", "firmware")
SIGNER = os.path.join(boxtest.SOURCE, "board", "common", "sign_firmware.py")
SECTOR = 2032


class Rig:
    """A temporary boot directory, disk, key and release file."""

    def __init__(self, top):
        self.top = top
        self.boot = os.path.join(top, "boot")
        self.disk = os.path.join(top, "disk")
        self.release = os.path.join(DATA, "release")
        self.key = os.path.join(DATA, "test-key.pub.pem")
        for slot, version in (("a", "0.9.0+test"), ("b", "0.8.0+test")):
            os.makedirs(os.path.join(self.boot, slot))
            self.put(f"{slot}/kernel", f"old kernel of {slot}".encode())
            self.put(f"{slot}/initramfs", f"old initramfs of {slot}".encode())
            self.put(f"{slot}/version", f"{version}\n".encode())
        with open(self.disk, "wb") as f:
            f.truncate(1024 * 1024)

    def put(self, name, data):
        with open(os.path.join(self.boot, name), "wb") as f:
            f.write(data)

    def options(self, running="a"):
        return ["--disk", self.disk, "--boot", self.boot, "--release", self.release, "--running", running]

    def ctl(self, *args, timeout=120):
        return subprocess.run([boxtest.BOXMAILCTL, *args], capture_output=True, timeout=timeout)

    def install(self, path, running="a", key=None):
        return self.ctl("firmware", "install", *self.options(running), "--key", key or self.key, path)

    def sector(self):
        with open(self.disk, "rb") as f:
            f.seek(SECTOR * 512)
            return f.read(512).rstrip(b"\0").decode()

    def snapshot(self):
        files = {}
        for root, _, names in os.walk(self.boot):
            for n in names:
                p = os.path.join(root, n)
                files[os.path.relpath(p, self.boot)] = boxtest.read(p)
        return files


def parts_of(data):
    """{name: octets} of a signed update file."""
    head, _, _ = data.partition(b"\n\n")
    at = len(head) + 2
    parts = {}
    for line in head.decode().split("\n"):
        if line.startswith("part "):
            _, name, size, _ = line.split(" ")
            parts[name] = data[at:at + int(size)]
            at += int(size)
    return parts


def expect(r, status, stdout=b"", stderr=None):
    assert r.returncode == status, (r.returncode, r.stdout, r.stderr)
    assert r.stdout == stdout, (r.stdout, stdout)
    if stderr is not None:
        assert r.stderr == stderr, (r.stderr, stderr)


def status_lines(rig, running):
    r = rig.ctl("firmware", "status", "--disk", rig.disk, "--boot", rig.boot, "--release", rig.release,
                "--running", running)
    assert r.returncode == 0 and r.stderr == b"", r
    return r.stdout.decode()


def first_install(rig, top):
    assert status_lines(rig, "a") == (
        "running=a\nactive=a\ntrial=\ntries=0\nfailed=\nboard=test-board\nversion=0.9.0+test\n"
        "version.a=0.9.0+test\nversion.b=0.8.0+test\n")
    sample = boxtest.read(os.path.join(DATA, "sample.bmfw"))
    path = os.path.join(top, "upload.bmfw")
    shutil.copy(os.path.join(DATA, "sample.bmfw"), path)
    before_a = {k: v for k, v in rig.snapshot().items() if k.startswith("a/")}
    expect(rig.install(path), 0,
           b"firmware 1.0.0+test installed in slot b; reboot to try it (3 boots, then back to slot a)\n", b"")
    for name, octets in parts_of(sample).items():
        assert boxtest.read(os.path.join(rig.boot, "b", name)) == octets, name
    assert boxtest.read(os.path.join(rig.boot, "b", "version")) == b"1.0.0+test\n"
    files = rig.snapshot()
    assert {k: v for k, v in files.items() if k.startswith("a/")} == before_a
    assert not [k for k in files if k.endswith(".new")], files.keys()
    assert rig.sector() == "bm_active=a\nbm_try=b\nbm_tries=0\n", rig.sector()
    assert status_lines(rig, "a") == (
        "running=a\nactive=a\ntrial=b\ntries=0\nfailed=\nboard=test-board\nversion=0.9.0+test\n"
        "version.a=0.9.0+test\nversion.b=1.0.0+test\n")
    print("(1)(2) status, install into b, trial of b: ok")
    return path


def trial_and_confirm(rig, path):
    expect(rig.install(path, running="b"), 1, b"",
           b"boxmailctl: the running firmware is still on trial; it is confirmed once boxmaild answers\n")
    assert rig.sector() == "bm_active=a\nbm_try=b\nbm_tries=0\n"
    confirm = ["firmware", "confirm", "--disk", rig.disk]
    expect(rig.ctl(*confirm, "--running", "a"), 0, b"", b"")
    assert rig.sector() == "bm_active=a\nbm_try=b\nbm_tries=0\n"
    expect(rig.ctl(*confirm, "--running", "b"), 0, b"slot b confirmed\n", b"")
    assert rig.sector() == "bm_active=b\n", rig.sector()
    expect(rig.ctl(*confirm, "--running", "b"), 0, b"", b"")
    print("(3) install refused while on trial; confirm: ok")


def refusals(rig, top):
    sample = boxtest.read(os.path.join(DATA, "sample.bmfw"))
    flipped = bytearray(sample)
    flipped[-5] ^= 0x40
    cases = [
        ("octet flipped", bytes(flipped), "the part 'initramfs' does not match its SHA-256 in the signed header"),
        ("other key", boxtest.read(os.path.join(DATA, "other-key.bmfw")), "the file is signed with key "),
        ("other board", boxtest.read(os.path.join(DATA, "other-board.bmfw")),
         "this firmware is for the board 'other-board', this box is 'test-board'"),
        ("part missing", boxtest.read(os.path.join(DATA, "kernel-only.bmfw")),
         "the file lacks the part 'initramfs' (this box's slots take: kernel initramfs)"),
        ("extra part", boxtest.read(os.path.join(DATA, "extra-part.bmfw")),
         "the file carries the part 'dtb', which this box's slots do not take (they take: kernel initramfs)"),
        ("cut short", sample[:-1000], "the file ends inside the part 'initramfs' (cut short?)"),
        ("trailing octets", sample + b"\n", "the file goes on after its last part"),
    ]
    path = os.path.join(top, "bad.bmfw")
    # Running b (confirmed), so slot a is the target.
    before, sector = rig.snapshot(), rig.sector()
    for name, data, message in cases:
        with open(path, "wb") as f:
            f.write(data)
        r = rig.install(path, running="b")
        assert r.returncode == 1 and r.stdout == b"", (name, r)
        err = r.stderr.decode()
        assert err.startswith("boxmailctl: ") and err.endswith("\n") and err.count("\n") == 1, (name, err)
        assert message in err, (name, err)
        assert rig.snapshot() == before, name
        assert rig.sector() == sector, name
    link = os.path.join(top, "link.bmfw")
    os.symlink(os.path.join(DATA, "sample.bmfw"), link)
    expect(rig.install(link, running="b"), 1, b"",
           f"boxmailctl: {link} is a symbolic link: refused (the update file must be a regular file)\n".encode())
    fifo = os.path.join(top, "fifo.bmfw")
    os.mkfifo(fifo)
    expect(rig.install(fifo, running="b"), 1, b"", f"boxmailctl: {fifo} is not a regular file: refused\n".encode())
    expect(rig.install(top, running="b"), 1, b"", f"boxmailctl: {top} is not a regular file: refused\n".encode())
    assert rig.snapshot() == before and rig.sector() == sector
    print(f"(4) {len(cases) + 3} refusals, nothing changed: ok")


def usage_errors(rig):
    o = ["--disk", rig.disk]
    cases = [
        (["firmware"], "'firmware' needs install, confirm or status"),
        (["firmware", "install"], "'firmware install' needs an update FILE"),
        (["firmware", "install", "a", "b"], "unexpected argument 'b'"),
        (["firmware", "upgrade"], "unknown command 'firmware upgrade'"),
        (["firmware", "install", "--running", "c", "x"], "--running takes a or b, not 'c'"),
        (["firmware", "confirm", "--key", "k"], "--key does not go with 'firmware confirm'"),
        (["firmware", "status", "--state-sector", "x"], "--state-sector takes a sector number, not 'x'"),
        (["firmware", "status", "--state-sector=-1"], "--state-sector takes a sector number, not '-1'"),
        (["firmware", "status", *o, *o], "--disk given twice"),
        (["firmware", "status", "--disk"], "option --disk needs a value"),
        (["firmware", "status", "--disk="], "--disk needs a value"),
        (["firmware", "status", "-c", "x.ini"], "-c does not go with 'firmware'"),
        (["firmware", "status", "--bogus"], "unknown option '--bogus'"),
        (["user", "list", *o], "--disk goes with 'firmware'"),
    ]
    for args, message in cases:
        r = rig.ctl(*args)
        err = r.stderr.decode()
        assert r.returncode == 2 and r.stdout == b"", (args, r)
        assert err.startswith(f"boxmailctl: {message}\nusage: boxmailctl"), (args, err)
    # A file name that looks like an option, after "--".
    r = rig.ctl("firmware", "install", *rig.options("b"), "--key", rig.key, "--", "-x.bmfw")
    assert r.returncode == 1 and r.stderr == b"boxmailctl: -x.bmfw: No such file or directory\n", r
    print(f"(5) {len(cases)} usage errors: ok")


def sign_big(top):
    """A signed file of 96 MiB (two parts of random octets) and its parts."""
    kernel = os.path.join(top, "big-kernel")
    initramfs = os.path.join(top, "big-initramfs")
    with open(kernel, "wb") as f:
        f.write(os.urandom(4 * 1024 * 1024))
    with open(initramfs, "wb") as f:
        f.write(os.urandom(92 * 1024 * 1024))
    out = os.path.join(top, "big.bmfw")
    subprocess.run(["/usr/bin/python3", SIGNER, "sign", "--key", os.path.join(DATA, "test-key.pem"),
                    "--board", "test-board", "--version", "2.0.0+big", "--part", f"kernel={kernel}",
                    "--part", f"initramfs={initramfs}", "--out", out], check=True, capture_output=True)
    parts = {"kernel": hashlib.sha256(boxtest.read(kernel)).hexdigest(),
             "initramfs": hashlib.sha256(boxtest.read(initramfs)).hexdigest()}
    os.unlink(kernel)
    os.unlink(initramfs)
    return out, parts


def stop_mid_read(proc, path, size):
    """Waits until PROC has PATH open and has read past its header but not
    to its end, then stops it (SIGSTOP). Returns the offset read."""
    fd = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, ("the install ended before it was caught mid-way", proc.communicate())
        try:
            if fd is None:
                for n in os.listdir(f"/proc/{proc.pid}/fd"):
                    if os.readlink(f"/proc/{proc.pid}/fd/{n}") == path:
                        fd = n
            if fd is not None:
                with open(f"/proc/{proc.pid}/fdinfo/{fd}") as f:
                    pos = int(f.readline().split()[1])
                if 64 * 1024 < pos < size - 16 * 1024 * 1024:
                    os.kill(proc.pid, signal.SIGSTOP)
                    return pos
        except (FileNotFoundError, ProcessLookupError):
            pass
        time.sleep(0.001)
    raise AssertionError("the install never got mid-way")


def swapped_mid_way(rig, top):
    big, big_parts = sign_big(top)
    size = os.path.getsize(big)
    other = os.path.join(top, "other.bmfw")
    path = os.path.join(top, "staged.bmfw")
    # (a) another valid file renamed over the path: the opened one is installed.
    shutil.copy(big, path)
    shutil.copy(os.path.join(DATA, "sample-1.1.bmfw"), other)
    proc = subprocess.Popen([boxtest.BOXMAILCTL, "firmware", "install", *rig.options("b"), "--key", rig.key, path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pos = stop_mid_read(proc, path, size)
    os.rename(other, path)
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out, err)
    assert out == b"firmware 2.0.0+big installed in slot a; reboot to try it (3 boots, then back to slot b)\n", out
    for name, digest in big_parts.items():
        assert hashlib.sha256(boxtest.read(os.path.join(rig.boot, "a", name))).hexdigest() == digest, name
    assert boxtest.read(os.path.join(rig.boot, "a", "version")) == b"2.0.0+big\n"
    assert rig.sector() == "bm_active=b\nbm_try=a\nbm_tries=0\n", rig.sector()
    print(f"(6a) renamed over at offset {pos} of {size}: the opened file installed: ok")
    # (b) the unread rest rewritten in place (same inode): refused. Slot a
    # first gets the small sample (pending its trial, b running), so that
    # any change to a's files would show; the refusal leaves them and
    # clears the trial of a before writing.
    shutil.copy(big, path)
    expect(rig.install(os.path.join(DATA, "sample.bmfw"), running="b"), 0,
           b"firmware 1.0.0+test installed in slot a; reboot to try it (3 boots, then back to slot b)\n")
    before = rig.snapshot()
    proc = subprocess.Popen([boxtest.BOXMAILCTL, "firmware", "install", *rig.options("b"), "--key", rig.key, path],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pos = stop_mid_read(proc, path, size)
    with open(path, "r+b") as f:
        f.seek(size - 8 * 1024 * 1024)
        f.write(os.urandom(1024 * 1024))
    os.kill(proc.pid, signal.SIGCONT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 1 and out == b"", (out, err)
    assert err == (b"boxmailctl: the part 'initramfs' does not match its SHA-256 in the signed header "
                   b"(corrupt or changed)\n"), err
    assert rig.snapshot() == before
    assert rig.sector() == "bm_active=b\n", rig.sector()
    print(f"(6b) rewritten in place after offset {pos}: refused, slot a unchanged, its trial cleared: ok")


NO_SPACE_SCRIPT = r"""
set -e
mount -t tmpfs -o size=64k tmpfs "$1"
mkdir "$1/a" "$1/b"
printf 'old kernel of a' > "$1/a/kernel"
printf 'old initramfs of a' > "$1/a/initramfs"
printf '0.8.0+test\n' > "$1/a/version"
set +e
"$2" firmware install --disk "$3" --boot "$1" --release "$4" --key "$5" --running b "$6"
echo "status=$?"
ls -A "$1/a"
cat "$1/a/kernel" "$1/a/initramfs" "$1/a/version"
"""


def no_space(rig, top):
    """A boot partition too small for the parts (a 64 KiB tmpfs, in a mount
    namespace of its own): ENOSPC is refused like any error."""
    boot = os.path.join(top, "small-boot")
    os.makedirs(boot)
    sector = rig.sector()
    assert sector == "bm_active=b\n", sector   # b runs, a is written: nothing to change first
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", NO_SPACE_SCRIPT, "sh", boot,
                        boxtest.BOXMAILCTL, rig.disk, rig.release, rig.key, os.path.join(DATA, "sample.bmfw")],
                       capture_output=True, timeout=60)
    assert r.stdout.decode() == ("status=1\ninitramfs\nkernel\nversion\n"
                                 "old kernel of aold initramfs of a0.8.0+test\n"), r
    assert r.stderr == f"boxmailctl: {boot}/a/initramfs.new: No space left on device\n".encode(), r.stderr
    assert rig.sector() == sector
    print("(7) no space left on the boot partition: refused, slot a unchanged: ok")


def main():
    top = tempfile.mkdtemp(prefix="boxmail-t48-")
    try:
        rig = Rig(top)
        path = first_install(rig, top)
        trial_and_confirm(rig, path)
        refusals(rig, top)
        usage_errors(rig)
        swapped_mid_way(rig, top)
        no_space(rig, top)
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    boxtest.run(main)
