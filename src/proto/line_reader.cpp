// line_reader.cpp - see line_reader.hpp.
#include "proto/line_reader.hpp"

namespace boxmail::proto {

LineReader::Event LineReader::next(std::string_view in) {
  if (clear_next_) {
    partial_.clear();
    clear_next_ = false;
  }
  Event ev;
  std::size_t used = 0;
  if (discarding_) {
    const auto lf = in.find('\n');
    if (lf == std::string_view::npos) {
      ev.consumed = in.size();
      return ev;
    }
    discarding_ = false;
    used = lf + 1;
    in.remove_prefix(used);
  }
  const auto lf = in.find('\n');
  const std::size_t have = partial_.size() + (lf == std::string_view::npos ? in.size() : lf + 1);
  if (have > max_line_) {
    // Over the limit, whether or not the line is complete yet.
    partial_.clear();
    ev.kind = Kind::TooLong;
    if (lf == std::string_view::npos) {
      discarding_ = true;
      ev.consumed = used + in.size();
    } else {
      ev.consumed = used + lf + 1;
    }
    return ev;
  }
  if (lf == std::string_view::npos) {
    partial_.append(in);
    ev.consumed = used + in.size();
    return ev;
  }
  std::string_view line;
  if (partial_.empty()) {
    line = in.substr(0, lf);
  } else {
    partial_.append(in.substr(0, lf));
    line = partial_;
    clear_next_ = true;
  }
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  ev.kind = Kind::Line;
  ev.line = line;
  ev.consumed = used + lf + 1;
  return ev;
}

}  // namespace boxmail::proto
