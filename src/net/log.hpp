// log.hpp - one line per event, to stderr or syslog (facility mail).
//
// Lines carry the queue id first when they concern a message. On stderr a
// line is "boxmaild: [LEVEL: ]TEXT"; on syslog the level maps to LOG_INFO,
// LOG_WARNING, LOG_ERR. Not thread-safe: call from the Asio thread.
#pragma once

#include <string_view>

namespace boxmail::net {

enum class LogLevel { Info, Warning, Error };

/// Chooses the sink: "stderr" or "syslog" (opened with ident `ident`).
void log_open(std::string_view sink, const char* ident);

void log(LogLevel level, std::string_view text);
inline void log_info(std::string_view text) { log(LogLevel::Info, text); }
inline void log_warning(std::string_view text) { log(LogLevel::Warning, text); }
inline void log_error(std::string_view text) { log(LogLevel::Error, text); }

/// A tap sees every line logged (after the sink), e.g. the control socket's
/// ring buffer of recent lines and its message counters. One tap; nullptr
/// removes it.
using LogTap = void (*)(void* user, LogLevel level, std::string_view text);
void log_set_tap(LogTap tap, void* user);

}  // namespace boxmail::net
