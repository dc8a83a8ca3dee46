// ini_edit.hpp - edits of boxmail.ini text that keep everything else as it
// was: comments, order, blank lines (pure).
//
// The panel never writes a config from a Config value: it edits the text
// the administrator (or the last save) wrote, one key at a time, and then
// validates the whole new text with config::parse_config. Section and key
// names are matched case-insensitively, as the parser does; a line that is
// a comment (';' or '#') is never a key.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boxmail::cgi {

/// The value text of `key` in `section` (trimmed, a " ;comment" cut off),
/// nullopt when the key is not set there.
std::optional<std::string> ini_get(std::string_view text, std::string_view section, std::string_view key);

/// Sets `key = value` in `section`: replaces the key's line when it is set,
/// else inserts after the section's last key (or its header), else appends
/// the section at the end. `value` must hold no CR/LF (callers validate).
std::string ini_set(std::string_view text, std::string_view section, std::string_view key, std::string_view value);

/// Removes the key's line(s) from `section`; the text is unchanged when the
/// key is not set.
std::string ini_remove(std::string_view text, std::string_view section, std::string_view key);

/// The keys set in `section`, in file order, as (key lower case, value).
std::vector<std::pair<std::string, std::string>> ini_keys(std::string_view text, std::string_view section);

}  // namespace boxmail::cgi
