// fuzz_archive.cpp - the backup archive (cgi/archive.hpp), read from an
// upload by the restore page: read_tar never crashes on any octets, a
// refused archive has no members, a taken one keeps max_files, max_size and
// the name rules (non-empty, no '/', not "." or "..", at most 99 octets:
// only what make_tar writes), and its members written by make_tar read
// back the same. The input is also cut into members (name, data) that
// make_tar writes and read_tar must read back exactly.
#include "cgi/archive.hpp"
#include "fuzz.hpp"

#include <string>
#include <vector>

namespace {

using boxmail::cgi::TarMember;
using boxmail::cgi::TarRead;

constexpr std::size_t kFiles = 4;
constexpr std::size_t kSize = 4096;

void check_read(const TarRead& r) {
  if (!r.error.empty()) {
    FUZZ_CHECK(r.members.empty());
    return;
  }
  FUZZ_CHECK(r.members.size() <= kFiles);
  for (const TarMember& m : r.members) {
    FUZZ_CHECK(m.data.size() <= kSize);
    FUZZ_CHECK(boxmail::cgi::valid_member_name(m.name));
    FUZZ_CHECK(m.name.front() != '/' && m.name.find("..") != 0 && m.name.find("/../") == std::string::npos);
  }
  for (std::size_t i = 0; i < r.members.size(); ++i)
    for (std::size_t j = i + 1; j < r.members.size(); ++j) FUZZ_CHECK(r.members[i].name != r.members[j].name);
}

void check_same(const std::vector<TarMember>& members) {
  const TarRead back = boxmail::cgi::read_tar(boxmail::cgi::make_tar(members, 1700000000), kFiles, kSize);
  FUZZ_CHECK(back.error.empty());
  FUZZ_CHECK(back.members.size() == members.size());
  for (std::size_t i = 0; i < members.size(); ++i) {
    FUZZ_CHECK(back.members[i].name == members[i].name);
    FUZZ_CHECK(back.members[i].data == members[i].data);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const TarRead r = boxmail::cgi::read_tar(in, kFiles, kSize);
  check_read(r);
  if (r.error.empty()) check_same(r.members);

  // Members made from the input: "name\0data\0name\0data..." with names
  // cut to the rules make_tar promises to keep.
  std::vector<TarMember> made;
  std::size_t pos = 0;
  while (pos < in.size() && made.size() < kFiles) {
    auto end = in.find('\0', pos);
    std::string name(in.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? in.size() : end + 1;
    end = in.find('\0', pos);
    std::string body(in.substr(pos, end == std::string_view::npos ? end : end - pos));
    pos = end == std::string_view::npos ? in.size() : end + 1;
    // Printable, '/' kept only between other octets, made unique.
    std::string clean;
    for (char c : name) {
      if (c >= '!' && c <= '~' && c != '.') clean += c;
    }
    while (!clean.empty() && clean.front() == '/') clean.erase(0, 1);
    for (std::size_t s; (s = clean.find("//")) != std::string::npos;) clean.erase(s, 1);
    if (clean.size() > 90) clean.resize(90);
    while (!clean.empty() && clean.back() == '/') clean.pop_back();
    if (clean.empty()) clean = "file";
    clean += "-" + std::to_string(made.size());
    if (body.size() > kSize) body.resize(kSize);
    made.push_back(TarMember{clean, body});
  }
  check_same(made);
  return 0;
}
