# CMake toolchain file: 64-bit ARM (arm64), Debian's aarch64-linux-gnu-g++.
#   cmake -S . -B build/cross-aarch64 -DCMAKE_TOOLCHAIN_FILE=cross/aarch64-linux-gnu.cmake
# See toolchain-common.cmake (sysroot, qemu-user emulator); `make cross ARCH=aarch64`.
set(BOXMAIL_TRIPLET aarch64-linux-gnu)
set(BOXMAIL_ARCH aarch64)
set(BOXMAIL_ARCH_DIR aarch64)
set(BOXMAIL_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
