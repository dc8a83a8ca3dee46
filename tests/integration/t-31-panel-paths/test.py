"""t-31-panel-paths: the panel cannot move the store; the spool cleaner
removes only its own files; the panel's writes are all or nothing.

Paths are fixed at install time (issue 8; schema rows with
fixed_at_install, config/reload_rule.hpp): boxmail.cgi is run as a CGI
process, logged in as admin (lib/panel_cgi.py), against a running boxmaild.

1. Restore: a backup (a real ustar archive) whose boxmail.ini changes
   [store] mail_dir (then one changing [store] spool_dir), with a passwd
   that adds a mailbox -> the page names the key ("[store] mail_dir is fixed
   at install time"); boxmail.ini (same bytes, same inode: never rewritten)
   and the passwd-file are unchanged; boxmaild was never asked to reload;
   the other directory is not created.
2. Form: a crafted POST to /feed with store.mail_dir=... next to a real
   change (smtp.max_recipients=50) -> refused naming [store] mail_dir,
   nothing written (max_recipients is not set).
3. All or nothing: the spool directory is taken away (a disk not mounted)
   while boxmaild runs; a restore with the same paths, a new banner and an
   added mailbox is accepted by the panel, written, and refused by boxmaild's
   reload ("spool_dir ... does not exist") -> the page says so and that both
   files were put back: boxmail.ini and the passwd-file hold their old bytes.
   With the directory back, the same restore is taken (both files new).
4. A broken boxmail.ini on disk (an error line; boxmaild keeps running on
   the last good one): a restore that moves [store] mail_dir is refused
   naming it (the paths as written in the broken file hold); a restore with
   the same paths repairs it and writes the passwd-file too (both new).
5. Spool cleaner: with boxmaild stopped, spool_dir/tmp holds stale spool
   files of boxmail's own scheme (queue ids) and foreign things: a user's
   document, a look-alike in lower case, a 13-character name outside the
   scheme, a directory named like a queue id, a symbolic link to a file
   outside, and a symbolic link named like a queue id. After a start only the
   two stale spool files are gone ("removed 2 unfinished message(s)"); all
   the rest, and the files outside, are there as they were.
6. spool_dir/tmp itself a symbolic link to a directory outside holding a
   file named like a queue id: boxmaild does not start ("cannot prepare
   spool") and the file outside is still there.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
from boxtest import Box  # noqa: E402
from panel_cgi import Panel  # noqa: E402


def snapshot(box):
    st = os.stat(box.ini)
    return boxtest.read(box.ini), st.st_ino, boxtest.read(box.passwd)


def added_mailbox(passwd):
    return passwd + b"carol:{SHA512-CRYPT}$6$abcdefgh$" + b"x" * 86 + b"::::::\n"


def restore_moving_paths(box, panel):
    elsewhere = os.path.join(box.dir, "elsewhere")
    for key, old in (("mail_dir", box.mail_dir), ("spool_dir", box.spool_dir)):
        before = snapshot(box)
        ini = before[0].replace(f"{key} = {old}\n".encode(), f"{key} = {elsewhere}\n".encode())
        assert ini != before[0]
        mark = len(box.log())
        status, page = panel.restore(ini, added_mailbox(before[2]))
        assert f"[store] {key} is fixed at install time" in page, (key, status, page[-3000:])
        assert snapshot(box) == before, (key, "a file changed", open(box.passwd).read())
        assert "reload" not in box.log()[mark:], box.log()[mark:]
        assert not os.path.exists(elsewhere), key


def form_setting_a_path(box, panel):
    before = snapshot(box)
    _, page = panel.request("GET", "/feed")
    status, page = panel.request("POST", "/feed", {"csrf": Panel.csrf(page), "feed_mode": "any",
                                                   "store.mail_dir": os.path.join(box.dir, "elsewhere"),
                                                   "smtp.max_recipients": "50"})
    assert "[store] mail_dir is fixed at install time" in page, (status, page[-3000:])
    assert snapshot(box) == before, open(box.ini).read()
    assert b"max_recipients" not in boxtest.read(box.ini)


def refused_reload_puts_both_back(box, panel):
    before = snapshot(box)
    ini = before[0].replace(b"[smtp]\n", b"[smtp]\nbanner = restored\n", 1)
    passwd = added_mailbox(before[2])
    away = box.spool_dir + ".away"
    os.rename(box.spool_dir, away)
    try:
        mark = len(box.log())
        status, page = panel.restore(ini, passwd)
        box.wait_log(r"\[store\] spool_dir: directory .* does not exist", 10, start=mark)
        assert "boxmaild refused the new configuration" in page, (status, page[-3000:])
        after = snapshot(box)
        assert after[0] == before[0], after[0].decode()
        assert after[2] == before[2], ("the passwd-file was not put back", after[2].decode())
        assert "configuration and mailbox accounts were put back" in page, page[-3000:]
    finally:
        os.rename(away, box.spool_dir)
    # The same restore with the directory back: both files are new.
    status, page = panel.restore(ini, passwd)
    assert "Restored the configuration" in page and "boxmaild reloaded" in page, (status, page[-3000:])
    assert boxtest.read(box.ini) == ini and boxtest.read(box.passwd) == passwd


def restore_repairs_a_broken_file(box, panel):
    good = boxtest.read(box.ini)
    with open(box.ini, "ab") as f:
        f.write(b"[smtp]\nmax_recipients = lots\n")
    broken = snapshot(box)
    moved = good.replace(f"mail_dir = {box.mail_dir}\n".encode(),
                         f"mail_dir = {os.path.join(box.dir, 'elsewhere')}\n".encode())
    passwd = broken[2] + b"dave:{SHA512-CRYPT}$6$abcdefgh$" + b"y" * 86 + b"::::::\n"
    status, page = panel.restore(moved, passwd)
    assert "[store] mail_dir is fixed at install time" in page, (status, page[-3000:])
    assert snapshot(box) == broken
    status, page = panel.restore(good, passwd)
    assert "Restored the configuration" in page and "boxmaild reloaded" in page, (status, page[-3000:])
    assert boxtest.read(box.ini) == good
    assert boxtest.read(box.passwd) == passwd, "the restore did not write the passwd-file"


STALE = ("0ABCDEFGHJKMN", "7ZZZZZZZZZZZZ")
FOREIGN_FILES = {"Quarterly report.pdf": b"%PDF-1.4 a user's document\n",
                 "0abcdefghjkmn": b"lower case is not a queue id\n",
                 "GZZZZZZZZZZZZ": b"G is past the first digit's range\n",
                 "0ABCDEFGHJKMNX": b"14 characters\n"}


def spool_cleaner(box):
    assert box.stop() == 0
    tmp = os.path.join(box.spool_dir, "tmp")
    outside = os.path.join(box.dir, "outside")
    os.makedirs(outside)
    targets = {}
    for name in ("keep-me.txt", "also-keep-me"):
        targets[name] = os.path.join(outside, name)
        with open(targets[name], "wb") as f:
            f.write(b"outside the spool: " + name.encode() + b"\n")
    for name in STALE:
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(b"Subject: half received\n\n")
    for name, data in FOREIGN_FILES.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    os.mkdir(os.path.join(tmp, "1000000000000"))
    os.symlink(targets["keep-me.txt"], os.path.join(tmp, "link-to-outside"))
    os.symlink(targets["also-keep-me"], os.path.join(tmp, "3000000000000"))
    mark = len(box.log())
    box.start()
    box.wait_log(r"removed 2 unfinished message\(s\) from the spool", 10, start=mark)
    left = set(os.listdir(tmp))
    for name in STALE:
        assert name not in left, (name, left)
    for name, data in FOREIGN_FILES.items():
        assert boxtest.read(os.path.join(tmp, name)) == data, name
    assert os.path.isdir(os.path.join(tmp, "1000000000000"))
    for link, target in (("link-to-outside", "keep-me.txt"), ("3000000000000", "also-keep-me")):
        assert os.readlink(os.path.join(tmp, link)) == targets[target], link
    for name, path in targets.items():
        assert boxtest.read(path) == b"outside the spool: " + name.encode() + b"\n", name
    # Mail still flows through the spool.
    box.deliver("alice@x.example", b"Subject: after the clean\n\nbody\n")
    assert box.stop() == 0


def spool_tmp_is_a_link(box):
    tmp = os.path.join(box.spool_dir, "tmp")
    shutil.rmtree(tmp)
    outside = os.path.join(box.dir, "outside-dir")
    os.makedirs(outside)
    victim = os.path.join(outside, "5000000000000")
    with open(victim, "wb") as f:
        f.write(b"not boxmail's\n")
    os.symlink(outside, tmp)
    mark = len(box.log())
    box.start(wait=False)
    assert box.proc.wait(timeout=30) != 0, box.log()[mark:]
    assert "cannot prepare spool" in box.log()[mark:], box.log()[mark:]
    assert boxtest.read(victim) == b"not boxmail's\n"


def main():
    with Box() as box:
        box.start()
        panel = Panel(box)
        panel.login()
        restore_moving_paths(box, panel)
        form_setting_a_path(box, panel)
        refused_reload_puts_both_back(box, panel)
        restore_repairs_a_broken_file(box, panel)
        spool_cleaner(box)
        spool_tmp_is_a_link(box)


if __name__ == "__main__":
    boxtest.run(main)
