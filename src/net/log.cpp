// log.cpp - see log.hpp.
#include "net/log.hpp"

#include <cstdio>
#include <string>
#include <syslog.h>

namespace boxmail::net {
namespace {
bool g_syslog = false;
std::string g_ident = "boxmaild";
LogTap g_tap = nullptr;
void* g_tap_user = nullptr;
}  // namespace

void log_open(std::string_view sink, const char* ident) {
  g_ident = ident;
  if (sink == "syslog") {
    if (!g_syslog) openlog(ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
    g_syslog = true;
  } else {
    if (g_syslog) closelog();
    g_syslog = false;
  }
}

void log_set_tap(LogTap tap, void* user) {
  g_tap = tap;
  g_tap_user = user;
}

void log(LogLevel level, std::string_view text) {
  if (g_tap) g_tap(g_tap_user, level, text);
  if (g_syslog) {
    const int prio = level == LogLevel::Info ? LOG_INFO : level == LogLevel::Warning ? LOG_WARNING : LOG_ERR;
    syslog(prio, "%.*s", static_cast<int>(text.size()), text.data());
    return;
  }
  const char* tag = level == LogLevel::Info ? "" : level == LogLevel::Warning ? "warning: " : "error: ";
  std::fprintf(stderr, "%s: %s%.*s\n", g_ident.c_str(), tag, static_cast<int>(text.size()), text.data());
  std::fflush(stderr);
}

}  // namespace boxmail::net
