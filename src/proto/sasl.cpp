// sasl.cpp - see sasl.hpp.
#include "proto/sasl.hpp"

#include "text/ascii.hpp"

namespace boxmail::proto::sasl {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUsernamePrompt = "VXNlcm5hbWU6";   // base64("Username:")
constexpr std::string_view kPasswordPrompt = "UGFzc3dvcmQ6";   // base64("Password:")

/// The 6-bit value of a base64 symbol, -1 for any other octet.
int symbol_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

Step challenge(std::string_view text) {
  Step s;
  s.kind = Step::Kind::Challenge;
  s.challenge = std::string(text);
  return s;
}

}  // namespace

std::string_view failure_text(Failure f) {
  switch (f) {
    case Failure::None: return "no failure";
    case Failure::Cancelled: return "cancelled by the client";
    case Failure::TooLong: return "response too long";
    case Failure::BadBase64: return "malformed base64";
    case Failure::Malformed: return "malformed SASL response";
    case Failure::FieldTooLong: return "identity or password too long";
    case Failure::OtherIdentity: return "asked for another identity";
    case Failure::Sequence: return "response after the end of the exchange";
  }
  return "unknown failure";
}

Decoded decode_base64(std::string_view in, std::size_t max_encoded) {
  Decoded out;
  if (in.size() > max_encoded) {
    out.failure = Failure::TooLong;
    return out;
  }
  if (in.size() % 4 != 0) {
    out.failure = Failure::BadBase64;
    return out;
  }
  out.data.reserve(in.size() / 4 * 3);
  for (std::size_t i = 0; i < in.size(); i += 4) {
    const bool last = i + 4 == in.size();
    int v[4] = {0, 0, 0, 0};
    int pad = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = in[i + k];
      if (c == '=') {
        // Padding only in the last group's third and fourth places.
        if (!last || k < 2) {
          out = Decoded{{}, Failure::BadBase64};
          return out;
        }
        ++pad;
        continue;
      }
      v[k] = pad > 0 ? -1 : symbol_value(c);   // a symbol after "=" is malformed
      if (v[k] < 0) {
        out = Decoded{{}, Failure::BadBase64};
        return out;
      }
    }
    const unsigned triple = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                            (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    // Canonical form (RFC 4648 3.5): the bits under the padding are zero.
    if ((pad == 1 && (triple & 0xff) != 0) || (pad == 2 && (triple & 0xffff) != 0)) {
      out = Decoded{{}, Failure::BadBase64};
      return out;
    }
    out.data += static_cast<char>((triple >> 16) & 0xff);
    if (pad < 2) out.data += static_cast<char>((triple >> 8) & 0xff);
    if (pad < 1) out.data += static_cast<char>(triple & 0xff);
  }
  return out;
}

std::string encode_base64(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const unsigned t = (static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16) |
                       (static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    out += kAlphabet[(t >> 18) & 63];
    out += kAlphabet[(t >> 12) & 63];
    out += kAlphabet[(t >> 6) & 63];
    out += kAlphabet[t & 63];
  }
  if (i < in.size()) {
    unsigned t = static_cast<unsigned>(static_cast<unsigned char>(in[i])) << 16;
    if (i + 1 < in.size()) t |= static_cast<unsigned>(static_cast<unsigned char>(in[i + 1])) << 8;
    out += kAlphabet[(t >> 18) & 63];
    out += kAlphabet[(t >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(t >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

PlainResult parse_plain(std::string_view message) {
  PlainResult r;
  const auto a = message.find('\0');
  const auto b = a == std::string_view::npos ? a : message.find('\0', a + 1);
  if (b == std::string_view::npos || message.find('\0', b + 1) != std::string_view::npos) {
    r.failure = Failure::Malformed;
    return r;
  }
  const std::string_view authzid = message.substr(0, a);
  const std::string_view authcid = message.substr(a + 1, b - a - 1);
  const std::string_view passwd = message.substr(b + 1);
  if (authcid.empty() || passwd.empty()) {
    r.failure = Failure::Malformed;
    return r;
  }
  if (authzid.size() > kMaxIdentityLength || authcid.size() > kMaxIdentityLength ||
      passwd.size() > kMaxPasswordLength) {
    r.failure = Failure::FieldTooLong;
    return r;
  }
  if (!authzid.empty() && authzid != authcid) {
    r.failure = Failure::OtherIdentity;
    return r;
  }
  r.credentials = Credentials{std::string(authcid), std::string(passwd)};
  return r;
}

std::optional<Mechanism> parse_mechanism(std::string_view name) {
  if (text::iequals(name, "PLAIN")) return Mechanism::Plain;
  if (text::iequals(name, "LOGIN")) return Mechanism::Login;
  return std::nullopt;
}

std::string_view mechanism_name(Mechanism m) { return m == Mechanism::Plain ? "PLAIN" : "LOGIN"; }

Step Exchange::fail(Failure f) {
  state_ = State::Finished;
  user_.clear();
  Step s;
  s.kind = Step::Kind::Failed;
  s.failure = f;
  return s;
}

Step Exchange::plain(std::string_view base64) {
  const Decoded d = decode_base64(base64);
  if (d.failure != Failure::None) return fail(d.failure);
  PlainResult p = parse_plain(d.data);
  if (p.failure != Failure::None) return fail(p.failure);
  state_ = State::Finished;
  Step s;
  s.kind = Step::Kind::Done;
  s.credentials = std::move(p.credentials);
  return s;
}

Step Exchange::start(std::optional<std::string_view> initial_response) {
  if (state_ != State::Start) return fail(Failure::Sequence);
  if (initial_response && *initial_response == "*") return fail(Failure::Cancelled);
  // RFC 4954 4: "=" is an initial response of zero length.
  const std::optional<std::string_view> initial =
      initial_response && *initial_response == "=" ? std::optional<std::string_view>("") : initial_response;
  if (mechanism_ == Mechanism::Plain) {
    if (initial) return plain(*initial);
    state_ = State::PlainResponse;
    return challenge("");
  }
  state_ = State::LoginUser;
  if (initial) return respond(*initial);
  return challenge(kUsernamePrompt);
}

Step Exchange::respond(std::string_view line) {
  if (state_ == State::Start || state_ == State::Finished) return fail(Failure::Sequence);
  if (line == "*") return fail(Failure::Cancelled);
  if (state_ == State::PlainResponse) return plain(line);
  const Decoded d = decode_base64(line);
  if (d.failure != Failure::None) return fail(d.failure);
  if (d.data.empty() || has_nul(d.data)) return fail(Failure::Malformed);
  if (state_ == State::LoginUser) {
    if (d.data.size() > kMaxIdentityLength) return fail(Failure::FieldTooLong);
    user_ = d.data;
    state_ = State::LoginPassword;
    return challenge(kPasswordPrompt);
  }
  if (d.data.size() > kMaxPasswordLength) return fail(Failure::FieldTooLong);
  state_ = State::Finished;
  Step s;
  s.kind = Step::Kind::Done;
  s.credentials = Credentials{std::move(user_), d.data};
  user_.clear();
  return s;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the longer one whole, the shorter padded with zero octets: the
  // branches depend on the lengths alone, never on the contents.
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

}  // namespace boxmail::proto::sasl
