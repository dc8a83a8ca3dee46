// fuzz_firmware_update.cpp - the firmware update file's header parser and
// payload check (firmware/update_file.hpp) never crash on any upload; an
// accepted header keeps the promised shape (within kMaxHeader, 1..kMaxParts
// parts of 1..kMaxPart octets, unique names, the signed part ending before
// the signature line); the signature check with a real P-256 key never
// crashes and never accepts a header the key did not sign; the payload
// check, fed in varied chunks, accepts only exactly the listed octets.
#include "firmware/update_file.hpp"
#include "fuzz.hpp"

#include <set>
#include <string>

using namespace boxmail::firmware;

namespace {
// tests/unit/data/firmware/test-key.pub.pem (a test key: it signs nothing
// but the test files).
constexpr char kTestKey[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEhlsdnuFuzjOemYxVs49HAvS2u23g\n"
    "VGE64gdXDHHK1Cyla7rljvIWSv44cyN40zo0wvBX7EN5ZQM3Y/ExGkFrBA==\n"
    "-----END PUBLIC KEY-----\n";

bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t step = fuzz_step(in);
  const HeaderParse p = parse_header(in);
  FUZZ_CHECK(p.header.has_value() != !p.error.empty());
  if (!p.header) return 0;
  const UpdateHeader& h = *p.header;
  FUZZ_CHECK(h.header_size <= kMaxHeader && h.header_size <= in.size());
  FUZZ_CHECK(h.signed_size < h.header_size && in.substr(h.signed_size).starts_with("signature "));
  FUZZ_CHECK(in.substr(h.header_size - 2, 2) == "\n\n");
  FUZZ_CHECK(!h.parts.empty() && h.parts.size() <= kMaxParts);
  FUZZ_CHECK(is_name(h.board) && !h.version.empty() && h.version.size() <= 64 && h.key_id.size() == 16);
  std::set<std::string> names;
  for (const Part& part : h.parts) {
    FUZZ_CHECK(is_name(part.name) && part.size >= 1 && part.size <= kMaxPart);
    FUZZ_CHECK(names.insert(part.name).second);
  }
  if (verify_signature(in, h, kTestKey).empty()) {
    // The test key signed only the test files, all for these boards.
    FUZZ_CHECK(h.board == "test-board" || h.board == "other-board");
  }
  PayloadCheck c(h);
  const std::string_view payload = in.substr(h.header_size);
  std::string error;
  for (std::size_t i = 0; i < payload.size() && error.empty(); i += step) error = c.feed(payload.substr(i, step));
  if (error.empty()) error = c.finish();
  if (error.empty()) FUZZ_CHECK(payload.size() == h.payload_size());
  if (payload.size() != h.payload_size()) FUZZ_CHECK(!error.empty());
  return 0;
}
