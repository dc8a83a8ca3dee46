#!/usr/bin/python3
"""sign_firmware.py - makes and signs boxmail firmware update files
(docs/firmware.md, "The update file"; the box's side is
src/firmware/update_file.hpp).

  sign_firmware.py make-key --key KEY.pem --public PUBLIC.pem
      a new ECDSA P-256 key pair: the private key (PKCS#8 PEM, mode 0600;
      keep it with whoever builds releases, never in the image) and the
      public key (SubjectPublicKeyInfo PEM: built into the image)
  sign_firmware.py key-id PUBLIC.pem
      the key's id as the update file names it
  sign_firmware.py sign --key KEY.pem --board BOARD --version VERSION
                        --part NAME=PATH [--part NAME=PATH ...] --out FILE
      the update file: the header (board, version, each part's size and
      SHA-256, the key's id) signed with ECDSA P-256 / SHA-256, then the
      parts in the order given

Needs Debian's python3-cryptography (`make deps` installs it). Exit status
0, or 1 with the reason on stderr.
"""
import argparse
import hashlib
import os
import re
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

MAGIC = b"boxmail-firmware 1\n"
NAME = re.compile(r"[a-z0-9-]{1,32}\Z")
VERSION = re.compile(r"[A-Za-z0-9.+~_-]{1,64}\Z")
MAX_PART = 256 * 1024 * 1024
MAX_PARTS = 8


def key_id(public_key):
    """First 8 octets of the SHA-256 of the DER SubjectPublicKeyInfo, hex."""
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def make_key(args):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(args.key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    with open(args.public, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    print(f"key {key_id(key.public_key())}: private {args.key}, public {args.public}")


def sign(args):
    with open(args.key, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise SystemExit(f"sign_firmware: {args.key} is not an ECDSA P-256 private key")
    if not NAME.match(args.board):
        raise SystemExit(f"sign_firmware: board {args.board!r}: [a-z0-9-], 1..32 characters")
    if not VERSION.match(args.version):
        raise SystemExit(f"sign_firmware: version {args.version!r}: [A-Za-z0-9.+~_-], 1..64 characters")
    parts = []
    for spec in args.part:
        name, sep, path = spec.partition("=")
        if not sep or not NAME.match(name) or name in (p[0] for p in parts):
            raise SystemExit(f"sign_firmware: --part {spec!r}: NAME=PATH, NAME [a-z0-9-] and unique")
        size = os.path.getsize(path)
        if not 0 < size <= MAX_PART:
            raise SystemExit(f"sign_firmware: {path}: {size} octets (1..{MAX_PART})")
        parts.append((name, path, size, file_sha256(path)))
    if not 0 < len(parts) <= MAX_PARTS:
        raise SystemExit(f"sign_firmware: 1..{MAX_PARTS} parts")
    signed = MAGIC + f"board {args.board}\nversion {args.version}\n".encode()
    signed += b"".join(f"part {n} {s} {h}\n".encode() for n, _, s, h in parts)
    signed += f"key {key_id(key.public_key())}\n".encode()
    signature = key.sign(signed, ec.ECDSA(hashes.SHA256()))   # DER (RFC 3279 2.2.3)
    header = signed + f"signature {signature.hex()}\n\n".encode()
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as out:
        out.write(header)
        for _, path, _, _ in parts:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 16), b""):
                    out.write(block)
    os.replace(tmp, args.out)
    total = len(header) + sum(p[2] for p in parts)
    print(f"{args.out}: board {args.board}, version {args.version}, {len(parts)} parts, {total} octets, "
          f"key {key_id(key.public_key())}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-key")
    p.add_argument("--key", required=True)
    p.add_argument("--public", required=True)
    p = sub.add_parser("key-id")
    p.add_argument("public")
    p = sub.add_parser("sign")
    p.add_argument("--key", required=True)
    p.add_argument("--board", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--part", action="append", required=True)
    p.add_argument("--out", required=True)
    args = ap.parse_args()
    try:
        if args.cmd == "make-key":
            make_key(args)
        elif args.cmd == "key-id":
            with open(args.public, "rb") as f:
                print(key_id(serialization.load_pem_public_key(f.read())))
        else:
            sign(args)
    except (OSError, ValueError) as e:
        print(f"sign_firmware: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
