// fuzz_roundtrip.cpp - POP3's encoder and SMTP's DATA reader are inverses:
// any stored message (LF line ends, any bytes) sent by RETR and read back as
// DATA is the same message (with a final LF added when it had none).
#include "fuzz.hpp"
#include "proto/dot_stuffer.hpp"
#include "smtp/data_reader.hpp"

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const std::size_t step = fuzz_step(in);
  boxmail::proto::DotStuffer enc;
  std::string wire;
  for (std::size_t i = 0; i < in.size(); i += step) enc.encode(in.substr(i, step), wire);
  enc.finish(wire);
  boxmail::smtp::DataReader dec;
  std::string back;
  const std::size_t used = dec.feed(wire, back);
  FUZZ_CHECK(dec.done());
  FUZZ_CHECK(used == wire.size());
  std::string expected(in);
  if (!expected.empty() && expected.back() != '\n') expected += '\n';
  FUZZ_CHECK(back == expected);
  return 0;
}
