// archive.cpp - see archive.hpp.
#include "cgi/archive.hpp"

#include "text/number.hpp"

#include <cstdio>
#include <cstring>

namespace boxmail::cgi {
namespace {
constexpr std::size_t kBlock = 512;

/// width-1 octal digits (zero-padded; high digits dropped if v is larger), NUL-terminated.
void octal(char* field, std::size_t width, std::uint64_t v) {
  field[width - 1] = '\0';
  for (std::size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (v & 7));
    v >>= 3;
  }
}

unsigned checksum(const char* h) {
  unsigned sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i)
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  return sum;
}

/// A tar number field: octal digits (text::parse_unsigned, at most 2^40),
/// leading blanks and trailing blanks or NULs allowed.
bool parse_octal(std::string_view f, std::uint64_t& out) {
  out = 0;
  std::size_t i = 0;
  while (i < f.size() && f[i] == ' ') ++i;
  std::size_t end = i;
  while (end < f.size() && f[end] != ' ' && f[end] != '\0') ++end;
  for (std::size_t j = end; j < f.size(); ++j)
    if (f[j] != ' ' && f[j] != '\0') return false;
  const auto n = text::parse_unsigned<std::uint64_t>(f.substr(i, end - i), 1ull << 40, 8);
  if (!n) return false;
  out = n.value;
  return true;
}
}  // namespace

bool valid_member_name(std::string_view name) {
  if (name.empty() || name.size() > 99) return false;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = name.find('/', start);
    const std::string_view part = name.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part)
      if (c < '!' || c > '~') return false;
    if (slash == std::string_view::npos) return true;
    start = slash + 1;
  }
}

std::string make_tar(const std::vector<TarMember>& members, std::int64_t mtime) {
  std::string out;
  for (const TarMember& m : members) {
    char h[kBlock] = {};
    std::memcpy(h, m.name.data(), m.name.size() < 99 ? m.name.size() : 99);
    octal(h + 100, 8, 0600);
    octal(h + 108, 8, 0);
    octal(h + 116, 8, 0);
    octal(h + 124, 12, m.data.size());
    octal(h + 136, 12, static_cast<std::uint64_t>(mtime < 0 ? 0 : mtime));
    h[156] = '0';
    std::memcpy(h + 257, "ustar", 6);
    std::memcpy(h + 263, "00", 2);
    std::memcpy(h + 265, "root", 4);
    std::memcpy(h + 297, "root", 4);
    octal(h + 148, 7, checksum(h));   // six digits, NUL, then a blank
    h[155] = ' ';
    out.append(h, kBlock);
    out += m.data;
    out.append((kBlock - m.data.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  return out;
}

TarRead read_tar(std::string_view a, std::size_t max_files, std::size_t max_size) {
  TarRead r;
  auto fail = [&r](std::string m) {
    r.members.clear();
    r.error = std::move(m);
    return r;
  };
  std::size_t pos = 0;
  for (;;) {
    if (pos + kBlock > a.size()) return fail("the archive is truncated (not a boxmail backup?)");
    const char* h = a.data() + pos;
    bool zero = true;
    for (std::size_t i = 0; i < kBlock; ++i) zero = zero && h[i] == '\0';
    if (zero) break;
    std::uint64_t sum = 0, size = 0;
    if (!parse_octal(std::string_view(h + 148, 8), sum) || sum != checksum(h))
      return fail("bad tar header checksum (not a boxmail backup?)");
    if (h[156] != '0' && h[156] != '\0') return fail("the archive holds something other than plain files");
    if (!parse_octal(std::string_view(h + 124, 12), size)) return fail("bad size in tar header");
    // At most 99 octets and a NUL, as make_tar writes it: a name filling
    // all 100 octets could not be written back the same (fuzz_archive).
    const std::string_view name(h, strnlen(h, 100));
    if (name.size() > 99 || !valid_member_name(name) || h[345] != '\0')
      return fail("unexpected file name in the archive (an absolute path, '..' or a character a backup never "
                  "holds)");
    for (const TarMember& seen : r.members)
      if (seen.name == name) return fail("'" + std::string(name) + "' is twice in the archive");
    if (size > max_size) return fail("file '" + std::string(name) + "' in the archive is too large");
    if (r.members.size() == max_files) return fail("too many files in the archive");
    pos += kBlock;
    if (pos + size > a.size()) return fail("the archive is truncated");
    r.members.push_back(TarMember{std::string(name), std::string(a.substr(pos, size))});
    pos += (size + kBlock - 1) / kBlock * kBlock;
  }
  return r;
}

}  // namespace boxmail::cgi
