#!/bin/sh
# Remakes the update files tests/unit/firmware_update_test.cpp checks, with
# board/common/sign_firmware.py (so the test also shows that what the
# signer writes, mbedTLS on the box verifies). The keys here are test keys:
# they sign nothing but these files. Run from this directory.
set -e
S=../../../../board/common/sign_firmware.py
[ -f test-key.pem ] || /usr/bin/python3 $S make-key --key test-key.pem --public test-key.pub.pem
[ -f other-key.pem ] || /usr/bin/python3 $S make-key --key other-key.pem --public other-key.pub.pem
/usr/bin/python3 - <<'PY'
with open("kernel.part", "wb") as f:
    f.write(bytes((i * 7 + 3) % 256 for i in range(1000)))
with open("initramfs.part", "wb") as f:
    f.write(bytes((i * 13 + 5) % 251 for i in range(70000)))   # past one 64 KiB read
with open("kernel2.part", "wb") as f:
    f.write(bytes((i * 11 + 1) % 256 for i in range(1500)))
with open("initramfs2.part", "wb") as f:
    f.write(bytes((i * 17 + 2) % 253 for i in range(66000)))
with open("dtb.part", "wb") as f:
    f.write(b"dtb" * 100)
PY
/usr/bin/python3 $S sign --key test-key.pem --board test-board --version 1.0.0+test \
  --part kernel=kernel.part --part initramfs=initramfs.part --out sample.bmfw
/usr/bin/python3 $S sign --key test-key.pem --board other-board --version 1.0.0+test \
  --part kernel=kernel.part --out other-board.bmfw
/usr/bin/python3 $S sign --key other-key.pem --board test-board --version 1.0.0+test \
  --part kernel=kernel.part --out other-key.bmfw
# For tests/unit/firmware_installer_test.cpp (the release file there says
# parts=kernel initramfs): another version, the parts in the other order, a
# part missing, one too many.
/usr/bin/python3 $S sign --key test-key.pem --board test-board --version 1.1.0+test \
  --part kernel=kernel2.part --part initramfs=initramfs2.part --out sample-1.1.bmfw
/usr/bin/python3 $S sign --key test-key.pem --board test-board --version 1.0.1+test \
  --part initramfs=initramfs.part --part kernel=kernel.part --out reordered.bmfw
/usr/bin/python3 $S sign --key test-key.pem --board test-board --version 1.0.0+test \
  --part kernel=kernel.part --out kernel-only.bmfw
/usr/bin/python3 $S sign --key test-key.pem --board test-board --version 1.0.0+test \
  --part kernel=kernel.part --part initramfs=initramfs.part --part dtb=dtb.part --out extra-part.bmfw
rm -f kernel.part initramfs.part kernel2.part initramfs2.part dtb.part
