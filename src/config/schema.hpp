// schema.hpp - the one table of configuration keys, and INI parsing over it.
//
// Every key of boxmail.ini is one row: section, key, type, range, default and
// a one-line doc. The table drives parsing and validation (parse_config), the
// man page boxmail.ini(5) (boxmaild --print-schema) and, later, the web
// panel's forms and validation. [aliases] is the one open section: any key is
// an alias name, its value a comma- or space-separated list of targets.
//
// Errors: unknown sections and keys, bad values (type, range, syntax) and
// cross-key problems are reported as ConfigError naming file, line, section
// and key; a config with any error is never used.
#pragma once

#include "config/config.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace boxmail::config {

/// The type of a schema key, which decides how its value text is parsed.
enum class KeyType {
  String,       ///< free text (one line)
  Bool,         ///< yes/no, true/false, on/off, 1/0
  Uint,         ///< decimal integer within [min, max]
  Size,         ///< octets; decimal with optional k/M/G suffix (1024-based), within [min, max]
  Seconds,      ///< decimal with optional s/m/h suffix, within [min, max]
  Enum,         ///< one of the '|'-separated words in `choices`
  ListenList,   ///< comma/space list of numeric "addr:port" or "[v6]:port"
  DomainList,   ///< "*" or comma/space list of domain patterns ("example.com", "*.example.org")
  Mailbox,      ///< a valid mailbox name (see account.hpp) or empty
  Path,         ///< a file system path (not empty)
  NetworkList,  ///< comma/space list of IP networks ("192.168.1.0/24", "fd00::/8", "127.0.0.1"; net/ip_network.hpp)
};

/// One row of the schema table.
struct KeyInfo {
  std::string_view section;
  std::string_view key;
  KeyType type;
  std::uint64_t min = 0;        ///< for Uint/Size/Seconds
  std::uint64_t max = 0;        ///< for Uint/Size/Seconds
  std::string_view choices{};   ///< for Enum: "normalize|reject"; empty otherwise
  std::string_view default_value;  ///< as text, exactly as it would be written in the INI file
  std::string_view doc;         ///< one line for the man page and the panel's help text
  /// A path fixed at install time (every Path key: the store, the
  /// passwd-file, the control socket, and later certificates and the
  /// queue), or the account boxmaild runs as: the web panel's forms and
  /// its restore refuse to change it,
  /// boxmaild takes a new value only at a restart (reload_rule.hpp), and
  /// the init script never chowns or chmods what the INI file names.
  bool fixed_at_install = false;
  /// Read at start only (the listening sockets are bound as root, before
  /// boxmaild drops to its account): a reload takes the rest of the file
  /// and reports this key as "needs a restart" (reload_rule.hpp).
  bool read_at_start = false;
  /// ListenList/NetworkList: an empty value is allowed and means "none"
  /// (a service turned off, no network); otherwise an empty list is an error.
  bool may_be_empty = false;
};

/// The whole schema table, in man page order.
const std::vector<KeyInfo>& schema();

/// Finds a row; nullptr when the key is not in the schema.
const KeyInfo* find_key(std::string_view section, std::string_view key);

/// A configuration error: where, which key, what is wrong.
struct ConfigError {
  std::string file;
  int line = 0;            ///< 1-based; 0 when not tied to a line (cross-key check)
  std::string section;
  std::string key;
  std::string message;
  /// "FILE:LINE: [section] key: message"
  std::string to_string() const;
};

/// Result of parsing: a config when errors is empty.
struct ParseResult {
  ConfigPtr config;                  ///< null when errors is not empty
  std::vector<ConfigError> errors;
};

/// The embedded default: every key at its schema default.
ConfigPtr default_config();

/// Parses INI text over the schema defaults (keys not given keep their
/// default). `file_name` only labels errors and Config::source. Pure.
ParseResult parse_config(std::string_view text, std::string_view file_name);

/// True when INI text holds nothing but blanks and line ends: an emptied or
/// cut-off file, which is an error where a file is named, never "all
/// defaults" (those would move the store to ./var).
bool is_empty_config(std::string_view text);

/// The message for such a file.
inline constexpr std::string_view kEmptyConfigError =
    "the file is empty (cut off?); without -c boxmaild uses the embedded default";

/// Reads and parses a file; an unreadable file, and one that is empty
/// (is_empty_config), is one error naming it (line 0).
ParseResult load_config_file(const std::string& path);

/// boxmail.ini(5) in roff, generated from the table (boxmaild --print-schema).
std::string schema_man_page();

}  // namespace boxmail::config
