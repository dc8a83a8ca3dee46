#!/usr/bin/python3
"""pack_firmware - the signed update file and the flashable disk of a board
(docs/firmware.md: "The update file", "A/B slots and the fallback").

    board/common/pack_firmware.py --board board/qemu-aarch64 --image OUTDIR \
        --version VERSION --key KEY.pem [--initramfs FILE] [--name NAME]
        [--update-only]

Inputs
  --image      make image's output: Image (the kernel), initramfs.cpio.gz,
               cache/ (the boot loader's package is fetched there by
               build_image.py)
  --initramfs  another initramfs (the boot test's) instead of
               IMAGE/initramfs.cpio.gz
  --version    the firmware version: what the image's
               /usr/share/boxmail/release says (build_image.py writes it;
               the caller keeps the two the same)
  --key        the private signing key (sign_firmware.py make-key)
  --name       the outputs' base name (default boxmail-BOARD-VERSION)

Outputs in IMAGE
  NAME.bmfw    the update file: parts `kernel` (the Image, gzip) and
               `initramfs`, signed; what the panel's Firmware page takes
  NAME.img     unless --update-only: the whole disk for a new box (a raw
               image, sparse): an MBR with two partitions, 1 the boot
               partition (ext4, label boxmail-boot: boot.scr, slot a/ with
               this firmware, an empty slot b/), 2 the data partition (blank:
               the first boot makes its file system); the boot-state sector
               (block 2032) left blank (= slot a, no trial)
  u-boot.bin   the board's boot loader (BOOTLOADER_FILE of
               BOOTLOADER_PACKAGE), for QEMU's -bios

Exit status 0, or 1 with the reason.
"""
import argparse
import gzip
import os
import shlex
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SECTOR = 512
BOOT_START = 2048            # the first partition's first block (1 MiB)
STATE_SECTOR = 0x7f0         # the boot-state sector (boot.cmd, src/firmware/boot_state.hpp)
MIB = 1024 * 1024
MTIME = 0                    # reproducible gzip


class PackError(Exception):
    pass


def read_conf(path):
    """A board.conf: KEY=VALUE lines (sh words: quotes removed), # comments."""
    conf = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition("=")
            conf[k.strip()] = " ".join(shlex.split(v))
    return conf


def run(cmd, **kw):
    """The command's stdout; PackError with its stderr when it fails."""
    p = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise PackError(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr.strip()}")
    return p.stdout


def gzip_kernel(image, dest):
    """The kernel as the slot holds it: gzip -9, fixed mtime (booti unpacks it)."""
    with open(image, "rb") as src, gzip.GzipFile(dest, "wb", compresslevel=9, mtime=MTIME) as dst:
        shutil.copyfileobj(src, dst, 1 << 20)


def sign_update(key, board, version, parts, out):
    """parts: [(name, path)] in file order."""
    cmd = [sys.executable, os.path.join(HERE, "sign_firmware.py"), "sign", "--key", key, "--board", board,
           "--version", version, "--out", out]
    for name, path in parts:
        cmd += ["--part", f"{name}={path}"]
    run(cmd)


def boot_script(conf, board_dir, dest):
    mkimage = shutil.which("mkimage")
    if mkimage is None:
        raise PackError("mkimage is not installed (Debian's u-boot-tools; `make deps` installs it)")
    arch = {"aarch64": "arm64", "armhf": "arm"}.get(conf["ARCH"], conf["ARCH"])
    run([mkimage, "-A", arch, "-O", "linux", "-T", "script", "-C", "none", "-n", "boxmail A/B",
         "-d", os.path.join(board_dir, conf["BOOT_SCRIPT"]), dest])


def bootloader(conf, image_dir, dest):
    """BOOTLOADER_FILE out of the BOOTLOADER_PACKAGE .deb in IMAGE/cache/debs."""
    debs = os.path.join(image_dir, "cache", "debs")
    name = conf["BOOTLOADER_PACKAGE"]
    found = [f for f in sorted(os.listdir(debs)) if f.startswith(name + "_") and f.endswith(".deb")] \
        if os.path.isdir(debs) else []
    if not found:
        raise PackError(f"no {name} package in {debs} (build_image.py fetches it)")
    with tempfile.TemporaryDirectory() as t:
        run(["dpkg-deb", "-x", os.path.join(debs, found[-1]), t])
        src = os.path.join(t, conf["BOOTLOADER_FILE"])
        if not os.path.isfile(src):
            raise PackError(f"{found[-1]} has no {conf['BOOTLOADER_FILE']}")
        shutil.copyfile(src, dest)


def make_disk(conf, board_dir, slot_files, version, dest):
    """The MBR disk: boot partition (ext4 made with mke2fs -d from a tree)
    and a blank data partition."""
    boot_mib = int(conf["BOOT_PARTITION_MIB"])
    data_mib = int(conf["DATA_PARTITION_MIB"])
    with tempfile.TemporaryDirectory() as t:
        tree = os.path.join(t, "boot")
        for slot in ("a", "b"):
            os.makedirs(os.path.join(tree, slot))
        for name, path in slot_files:
            shutil.copyfile(path, os.path.join(tree, "a", name))
        with open(os.path.join(tree, "a", "version"), "w") as f:
            f.write(version + "\n")
        boot_script(conf, board_dir, os.path.join(tree, "boot.scr"))
        need = sum(os.path.getsize(p) for _, p in slot_files)
        if 2 * need + 4 * MIB > boot_mib * MIB * 0.9:
            raise PackError(f"two slots of {need} octets do not fit a {boot_mib} MiB boot partition "
                            "(BOOT_PARTITION_MIB)")
        part = os.path.join(t, "boot.ext4")
        # No metadata_csum_seed or orphan_file: u-boot 2023.01's ext4 reads the rest.
        run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "boxmail-boot", "-m", "0", "-E",
             "root_owner=0:0", "-d", tree, part, f"{boot_mib * 1024}k"])
        boot_blocks = boot_mib * MIB // SECTOR
        data_start = BOOT_START + boot_blocks
        data_blocks = data_mib * MIB // SECTOR
        mbr = bytearray(SECTOR)
        # entries: boot flag, CHS (unused: LBA), type 0x83, CHS, first LBA, blocks
        mbr[446:462] = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", BOOT_START, boot_blocks)
        mbr[462:478] = struct.pack("<B3sB3sII", 0x00, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", data_start, data_blocks)
        mbr[440:444] = b"bmbx"            # disk signature
        mbr[510:512] = b"\x55\xaa"
        tmp = dest + ".tmp"
        with open(tmp, "wb") as f:
            f.truncate((data_start + data_blocks) * SECTOR)
            f.write(mbr)
            f.seek(BOOT_START * SECTOR)
            with open(part, "rb") as p:
                shutil.copyfileobj(p, f, 1 << 20)
        os.replace(tmp, dest)


def pack(board, image_dir, version, key, initramfs=None, name=None, update_only=False):
    """Returns {"update": path, "disk": path or None, "bios": path, "kernel_gz_bytes": n}."""
    board_dir = os.path.abspath(board)
    conf = read_conf(os.path.join(board_dir, "board.conf"))
    board_name = os.path.basename(board_dir.rstrip("/"))
    for k in ("BOOTLOADER_PACKAGE", "BOOTLOADER_FILE", "BOOT_SCRIPT", "BOOT_PARTITION_MIB", "DATA_PARTITION_MIB"):
        if k not in conf:
            raise PackError(f"{board}/board.conf: {k}= is missing")
    image = os.path.join(image_dir, "Image")
    initramfs = initramfs or os.path.join(image_dir, "initramfs.cpio.gz")
    for p in (image, initramfs, key):
        if not os.path.isfile(p):
            raise PackError(f"{p} is missing")
    name = name or f"boxmail-{board_name}-{version}"
    kernel = os.path.join(image_dir, "kernel.gz")
    if not os.path.isfile(kernel) or os.path.getmtime(kernel) < os.path.getmtime(image):
        gzip_kernel(image, kernel + ".tmp")
        os.replace(kernel + ".tmp", kernel)
    parts = [("kernel", kernel), ("initramfs", initramfs)]
    update = os.path.join(image_dir, name + ".bmfw")
    sign_update(key, board_name, version, parts, update)
    bios = os.path.join(image_dir, "u-boot.bin")
    bootloader(conf, image_dir, bios)
    disk = None
    if not update_only:
        disk = os.path.join(image_dir, name + ".img")
        make_disk(conf, board_dir, parts, version, disk)
    return {"update": update, "disk": disk, "bios": bios, "kernel_gz_bytes": os.path.getsize(kernel)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", required=True)
    ap.add_argument("--image", required=True)
    ap.add_argument("--version", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--initramfs")
    ap.add_argument("--name")
    ap.add_argument("--update-only", action="store_true")
    args = ap.parse_args()
    try:
        r = pack(args.board, os.path.abspath(args.image), args.version, args.key, args.initramfs, args.name,
                 args.update_only)
    except PackError as e:
        print(f"pack_firmware: ERROR: {e}", file=sys.stderr)
        return 1
    print(f"pack_firmware: {r['update']} ({os.path.getsize(r['update'])} octets)"
          + (f", {r['disk']}" if r["disk"] else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
