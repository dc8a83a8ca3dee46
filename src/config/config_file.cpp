// config_file.cpp - load_config_file: reads the INI file and hands its text
// to the pure parse_config (schema.cpp). A file that is empty or holds only
// blanks and line ends is an error (see schema.hpp).
#include "config/schema.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace boxmail::config {
namespace {

/// A configuration is a few kilobytes; anything this large is a wrong file.
constexpr off_t kMaxConfigSize = 1 << 20;

ParseResult one_error(const std::string& path, std::string message) {
  ParseResult r;
  r.errors.push_back(ConfigError{path, 0, "", "", std::move(message)});
  return r;
}

}  // namespace

ParseResult load_config_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return one_error(path, std::string("cannot open: ") + std::strerror(errno));
  std::string text;
  std::string problem;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    problem = std::string("cannot read: ") + std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    problem = "not a regular file";
  } else if (st.st_size > kMaxConfigSize) {
    problem = "file is larger than 1 MiB";
  } else {
    char buf[8192];
    for (;;) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        problem = std::string("cannot read: ") + std::strerror(errno);
        break;
      }
      if (n == 0) break;
      text.append(buf, static_cast<std::size_t>(n));
      if (text.size() > static_cast<std::size_t>(kMaxConfigSize)) {
        problem = "file is larger than 1 MiB";
        break;
      }
    }
  }
  ::close(fd);
  if (!problem.empty()) return one_error(path, problem);
  // An empty file is a damaged one (`: > boxmail.ini`, a full disk), never
  // "all defaults": those would move the store to ./var. No -c means the
  // embedded default.
  if (is_empty_config(text)) return one_error(path, std::string(kEmptyConfigError));
  return parse_config(text, path);
}

}  // namespace boxmail::config
