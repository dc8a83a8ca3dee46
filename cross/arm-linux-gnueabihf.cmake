# CMake toolchain file: 32-bit ARM hard-float (armhf, ARMv7), Debian's
# arm-linux-gnueabihf-g++.
#   cmake -S . -B build/cross-armhf -DCMAKE_TOOLCHAIN_FILE=cross/arm-linux-gnueabihf.cmake
# See toolchain-common.cmake (sysroot, qemu-user emulator); `make cross ARCH=armhf`.
set(BOXMAIL_TRIPLET arm-linux-gnueabihf)
set(BOXMAIL_ARCH armv7l)
set(BOXMAIL_ARCH_DIR armhf)
set(BOXMAIL_QEMU qemu-arm)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-common.cmake)
# 64-bit file offsets on the 32-bit target: files over 2 GiB, and readdir()
# that works on file systems with 64-bit directory cookies (ext4 seen
# through qemu-user fails with EOVERFLOW otherwise).
set(CMAKE_C_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
set(CMAKE_CXX_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")
