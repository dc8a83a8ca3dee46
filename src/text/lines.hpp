// lines.hpp - taking LF-separated lines out of a text one at a time (pure,
// header-only).
#pragma once

#include <cstddef>
#include <string_view>

namespace boxmail::text {

/// The line of `text` that starts at `pos` (without its LF), and `pos`
/// moved past the LF. Call while pos < text.size(); a last line without a
/// LF is returned whole.
inline std::string_view next_line(std::string_view text, std::size_t& pos) {
  auto nl = text.find('\n', pos);
  if (nl == std::string_view::npos) nl = text.size();
  const std::string_view line = text.substr(pos, nl - pos);
  pos = nl + 1;
  return line;
}

}  // namespace boxmail::text
