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
PY
/usr/bin/python3 $S sign --key test-key.pem --board test-board --version 1.0.0+test \
  --part kernel=kernel.part --part initramfs=initramfs.part --out sample.bmfw
/usr/bin/python3 $S sign --key test-key.pem --board other-board --version 1.0.0+test \
  --part kernel=kernel.part --out other-board.bmfw
/usr/bin/python3 $S sign --key other-key.pem --board test-board --version 1.0.0+test \
  --part kernel=kernel.part --out other-key.bmfw
rm -f kernel.part initramfs.part
