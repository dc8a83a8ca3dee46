// fuzz.hpp - shared helpers for the fuzz targets (libFuzzer entry point
// LLVMFuzzerTestOneInput; replay_main.cpp runs the same entry point over a
// corpus and generated inputs as an ordinary ctest test, with g++ and under
// qemu-user for the ARM builds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

/// A property failed: print and abort (libFuzzer and the replay both stop).
#define FUZZ_CHECK(cond)                                                              \
  do {                                                                                \
    if (!(cond)) {                                                                    \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                   \
    }                                                                                 \
  } while (0)

/// Chunk sizes for splitting an input, taken from its first byte, so one
/// input is fed in a reproducible but varied way (1..16 octets, or whole).
inline std::size_t fuzz_step(std::string_view& in) {
  if (in.empty()) return 1;
  const auto b = static_cast<unsigned char>(in.front());
  in.remove_prefix(1);
  return (b & 0x10) ? in.size() + 1 : (b & 0x0f) + 1;
}
