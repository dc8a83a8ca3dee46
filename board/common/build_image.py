#!/usr/bin/python3
"""build_image - assemble a boxmail firmware image (kernel + initramfs) for a board.

    board/common/build_image.py --board board/qemu-aarch64 --stage STAGE \
        --sysroot SYSROOT --apt-state APTSTATE --out OUTDIR [--extra-overlay DIR]

Inputs
  --board      a board folder with board.conf (ARCH, DEBARCH, KERNEL_PACKAGE,
               BUSYBOX_PACKAGE, MODULES) and optionally rootfs/ (the board's own
               base files: passwd, group, hostname, network.conf).
  --stage      the cross build installed with `cmake --install --strip` and
               DESTDIR (prefix /usr): /usr/sbin/boxmaild, boxmail-fw,
               /usr/bin/boxmailctl, /usr/lib/boxmail/boxmail.cgi,
               /etc/boxmail/*, /usr/share/boxmail/www (not the .deb's
               files: docs/debian.md).
  --sysroot    the target sysroot (cross/make-sysroot.sh): the firewall
               helper's shared libraries and the glibc loader come from here.
  --apt-state  the private apt state of the target architecture
               (cross/debian-fetch.sh) used to fetch the kernel and busybox.
  --version    the firmware version, written to /usr/share/boxmail/release
               (with the board's name and the slots' parts)
  --signing-key  the private key (sign_firmware.py make-key) update files
               are signed with; only its public half goes into the image
               (/usr/share/boxmail/firmware-key.pem)
  --out        receives Image (the kernel), initramfs.cpio.gz, modules.txt
               and sizes.txt; OUTDIR/cache keeps the downloaded .debs and the
               extracted kernel. A board with BOOTLOADER_PACKAGE also gets
               pack_firmware.py's outputs: the signed update file
               boxmail-BOARD-VERSION.bmfw, the disk boxmail-BOARD-VERSION.img
               and u-boot.bin.
  --extra-overlay  a directory packed as a second cpio archive appended to
               the initramfs (the boot test's own files); the output is then
               initramfs-test.cpio.gz and the product image is left alone.

What goes into the root file system, in order (later wins):
  busybox-static (and a link per applet), the kernel modules of MODULES and
  every module they depend on (read from each .ko's modinfo), the panel's
  web server (WEB_SERVER_FILES of Debian's lighttpd and lighttpd-mod-mbedtls:
  the program, mod_mbedtls and mod_cgi; nothing else of the packages), the
  the data partition's tools (DATA_FS_FILES of e2fsprogs: mke2fs, e2fsck,
  mke2fs.conf), the stage, rootfs-overlay/ (what the box carries),
  BOARD/rootfs/. The dynamic
  libraries the programs need (the firewall helper, lighttpd and its
  modules, e2fsprogs) are copied with the loader: the web server's own
  libraries from the Debian packages of WEB_SERVER_LIBRARY_PACKAGES,
  e2fsprogs' from DATA_FS_LIBRARY_PACKAGES, the rest (glibc, the
  nft libraries) from the sysroot. The archive is newc, every entry root-owned
  with a fixed mtime, plus /dev/console and /dev/null as device nodes (no
  mknod needed). /etc/modules-boot lists the modules in load order for rcS.

Exit status 0, or 1 with a message saying what is missing (a package that
cannot be fetched, a module that is not in the kernel package); never a
half-built image.
"""
import argparse
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tarfile

SOURCE = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pack_firmware  # noqa: E402

VERSION_RE = re.compile(r"[A-Za-z0-9.+~_-]{1,64}\Z")   # update_file.hpp's version alphabet
FETCH = os.path.join(SOURCE, "cross", "debian-fetch.sh")
MTIME = 1700000000

# The panel's HTTPS server (docs/panel.md, docs/tls.md): Debian's lighttpd
# with its mbedTLS module. Only these files of the two packages go into the
# image (mod_redirect, mod_access and mod_staticfile are built into the
# program in Debian's build).
WEB_SERVER_PACKAGES = ["lighttpd", "lighttpd-mod-mbedtls"]
WEB_SERVER_FILES = ["usr/sbin/lighttpd", "usr/lib/lighttpd/mod_mbedtls.so", "usr/lib/lighttpd/mod_cgi.so"]
# The packages of the shared libraries those files need (readelf -d) beyond
# glibc: the image builder fails naming a library missing from them.
WEB_SERVER_LIBRARY_PACKAGES = ["libpcre2-8-0", "libnettle8", "libxxhash0",
                               "libmbedtls14", "libmbedx509-1", "libmbedcrypto7"]

# The data partition's tools (docs/firmware.md, "Storage"): Debian's
# e2fsprogs makes the ext4 file system on a blank partition (mke2fs, with the
# package's mke2fs.conf) and checks it at every boot (e2fsck -p); busybox
# has no e2fsck and its mke2fs makes ext2 only (no journal). Only these
# files of the package go into the image; their libraries come from
# DATA_FS_LIBRARY_PACKAGES (libe2p is in libext2fs2).
DATA_FS_PACKAGES = ["e2fsprogs"]
DATA_FS_FILES = ["sbin/mke2fs", "sbin/e2fsck", "etc/mke2fs.conf"]
DATA_FS_LIBRARY_PACKAGES = ["libext2fs2", "libcom-err2", "libblkid1", "libuuid1"]


class ImageError(pack_firmware.PackError):
    pass


run = pack_firmware.run   # a command's stdout, or PackError with its stderr


def read_conf(path):
    conf = pack_firmware.read_conf(path)
    for k in ("ARCH", "DEBARCH", "KERNEL_PACKAGE", "BUSYBOX_PACKAGE", "MODULES", "TRIPLET"):
        if k not in conf:
            raise ImageError(f"{path}: {k}= is missing")
    return conf


def fetch(debarch, apt_state, dest, packages):
    """The .deb paths of packages, fetched with cross/debian-fetch.sh (fails loudly)."""
    p = subprocess.run([FETCH, debarch, apt_state, dest, *packages], capture_output=True, text=True)
    sys.stderr.write(p.stderr)
    if p.returncode != 0:
        raise ImageError(f"cannot fetch {' '.join(packages)} ({debarch}) from the machine's "
                         "apt sources; the image needs them (see the messages above)")
    out = []
    for name in packages:
        found = [f for f in os.listdir(dest) if f.startswith(name + "_")
                 and (f.endswith(f"_{debarch}.deb") or f.endswith("_all.deb"))]
        if not found:
            raise ImageError(f"{name}: no .deb in {dest}")
        out.append(os.path.join(dest, sorted(found)[-1]))
    return out


def deb_data(deb):
    """An open tarfile of a .deb's data member (via dpkg-deb --fsys-tarfile)."""
    p = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
    return p, tarfile.open(fileobj=p.stdout, mode="r|")


def extract_files(deb, dest, wanted=None):
    """Extracts regular files and symbolic links of a .deb into dest: those of
    the paths in wanted (relative, e.g. usr/sbin/lighttpd) that the package
    has, or every file under lib/ and usr/lib/ when wanted is None (a library
    package). Returns the relative paths extracted."""
    got = []
    p, tf = deb_data(deb)
    for m in tf:
        if not (m.isfile() or m.issym()):
            continue
        name = os.path.normpath(m.name.lstrip("./"))
        if wanted is not None:
            if name not in wanted:
                continue
        elif not (name.startswith("lib/") or name.startswith("usr/lib/")) or "/share/" in name:
            continue
        target = os.path.join(dest, name)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if os.path.lexists(target):
            os.unlink(target)
        if m.issym():
            os.symlink(m.linkname, target)
        else:
            with tf.extractfile(m) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            os.chmod(target, m.mode & 0o755)
        got.append(name)
    p.wait()
    return got


def fetch_files(debarch, apt_state, cache, name, packages, files, library_packages):
    """Fetches packages and library_packages; extracts only `files` of the
    packages into CACHE/NAME (what goes into the image) and the libraries
    into CACHE/NAME-libs (where their shared libraries are looked up).
    Returns the two directories."""
    debs = fetch(debarch, apt_state, os.path.join(cache, "debs"), packages + library_packages)
    root, libs = os.path.join(cache, name), os.path.join(cache, name + "-libs")
    for d in (root, libs):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    got = []
    for deb in debs[:len(packages)]:
        got += extract_files(deb, root, set(files))
    if sorted(got) != sorted(files):
        raise ImageError(f"the packages {' '.join(packages)} lack {sorted(set(files) - set(got))}")
    for deb in debs[len(packages):]:
        extract_files(deb, libs)
    return root, libs


def extract_kernel(deb, cache):
    """Extracts boot/vmlinuz-* and lib/modules/*/kernel/** once; returns (image, moddir, version)."""
    done = os.path.join(cache, ".extracted-" + os.path.basename(deb))
    kdir = os.path.join(cache, "kernel")
    if not os.path.exists(done):
        shutil.rmtree(kdir, ignore_errors=True)
        os.makedirs(kdir)
        p, tf = deb_data(deb)
        for m in tf:
            name = m.name.lstrip("./")
            if (name.startswith("boot/vmlinuz-") or name.startswith("lib/modules/")) and (m.isfile() or m.isdir()):
                tf.extract(m, kdir, set_attrs=False)
        p.wait()
        open(done, "w").close()
    boot = os.path.join(kdir, "boot")
    images = [f for f in os.listdir(boot) if f.startswith("vmlinuz-")]
    if len(images) != 1:
        raise ImageError(f"{deb}: expected one boot/vmlinuz-*, found {images}")
    version = images[0][len("vmlinuz-"):]
    return os.path.join(boot, images[0]), os.path.join(kdir, "lib", "modules", version), version


def module_index(moddir):
    """{module name with '_': path} for every .ko under moddir."""
    idx = {}
    for root, _, files in os.walk(moddir):
        for f in files:
            if f.endswith(".ko"):
                idx[f[:-3].replace("-", "_")] = os.path.join(root, f)
    return idx


def module_depends(path):
    with open(path, "rb") as f:
        data = f.read()
    m = re.search(rb"\x00depends=([A-Za-z0-9_,-]*)\x00", data)
    if not m or not m.group(1):
        return []
    return [d.decode().replace("-", "_") for d in m.group(1).split(b",") if d]


def resolve_modules(wanted, idx):
    """Wanted modules and their dependencies, each after what it needs."""
    order, state = [], {}

    def visit(name, chain):
        name = name.replace("-", "_")
        if state.get(name) == "done":
            return
        if state.get(name) == "busy":
            raise ImageError(f"module dependency cycle: {' -> '.join(chain + [name])}")
        if name not in idx:
            raise ImageError(f"module {name} (needed by {chain[-1] if chain else 'MODULES'}) is not "
                             "in the kernel package (built in, or renamed?)")
        state[name] = "busy"
        for d in module_depends(idx[name]):
            visit(d, chain + [name])
        state[name] = "done"
        order.append(name)

    for w in wanted:
        visit(w, [])
    return order


def copy_tree(src, dst):
    """Copies src over dst (files, links, dirs), keeping modes."""
    for root, dirs, files in os.walk(src):
        rel = os.path.relpath(root, src)
        target_root = os.path.normpath(os.path.join(dst, rel))
        os.makedirs(target_root, exist_ok=True)
        for n in dirs + files:
            s = os.path.join(root, n)
            t = os.path.join(target_root, n)
            if os.path.islink(s):
                if os.path.lexists(t):
                    os.unlink(t)
                os.symlink(os.readlink(s), t)
            elif os.path.isfile(s):
                if os.path.lexists(t):
                    os.unlink(t)
                shutil.copy2(s, t)


def needed_libs(readelf, path):
    out = subprocess.run([readelf, "-d", path], capture_output=True, text=True).stdout
    interp = subprocess.run([readelf, "-l", path], capture_output=True, text=True).stdout
    libs = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)
    m = re.search(r"Requesting program interpreter: ([^\]]+)\]", interp)
    return libs, (m.group(1) if m else None)


# Libraries a program loads with dlopen() (no NEEDED entry for readelf to
# find): boxmail-fw loads libnftables only where nft runs.
DLOPENED_LIBS = {"boxmail-fw": ["libnftables.so.1"]}


def copy_shared_libs(rootfs, sysroot, triplet, lib_roots=()):
    """Copies the shared libraries every ELF program in the rootfs needs: from
    the first of lib_roots (unpacked library packages) that has one, else from
    the sysroot; the loader from the sysroot. Returns the paths copied."""
    readelf = f"{triplet}-readelf"
    search = [f"lib/{triplet}", f"usr/lib/{triplet}", "lib", "usr/lib"]
    roots = [os.path.abspath(r) for r in lib_roots] + [sysroot]
    todo, seen, copied = [], set(), []
    for root, _, files in os.walk(rootfs):
        for f in files:
            p = os.path.join(root, f)
            if not os.path.islink(p) and os.path.isfile(p):
                with open(p, "rb") as fh:
                    if fh.read(4) == b"\x7fELF":
                        todo.append(p)
    while todo:
        p = todo.pop()
        libs, interp = needed_libs(readelf, p)
        libs += DLOPENED_LIBS.get(os.path.basename(p), [])
        if interp and interp not in seen:
            seen.add(interp)
            src = os.path.join(sysroot, interp.lstrip("/"))
            real = os.path.realpath(src)
            if not os.path.exists(real):
                raise ImageError(f"{p}: loader {interp} not in the sysroot {sysroot}")
            dst = os.path.join(rootfs, interp.lstrip("/"))
            real_rel = os.path.relpath(real, sysroot)
            os.makedirs(os.path.dirname(os.path.join(rootfs, real_rel)), exist_ok=True)
            shutil.copy2(real, os.path.join(rootfs, real_rel))
            copied.append(real_rel)
            if os.path.normpath(dst) != os.path.normpath(os.path.join(rootfs, real_rel)):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if os.path.lexists(dst):
                    os.unlink(dst)
                os.symlink(os.path.relpath(os.path.join(rootfs, real_rel), os.path.dirname(dst)), dst)
        for lib in libs:
            if lib in seen:
                continue
            seen.add(lib)
            found = [(root, d) for root in roots for d in search if os.path.exists(os.path.join(root, d, lib))]
            if not found:
                raise ImageError(f"{p} needs {lib}, which is not in the sysroot {sysroot} "
                                 "nor in WEB_SERVER_LIBRARY_PACKAGES (build_image.py)")
            root, d = found[0]
            src = os.path.join(root, d, lib)
            dst = os.path.join(rootfs, d, lib)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy2(os.path.realpath(src), dst)
            copied.append(os.path.join(d, lib))
            todo.append(dst)
    return copied


# -- cpio (newc) -----------------------------------------------------------

class Cpio:
    def __init__(self, out):
        self.out = out
        self.ino = 300000

    def entry(self, name, mode, data=b"", rdev=(0, 0), nlink=1):
        self.ino += 1
        name_b = name.encode() + b"\x00"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, nlink, MTIME, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0))
        self.out.write(hdr.encode() + name_b)
        self.out.write(b"\x00" * ((4 - (110 + len(name_b)) % 4) % 4))
        self.out.write(data)
        self.out.write(b"\x00" * ((4 - len(data) % 4) % 4))

    def tree(self, root):
        for dirpath, dirs, files in os.walk(root):
            dirs.sort()
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                st = os.lstat(dirpath)
                self.entry(rel, stat.S_IFDIR | (st.st_mode & 0o7777), nlink=2)
            for n in sorted(files) + sorted(d for d in dirs if os.path.islink(os.path.join(dirpath, d))):
                p = os.path.join(dirpath, n)
                r = os.path.normpath(os.path.join(rel, n))
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    self.entry(r, stat.S_IFLNK | 0o777, os.readlink(p).encode())
                elif stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        self.entry(r, stat.S_IFREG | (st.st_mode & 0o7777), f.read())

    def trailer(self):
        self.entry("TRAILER!!!", 0)


def write_initramfs(path, root, devices):
    with gzip.GzipFile(path + ".tmp", "wb", compresslevel=9, mtime=MTIME) as gz:
        c = Cpio(gz)
        c.tree(root)
        for name, mode, major, minor in devices:
            c.entry(name, mode, rdev=(major, minor))
        c.trailer()
    os.replace(path + ".tmp", path)


def dir_size(root):
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def build(args):
    board = os.path.abspath(args.board)
    conf = read_conf(os.path.join(board, "board.conf"))
    out = os.path.abspath(args.out)
    cache = os.path.join(out, "cache")
    os.makedirs(cache, exist_ok=True)
    debarch, triplet = conf["DEBARCH"], conf["TRIPLET"]

    if args.extra_overlay:
        target = os.path.join(out, "initramfs-test.cpio.gz")
        base = os.path.join(out, "initramfs.cpio.gz")
        if not os.path.isfile(base):
            raise ImageError(f"{base} is missing: build the image first (make image)")
        extra = os.path.join(out, "extra.cpio.gz")
        write_initramfs(extra, os.path.abspath(args.extra_overlay), [])
        with open(target + ".tmp", "wb") as f:
            for part in (base, extra):
                with open(part, "rb") as p:
                    shutil.copyfileobj(p, f)
        os.replace(target + ".tmp", target)
        os.unlink(extra)
        print(f"build_image: {target} ({os.path.getsize(target)} bytes)")
        return

    kernel_pkg = conf["KERNEL_PACKAGE"]
    if not re.search(r"-\d+\.\d+", kernel_pkg):  # a metapackage such as linux-image-arm64
        p = subprocess.run([FETCH, debarch, args.apt_state, "--depends", kernel_pkg],
                           capture_output=True, text=True)
        sys.stderr.write(p.stderr)
        if p.returncode != 0 or not p.stdout.strip():
            raise ImageError(f"cannot resolve {kernel_pkg} ({debarch}) from the machine's apt sources")
        kernel_pkg = p.stdout.strip()
    busybox_deb, kernel_deb = fetch(debarch, args.apt_state, os.path.join(cache, "debs"),
                                    [conf["BUSYBOX_PACKAGE"], kernel_pkg])
    if conf.get("BOOTLOADER_PACKAGE"):    # for pack_firmware.py (u-boot.bin)
        fetch(debarch, args.apt_state, os.path.join(cache, "debs"), [conf["BOOTLOADER_PACKAGE"]])
    image, moddir, kver = extract_kernel(kernel_deb, cache)
    web_root, web_libs = fetch_files(debarch, args.apt_state, cache, "web-server", WEB_SERVER_PACKAGES,
                                     WEB_SERVER_FILES, WEB_SERVER_LIBRARY_PACKAGES)
    data_root, data_libs = fetch_files(debarch, args.apt_state, cache, "data-fs", DATA_FS_PACKAGES,
                                       DATA_FS_FILES, DATA_FS_LIBRARY_PACKAGES)

    rootfs = os.path.join(out, "rootfs")
    shutil.rmtree(rootfs, ignore_errors=True)
    for d in ("bin", "sbin", "usr/bin", "usr/sbin", "etc", "proc", "sys", "dev", "tmp", "run",
              "var", "root", "lib", "mnt", "boot"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    os.chmod(os.path.join(rootfs, "tmp"), 0o1777)
    os.chmod(os.path.join(rootfs, "root"), 0o700)

    # busybox and one link per applet (the applet list comes from busybox itself, under qemu-user)
    p, tf = deb_data(busybox_deb)
    for m in tf:
        if m.name.lstrip("./") == "bin/busybox":
            with tf.extractfile(m) as src, open(os.path.join(rootfs, "bin", "busybox"), "wb") as dst:
                shutil.copyfileobj(src, dst)
    p.wait()
    bb = os.path.join(rootfs, "bin", "busybox")
    if not os.path.isfile(bb):
        raise ImageError(f"{busybox_deb}: no bin/busybox inside")
    os.chmod(bb, 0o755)
    os.symlink("sbin/init", os.path.join(rootfs, "init"))   # the kernel runs /init of an initramfs
    applets = run([conf.get("QEMU_USER", "qemu-" + conf["ARCH"]), bb, "--list-full"]).split()
    for a in applets:
        link = os.path.join(rootfs, a)
        if os.path.lexists(link) or a == "bin/busybox":
            continue
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(os.path.relpath(bb, os.path.dirname(link)), link)

    # kernel modules, dependencies first
    idx = module_index(moddir)
    order = resolve_modules(conf["MODULES"].split(), idx)
    mdst = os.path.join(rootfs, "lib", "modules", kver)
    os.makedirs(mdst, exist_ok=True)
    for name in order:
        shutil.copy2(idx[name], os.path.join(mdst, name + ".ko"))
    with open(os.path.join(rootfs, "etc", "modules-boot"), "w") as f:
        f.write("# kernel modules loaded by /etc/init.d/rcS in this order (made by build_image.py)\n")
        f.write("".join(n + "\n" for n in order))

    # the panel's web server, boxmail (the installed stage), the overlay, the board's own files
    copy_tree(web_root, rootfs)
    copy_tree(data_root, rootfs)
    copy_tree(os.path.abspath(args.stage), rootfs)
    copy_tree(os.path.join(SOURCE, "rootfs-overlay"), rootfs)
    if os.path.isdir(os.path.join(board, "rootfs")):
        copy_tree(os.path.join(board, "rootfs"), rootfs)
    libs = copy_shared_libs(rootfs, os.path.abspath(args.sysroot), triplet, [web_libs, data_libs])
    board_name = os.path.basename(board.rstrip("/"))
    write_release(rootfs, board_name, args.version, args.signing_key)

    shutil.copy2(image, os.path.join(out, "Image"))
    initramfs = os.path.join(out, "initramfs.cpio.gz")
    write_initramfs(initramfs, rootfs, [("dev/console", stat.S_IFCHR | 0o600, 5, 1),
                                        ("dev/null", stat.S_IFCHR | 0o666, 1, 3)])
    with open(os.path.join(out, "modules.txt"), "w") as f:
        f.write("".join(n + "\n" for n in order))
    sizes = {
        "kernel": kver,
        "Image_bytes": os.path.getsize(os.path.join(out, "Image")),
        "initramfs_gz_bytes": os.path.getsize(initramfs),
        "rootfs_bytes": dir_size(rootfs),
        "modules": len(order),
        "shared_libs": " ".join(libs) or "none",
        "web_server_bytes": sum(os.path.getsize(os.path.join(rootfs, f)) for f in WEB_SERVER_FILES),
        "web_server_libs_bytes": sum(os.path.getsize(os.path.join(rootfs, f)) for f in libs
                                     if os.path.isfile(os.path.join(web_libs, f))),
        "data_fs_tools_bytes": sum(os.path.getsize(os.path.join(rootfs, f)) for f in DATA_FS_FILES),
        "data_fs_libs_bytes": sum(os.path.getsize(os.path.join(rootfs, f)) for f in libs
                                  if os.path.isfile(os.path.join(data_libs, f))),
    }
    with open(os.path.join(out, "sizes.txt"), "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in sizes.items()))
    print(f"build_image: kernel {kver} ({sizes['Image_bytes']} bytes), initramfs {initramfs} "
          f"({sizes['initramfs_gz_bytes']} bytes gzip, {sizes['rootfs_bytes']} bytes unpacked), "
          f"{len(order)} modules, shared libs: {sizes['shared_libs']}")
    if conf.get("BOOTLOADER_PACKAGE"):
        r = pack_firmware.pack(board, out, args.version, args.signing_key)
        sizes.update({"kernel_gz_bytes": r["kernel_gz_bytes"], "update_file": os.path.basename(r["update"]),
                      "update_file_bytes": os.path.getsize(r["update"]), "disk": os.path.basename(r["disk"]),
                      "version": args.version})
        with open(os.path.join(out, "sizes.txt"), "w") as f:
            f.write("".join(f"{k}={v}\n" for k, v in sizes.items()))
        print(f"build_image: update file {r['update']} ({sizes['update_file_bytes']} bytes), disk {r['disk']}")


def write_release(rootfs, board_name, version, signing_key):
    """/usr/share/boxmail/release (what the box is and which parts its slots
    take: read by boxmailctl firmware and the panel) and
    /usr/share/boxmail/firmware-key.pem (the public key update files must be
    signed with, derived from the private signing key, which never enters
    the image)."""
    if not VERSION_RE.match(version):
        raise ImageError(f"--version {version!r}: letters, digits and .+~_- only, at most 64")
    share = os.path.join(rootfs, "usr", "share", "boxmail")
    os.makedirs(share, exist_ok=True)
    with open(os.path.join(share, "release"), "w") as f:
        f.write(f"board={board_name}\nversion={version}\nparts=kernel initramfs\n")
    from cryptography.hazmat.primitives import serialization
    with open(signing_key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(os.path.join(share, "firmware-key.pem"), "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--board", required=True)
    ap.add_argument("--stage")
    ap.add_argument("--sysroot")
    ap.add_argument("--apt-state")
    ap.add_argument("--out", required=True)
    ap.add_argument("--extra-overlay")
    ap.add_argument("--version", help="the firmware version (the release file, the update file)")
    ap.add_argument("--signing-key", help="the private key update files are signed with (its public "
                    "half goes into the image)")
    args = ap.parse_args()
    if not args.extra_overlay and not (args.stage and args.sysroot and args.apt_state and args.version
                                       and args.signing_key):
        ap.error("--stage, --sysroot, --apt-state, --version and --signing-key are required to build an image")
    try:
        build(args)
    except pack_firmware.PackError as e:   # ImageError too
        print(f"build_image: ERROR: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
