# toolchain-common.cmake - shared part of boxmail's cross toolchain files.
#
# Included by aarch64-linux-gnu.cmake and arm-linux-gnueabihf.cmake after
# they set BOXMAIL_TRIPLET, BOXMAIL_ARCH and BOXMAIL_QEMU. Uses Debian's
# cross compilers (g++-<triplet>) and a sysroot made from the target's .deb
# files by cross/make-sysroot.sh. BOXMAIL_SYSROOT (cache variable) defaults
# to build/cross/<arch>/sysroot in the source tree, which is where
# `make cross ARCH=<arch>` puts it.
#
# CMAKE_CROSSCOMPILING_EMULATOR is qemu-user with the sysroot as its library
# prefix, so ctest (and gtest_discover_tests) run the target's unit tests
# unchanged on the build machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${BOXMAIL_ARCH})

if(NOT BOXMAIL_SYSROOT)
  get_filename_component(_boxmail_src "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
  set(BOXMAIL_SYSROOT "${_boxmail_src}/build/cross/${BOXMAIL_ARCH_DIR}/sysroot"
      CACHE PATH "Target sysroot made by cross/make-sysroot.sh")
endif()
# try_compile projects re-read this file: hand them the same sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES BOXMAIL_SYSROOT)
if(NOT EXISTS "${BOXMAIL_SYSROOT}/usr/include/mbedtls")
  message(FATAL_ERROR "boxmail: no sysroot at ${BOXMAIL_SYSROOT}; "
                      "run `make cross ARCH=${BOXMAIL_ARCH_DIR}` (it runs cross/make-sysroot.sh)")
endif()

set(CMAKE_C_COMPILER ${BOXMAIL_TRIPLET}-gcc)
set(CMAKE_CXX_COMPILER ${BOXMAIL_TRIPLET}-g++)
set(CMAKE_SYSROOT "${BOXMAIL_SYSROOT}")
set(CMAKE_LIBRARY_ARCHITECTURE ${BOXMAIL_TRIPLET})

# Libraries, headers and CMake packages come only from the sysroot (plus the
# cross compiler's own glibc and libstdc++); programs from the build machine.
# The exception is mbedTLS: `make cross` builds its own (cross/build-mbedtls.sh)
# outside the sysroot, and CMakeLists.txt takes it from BOXMAIL_MBEDTLS_PREFIX
# by path, without a find (which these modes would re-root in the sysroot).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config (libnftables) reads the target's .pc files and prefixes paths.
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${BOXMAIL_SYSROOT}")
set(ENV{PKG_CONFIG_LIBDIR} "${BOXMAIL_SYSROOT}/usr/lib/${BOXMAIL_TRIPLET}/pkgconfig:${BOXMAIL_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# The target's shared libraries are resolved inside the sysroot when linking
# (libnftables' own dependencies).
set(_boxmail_rpl "-Wl,-rpath-link,${BOXMAIL_SYSROOT}/lib/${BOXMAIL_TRIPLET}:${BOXMAIL_SYSROOT}/usr/lib/${BOXMAIL_TRIPLET}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${_boxmail_rpl}")
set(CMAKE_SHARED_LINKER_FLAGS_INIT "${_boxmail_rpl}")

set(CMAKE_CROSSCOMPILING_EMULATOR ${BOXMAIL_QEMU} -L "${BOXMAIL_SYSROOT}")
