// dot_stuffer.cpp - see dot_stuffer.hpp.
#include "proto/dot_stuffer.hpp"

#include <cstring>

namespace boxmail::proto {

DotStuffer::DotStuffer(std::optional<std::uint64_t> top_lines)
    : body_lines_left_(top_lines), top_(top_lines.has_value()) {}

DotStuffer::DotStuffer(LineEnds ends) : ends_(ends) {}

void DotStuffer::content(std::string_view seg, std::string& out) {
  if (seg.empty()) return;
  if (line_octets_ == 0) {
    first_is_cr_ = seg.front() == '\r';
    if (seg.front() == '.') out += '.';   // byte-stuffing
  }
  line_octets_ += seg.size();
  out.append(seg);
}

std::size_t DotStuffer::encode(std::string_view in, std::string& out) {
  if (ends_ == LineEnds::Crlf) return encode_crlf(in, out);
  std::size_t pos = 0;
  while (pos < in.size() && !done_) {
    const void* hit = std::memchr(in.data() + pos, '\n', in.size() - pos);
    const std::size_t end = hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - in.data()) : in.size();
    content(in.substr(pos, end - pos), out);
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

std::size_t DotStuffer::encode_crlf(std::string_view in, std::string& out) {
  std::size_t pos = 0;
  while (pos < in.size()) {
    if (skip_lf_) {
      skip_lf_ = false;
      if (in[pos] == '\n') {   // the LF of a CRLF split across chunks
        ++pos;
        continue;
      }
    }
    const std::size_t end = in.find_first_of("\r\n", pos);
    content(in.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos), out);
    if (end == std::string_view::npos) break;
    out += "\r\n";
    line_octets_ = 0;
    skip_lf_ = in[end] == '\r';
    pos = end + 1;
  }
  return in.size();
}

void DotStuffer::finish(std::string& out) {
  if (line_octets_ > 0) out += "\r\n";
  line_octets_ = 0;
  out += ".\r\n";
}

}  // namespace boxmail::proto
