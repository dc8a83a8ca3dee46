// fuzz_config.cpp - the INI parser over the schema never crashes, and a text
// it accepts always yields a config (and errors always name a line).
#include "config/schema.hpp"
#include "fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto r = boxmail::config::parse_config(in, "fuzz.ini");
  FUZZ_CHECK(r.errors.empty() == (r.config != nullptr));
  for (const auto& e : r.errors) FUZZ_CHECK(!e.message.empty() && e.file == "fuzz.ini");
  return 0;
}
