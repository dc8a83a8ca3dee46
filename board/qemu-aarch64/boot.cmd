# boxmail's A/B boot script for u-boot (docs/firmware.md "A/B slots and the
# fallback"); made into boot.scr with `mkimage -A arm64 -T script` by
# board/common/pack_firmware.py. u-boot's distro boot runs it from the first
# partition of the virtio disk, which holds the slots /a/ and /b/, each with
# `kernel` (Debian's arm64 Image, gzip: booti unpacks it through
# kernel_comp_addr_r) and `initramfs`. The boot-state sector
# (src/firmware/boot_state.hpp) is block 0x7f0, in the gap before that
# partition; only the bm_* names are imported from it.
setenv kernel_comp_addr_r 0x48000000
setenv bm_active a
setenv bm_try
setenv bm_tries 0
setenv bm_failed
if virtio read ${loadaddr} 0x7f0 1; then
  env import -t ${loadaddr} 0x200 bm_active bm_try bm_tries bm_failed
fi
if test "${bm_active}" != "b"; then setenv bm_active a; fi
if test "${bm_try}" = "${bm_active}"; then setenv bm_try; fi
setenv bm_slot ${bm_active}
if test "${bm_try}" = "a" || test "${bm_try}" = "b"; then
  if test ${bm_tries} -lt 3; then
    setexpr bm_tries ${bm_tries} + 1
    setenv bm_slot ${bm_try}
    env export -t -s 0x200 ${loadaddr} bm_active bm_try bm_tries
  else
    echo "boxmail: slot ${bm_try} did not come up in 3 boots: back to slot ${bm_active}"
    setenv bm_failed ${bm_try}
    setenv bm_try
    setenv bm_tries 0
    env export -t -s 0x200 ${loadaddr} bm_active bm_failed
  fi
  virtio write ${loadaddr} 0x7f0 1
fi
echo "boxmail: booting slot ${bm_slot} (active ${bm_active}, trial ${bm_try}, boot ${bm_tries})"
if ext4load virtio 0:1 ${kernel_addr_r} /${bm_slot}/kernel; then
  setenv kernel_comp_size ${filesize}
  if ext4load virtio 0:1 ${ramdisk_addr_r} /${bm_slot}/initramfs; then
    setenv bootargs "console=ttyAMA0 quiet panic=-1 boxmail.slot=${bm_slot}"
    booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
  fi
fi
# The slot could not be loaded: the known-good one, at once.
echo "boxmail: slot ${bm_slot} cannot be loaded: booting slot ${bm_active}"
ext4load virtio 0:1 ${kernel_addr_r} /${bm_active}/kernel
setenv kernel_comp_size ${filesize}
ext4load virtio 0:1 ${ramdisk_addr_r} /${bm_active}/initramfs
setenv bootargs "console=ttyAMA0 quiet panic=-1 boxmail.slot=${bm_active}"
booti ${kernel_addr_r} ${ramdisk_addr_r}:${filesize} ${fdtcontroladdr}
