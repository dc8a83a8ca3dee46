"""t-19-disk-full: fill the mail file system until 452 4.3.1, free it, again.

The store (mail_dir and spool_dir) is on an 8 MiB ext4 made with mke2fs on an
image file and loop-mounted inside a private mount namespace (the test
re-executes itself under `unshare -m --propagation private`, so the host
never sees the mount); without loop devices it falls back to an 8 MiB tmpfs
and says so. The INI, the passwd-file and the log stay outside.

Two cycles (lib/diskfull.py): synthetic messages with a unique
"X-Boxmail-Test-Id: <n>" line go to alice and bob over one connection, 64 KiB
ones until the first 452, then 8 KiB, 1 KiB and 200 octets, each until 452,
then three more. Checks, each cycle:
- the full disk is answered 452 4.3.1 (no 451, no cut connection, no crash);
- every message that got 250 is in its Maildir, byte-exact; no file in new/
  or cur/ is partial (size = S= in its name, text = what was sent); nothing
  is stored for a message refused with 452;
- no partial file is left in a Maildir's tmp/ or in spool_dir/tmp;
- after the messages are deleted (cycle 1 over POP3 DELE, cycle 2 with rm,
  as an administrator would) the next message gets 250 again within 10 s.
A third run makes the file system with few inodes (mke2fs -N 128) and
200-octet messages, so it runs out of files before blocks: that too must be
452 4.3.1 (it was 451 4.3.0 until the spool file's errno reached the reply);
on the tmpfs fallback this run is left out (said so), since tmpfs counts
inodes differently.
When boxmaild knows `[store] min_free_space` (a free-space reserve), the
cycles run once with min_free_space = 0 (the real ENOSPC path) and once with
a 1M reserve, where the 452 must come with at least 1 MiB - 128 KiB still
free (the last message accepted may take up to its own size from the reserve).
boxmaild may read the free space once a second, so within 256 KiB of the
reserve the filler sends one message a second (a feed faster than that can
take up to a second's worth of mail from the reserve; the reserve's default
is sized for it).
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import diskfull  # noqa: E402

FS_MIB = 8
USERS = ("alice", "bob")
CYCLES = (("pop3",), ("rm",))
RESERVE = 1 << 20
SLACK = 128 << 10          # below the reserve at the first 452: one 64 KiB message and then some
PACE_ABOVE = 256 << 10     # near the reserve, one message a second (boxmaild may read it once a second)


INODES = 128


def run_mode(reserve, mkfs_args=(), sizes=None):
    with diskfull.SmallFs(FS_MIB, mkfs_args=mkfs_args) as fs:
        if mkfs_args and fs.kind != "ext4 (loop)":
            print(f"t-19: the few-inodes run needs a loop-mounted ext4; left out ({fs.note})")
            return
        print(f"t-19: {fs.describe()}" + ("" if reserve is None else f"; min_free_space = {reserve}"))
        store = {"mail_dir": os.path.join(fs.path, "mail"), "spool_dir": os.path.join(fs.path, "spool")}
        if reserve is not None:
            store["min_free_space"] = str(reserve)
        with boxtest.Box(config={"store": store}, users=USERS, name="diskfull") as box:
            box.start()
            next_id = 0
            for i, (free_with,) in enumerate(CYCLES, 1):
                r, next_id = diskfull.cycle(box, fs, USERS, next_id, free_with=free_with, sizes=sizes,
                                            pace=(reserve + PACE_ABOVE, 1.1) if reserve else None)
                print(f"t-19: cycle {i}: recovered in {r.recovered if r.recovered is None else round(r.recovered, 2)} s, "
                      f"{r.acked} acknowledged, {r.n452} x 452 4.3.1, other {r.other}, "
                      f"free at the first 452 {r.free_at_452} octets, {r.files} files checked, "
                      f"{r.freed} freed by {free_with}")
                assert not r.problems, f"cycle {i}: " + "\n".join(r.problems[:20])
                assert not r.other, f"cycle {i}: replies other than 250 and 452 4.3.1: {r.other}"
                assert not r.leftovers, f"cycle {i}: partial files left in tmp/: {r.leftovers[:5]}"
                assert r.acked > 0, f"cycle {i}: nothing was accepted"
                if reserve:
                    # the message accepted last may take free space below the
                    # reserve by its own size (64 KiB and its metadata)
                    assert r.free_at_452 is not None and r.free_at_452 >= reserve - SLACK, \
                        f"cycle {i}: 452 with only {r.free_at_452} octets free, reserve {reserve}"
            # the space freed by the last cycle is usable: mail flows again
            f = diskfull.Filler(box.port, USERS, first_id=next_id)
            try:
                assert f.recover() is not None, "no 250 after the last cycle freed the space"
            finally:
                f.close()
            assert box.stop() == 0, "boxmaild did not exit 0 on SIGTERM"


def main():
    modes = [None]
    if diskfull.supports("min_free_space"):
        modes = [0, RESERVE]
    for reserve in modes:
        run_mode(reserve)
    # out of inodes before blocks (the reserve, when there is one, off)
    run_mode(modes[0], mkfs_args=("-N", str(INODES)), sizes=(200,))


if __name__ == "__main__":
    diskfull.private_mounts()
    boxtest.run(main)
