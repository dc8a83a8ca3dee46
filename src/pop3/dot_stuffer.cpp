// dot_stuffer.cpp - see dot_stuffer.hpp.
#include "pop3/dot_stuffer.hpp"

#include <cstring>

namespace boxmail::pop3 {

DotStuffer::DotStuffer(std::optional<std::uint64_t> top_lines)
    : body_lines_left_(top_lines), top_(top_lines.has_value()) {}

std::size_t DotStuffer::encode(std::string_view in, std::string& out) {
  std::size_t pos = 0;
  while (pos < in.size() && !done_) {
    const void* hit = std::memchr(in.data() + pos, '\n', in.size() - pos);
    const std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - in.data()) : in.size();
    if (end > pos) {
      if (line_octets_ == 0) {
        first_is_cr_ = in[pos] == '\r';
        if (in[pos] == '.') out += '.';   // byte-stuffing
      }
      line_octets_ += end - pos;
      out.append(in.data() + pos, end - pos);
    }
    pos = end;
    if (hit == nullptr) break;
    out += "\r\n";
    ++pos;
    const bool empty = line_octets_ == 0 || (line_octets_ == 1 && first_is_cr_);
    line_octets_ = 0;
    if (!top_) continue;
    if (in_header_) {
      if (empty) {
        in_header_ = false;
        if (*body_lines_left_ == 0) done_ = true;
      }
    } else if (--*body_lines_left_ == 0) {
      done_ = true;
    }
  }
  return pos;
}

void DotStuffer::finish(std::string& out) {
  if (line_octets_ > 0) out += "\r\n";
  line_octets_ = 0;
  out += ".\r\n";
}

}  // namespace boxmail::pop3
