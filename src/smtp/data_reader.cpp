// data_reader.cpp - see data_reader.hpp for the rules this implements.
#include "smtp/data_reader.hpp"

#include "text/ascii.hpp"

#include <algorithm>

namespace boxmail::smtp {
namespace {
constexpr std::string_view kReceived = "received:";

}  // namespace

DataReader::DataReader(DataLimits limits) : limits_(limits) {}

bool DataReader::doomed() const {
  return summary_.too_big || summary_.line_too_long ||
         (limits_.refuse_bare_lf && summary_.bare_lf > 0) ||
         (limits_.refuse_bare_cr && summary_.bare_cr > 0);
}

void DataReader::emit(char c, std::string& out) {
  ++summary_.size;
  ++line_len_;
  if (header_match_ >= 0) {
    if (text::ascii_lower(c) == kReceived[static_cast<std::size_t>(header_match_)]) {
      if (++header_match_ == static_cast<int>(kReceived.size())) {
        ++summary_.received_headers;
        header_match_ = -1;
      }
    } else {
      header_match_ = -1;
    }
  }
  if (limits_.max_line != 0 && line_len_ > limits_.max_line) summary_.line_too_long = true;
  if (limits_.max_size != 0 && summary_.size > limits_.max_size) summary_.too_big = true;
  if (!doomed()) {
    out += c;
    ++summary_.stored;
  }
}

void DataReader::emit_bare_cr(std::string& out) {
  ++summary_.bare_cr;
  emit('\r', out);
}

void DataReader::emit_line_end(bool bare, std::string& out) {
  if (bare) ++summary_.bare_lf;
  summary_.size += 2;
  summary_.longest_line = std::max(summary_.longest_line, line_len_);
  if (in_header_ && line_len_ == 0) in_header_ = false;
  if (limits_.max_size != 0 && summary_.size > limits_.max_size) summary_.too_big = true;
  if (!doomed()) {
    out += '\n';
    ++summary_.stored;
    ++summary_.lines;
  }
  start_line();
}

void DataReader::start_line() {
  line_len_ = 0;
  header_match_ = in_header_ ? 0 : -1;
}

std::size_t DataReader::feed(std::string_view in, std::string& out) {
  std::size_t i = 0;
  const std::size_t n = in.size();
  while (i < n && state_ != State::Done) {
    // Fast path: the bulk of a line, when no header matching is under way.
    if (state_ == State::Mid && header_match_ < 0) {
      std::size_t j = i;
      while (j < n && in[j] != '\r' && in[j] != '\n') ++j;
      if (j > i) {
        // Exactly what emit() would do octet by octet: append up to the
        // first octet that passes a limit, nothing after it.
        const std::uint64_t run = j - i;
        std::uint64_t keep = doomed() ? 0 : run;
        if (limits_.max_line != 0) keep = std::min(keep, limits_.max_line - std::min<std::uint64_t>(line_len_, limits_.max_line));
        if (limits_.max_size != 0) keep = std::min(keep, limits_.max_size - std::min(summary_.size, limits_.max_size));
        out.append(in.data() + i, keep);
        summary_.stored += keep;
        summary_.size += run;
        line_len_ += run;
        if (limits_.max_line != 0 && line_len_ > limits_.max_line) summary_.line_too_long = true;
        if (limits_.max_size != 0 && summary_.size > limits_.max_size) summary_.too_big = true;
        i = j;
        continue;
      }
    }
    const char c = in[i++];
    switch (state_) {
      case State::LineStart:
      case State::SoftStart:
        if (c == '.') {
          state_ = state_ == State::LineStart ? State::Dot : State::SoftDot;
        } else if (c == '\r') {
          state_ = State::Cr;
        } else if (c == '\n') {
          emit_line_end(true, out);
          state_ = State::SoftStart;
        } else {
          emit(c, out);
          state_ = State::Mid;
        }
        break;
      case State::Mid:
        if (c == '\r') {
          state_ = State::Cr;
        } else if (c == '\n') {
          emit_line_end(true, out);
          state_ = State::SoftStart;
        } else {
          emit(c, out);
        }
        break;
      case State::Cr:
        if (c == '\n') {
          emit_line_end(false, out);
          state_ = State::LineStart;
        } else if (c == '\r') {
          emit_bare_cr(out);  // the previous CR was bare; this one is pending
        } else {
          emit_bare_cr(out);
          emit(c, out);
          state_ = State::Mid;
        }
        break;
      case State::Dot:
      case State::SoftDot:
        if (c == '\r') {
          state_ = state_ == State::Dot ? State::DotCr : State::SoftDotCr;
        } else if (c == '\n') {
          // ".\n": a lone dot ended by a bare LF is data, never the end.
          emit('.', out);
          emit_line_end(true, out);
          state_ = State::SoftStart;
        } else {
          // Other characters follow: the leading dot was stuffing.
          emit(c, out);
          state_ = State::Mid;
        }
        break;
      case State::DotCr:
      case State::SoftDotCr:
        if (c == '\n') {
          if (state_ == State::DotCr) {
            state_ = State::Done;  // CRLF "." CRLF
          } else {
            // "\n.\r\n": the line began after a bare LF, so it is data.
            emit('.', out);
            emit_line_end(false, out);
            state_ = State::LineStart;
          }
        } else if (c == '\r') {
          emit_bare_cr(out);  // ".\r\r": dot was stuffing, first CR is bare
          state_ = State::Cr;
        } else {
          emit_bare_cr(out);
          emit(c, out);
          state_ = State::Mid;
        }
        break;
      case State::Done:
        break;
    }
  }
  return i;
}

}  // namespace boxmail::smtp
