// maildir_name.cpp - see maildir_name.hpp.
#include "store/maildir_name.hpp"

#include <charconv>

namespace boxmail::store {

std::string maildir_safe_host(std::string_view host) {
  std::string r;
  for (char c : host) {
    if (c == '/') {
      r += "\\057";
    } else if (c == ':') {
      r += "\\072";
    } else if (c == ',') {
      r += "\\054";
    } else {
      r += c;
    }
  }
  return r.empty() ? std::string("localhost") : r;
}

std::string maildir_file_name(std::int64_t sec, std::int64_t usec, std::int64_t pid, std::uint64_t seq,
                              std::string_view host, std::uint64_t size, std::uint64_t vsize) {
  std::string r = std::to_string(sec);
  r += ".M" + std::to_string(usec) + "P" + std::to_string(pid) + "Q" + std::to_string(seq) + ".";
  r += maildir_safe_host(host);
  r += ",S=" + std::to_string(size) + ",W=" + std::to_string(vsize);
  return r;
}

MaildirSizes parse_maildir_sizes(std::string_view name) {
  MaildirSizes r;
  if (auto colon = name.find(':'); colon != std::string_view::npos) name = name.substr(0, colon);
  auto first_comma = name.find(',');
  while (first_comma != std::string_view::npos) {
    name.remove_prefix(first_comma + 1);
    const auto next = name.find(',');
    const std::string_view field = name.substr(0, next);
    if (field.size() > 2 && field[1] == '=' && (field[0] == 'S' || field[0] == 'W')) {
      std::uint64_t v = 0;
      auto [p, ec] = std::from_chars(field.data() + 2, field.data() + field.size(), v);
      if (ec == std::errc{} && p == field.data() + field.size()) (field[0] == 'S' ? r.size : r.vsize) = v;
    }
    first_comma = next;
  }
  return r;
}

namespace {
constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
}  // namespace

std::string queue_id_from(std::uint64_t random) {
  std::string r(13, '0');
  for (int i = 12; i >= 0; --i) {
    r[static_cast<std::size_t>(i)] = kAlphabet[random & 31];
    random >>= 5;
  }
  return r;
}

std::optional<std::uint64_t> parse_queue_id(std::string_view name) {
  if (name.size() != 13) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : name) {
    const char* at = std::char_traits<char>::find(kAlphabet, 32, c);
    if (at == nullptr || c == '\0') return std::nullopt;
    value = (value << 5) | static_cast<std::uint64_t>(at - kAlphabet);
  }
  // 13 digits of 5 bits hold 65: the first may carry 4 bits only.
  if (queue_id_from(value) != name) return std::nullopt;
  return value;
}

}  // namespace boxmail::store
