// control_replies.cpp - see control_replies.hpp.
#include "control/control_replies.hpp"

#include "net/ip_network.hpp"
#include "store/maildir_name.hpp"
#include "text/ascii.hpp"
#include "text/number.hpp"

#include <utility>

namespace boxmail::control {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool needs_escape(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u <= 0x20 || u == 0x7f || c == '%' || c == '=';
}

/// CR and LF as blanks: a free-text value stays on its line.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c == '\r' || c == '\n') c = ' ';
  return out;
}

/// One body line split into its kind, positional words and key=value tokens.
struct Line {
  std::vector<std::string_view> words;                              ///< kind first
  std::vector<std::pair<std::string_view, std::string_view>> keys;   ///< in order
};

/// Splits `line` at single blanks; key=value tokens come after the words.
/// "" when well-formed, else why not.
std::string split(std::string_view line, Line& out) {
  std::size_t pos = 0;
  for (;;) {
    const auto sp = line.find(' ', pos);
    const std::string_view tok = line.substr(pos, sp == std::string_view::npos ? sp : sp - pos);
    if (tok.empty()) return "empty token";
    if (const auto eq = tok.find('='); eq != std::string_view::npos) {
      if (eq == 0) return "token '" + std::string(tok) + "' has no key";
      for (const auto& kv : out.keys)
        if (kv.first == tok.substr(0, eq)) return "key " + std::string(kv.first) + " repeated";
      out.keys.emplace_back(tok.substr(0, eq), tok.substr(eq + 1));
    } else {
      if (!out.keys.empty()) return "word '" + std::string(tok) + "' after the keys";
      out.words.push_back(tok);
    }
    if (sp == std::string_view::npos) return {};
    pos = sp + 1;
  }
}

/// Reads one body line's fields; the first error sticks (and names the line).
class Reader {
 public:
  Reader(std::string_view what, std::size_t index, std::string_view line) : what_(what), index_(index) {
    if (auto e = split(line, line_); !e.empty()) fail(e);
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::string_view kind() const { return line_.words.empty() ? std::string_view() : line_.words.front(); }

  /// The positional word `i` (1: the one after the kind), decoded.
  std::string word(std::size_t i) {
    if (!ok()) return {};
    if (i >= line_.words.size()) {
      fail("word " + std::to_string(i) + " missing");
      return {};
    }
    auto w = decode_word(line_.words[i]);
    if (!w) fail("bad %-escape in '" + std::string(line_.words[i]) + "'");
    return w ? std::move(*w) : std::string();
  }

  /// Positional word `i` as written ("" when missing; then word() fails).
  std::string_view raw_word(std::size_t i) const { return i < line_.words.size() ? line_.words[i] : std::string_view(); }

  /// Positional word `i` as a number.
  std::uint64_t word_number(std::size_t i) {
    if (!ok()) return 0;
    if (i >= line_.words.size()) {
      fail("word " + std::to_string(i) + " missing");
      return 0;
    }
    return number(line_.words[i], "word " + std::to_string(i) + " '" + std::string(line_.words[i]) + "'");
  }

  /// The raw value of `key`; nullopt (and an error) when missing.
  std::optional<std::string_view> raw(std::string_view key) {
    if (!ok()) return std::nullopt;
    for (const auto& kv : line_.keys)
      if (kv.first == key) return kv.second;
    fail(std::string(key) + "= missing");
    return std::nullopt;
  }

  bool has_keys() const { return !line_.keys.empty(); }

  bool has(std::string_view key) const {
    for (const auto& kv : line_.keys)
      if (kv.first == key) return true;
    return false;
  }

  /// The number of `key` (checked, text::parse_unsigned).
  std::uint64_t key_number(std::string_view key) {
    const auto v = raw(key);
    return v ? number(*v, std::string(key) + "=" + std::string(*v)) : 0;
  }

  void fail(const std::string& e) {
    if (error_.empty()) error_ = std::string(what_) + ": line " + std::to_string(index_ + 1) + ": " + e;
  }

 private:
  /// `s` as a number; `shown` names it in the error ("sessions=2x").
  std::uint64_t number(std::string_view s, const std::string& shown) {
    const auto n = text::parse_unsigned<std::uint64_t>(s);
    if (!n) fail(shown + " " + std::string(text::describe(n.error)));
    return n.value;
  }

  std::string_view what_;
  std::size_t index_;
  Line line_;
  std::string error_;
};

/// The error of a reply that is not the answer (`what`: the verb).
std::string refused(std::string_view what, const Reply& r) {
  return std::string(what) + ": boxmaild answered error" + (r.head.empty() ? std::string() : ": " + r.head);
}

template <class T>
Decoded<T> failed(std::string e) {
  return Decoded<T>{std::nullopt, std::move(e)};
}

}  // namespace

// ---- words ----------------------------------------------------------------------------

std::string encode_word(std::string_view s) {
  if (s.empty()) return "-";
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool reserved_word = i == 0 && (s == "-" || s == "off");
    if (needs_escape(c) || reserved_word) {
      const auto u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<std::string> decode_word(std::string_view token) {
  if (token == "-") return std::string();
  std::string out;
  out.reserve(token.size());
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] != '%') {
      out += token[i];
      continue;
    }
    if (i + 2 >= token.size()) return std::nullopt;
    const int hi = text::hex_digit_value(token[i + 1]);
    const int lo = text::hex_digit_value(token[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// ---- status ---------------------------------------------------------------------------

Reply encode(const StatusReply& s) {
  Reply r;
  r.lines.push_back("uptime " + std::to_string(s.uptime));
  r.lines.push_back("config " + one_line(s.config));
  for (const ServiceStatus& v : s.services) {
    r.lines.push_back("service " + encode_word(v.name) + " " + (v.on ? encode_word(v.listen) : "off") +
                      " sessions=" + std::to_string(v.sessions));
  }
  for (const MailboxStatus& m : s.mailboxes) {
    r.lines.push_back("mailbox " + encode_word(m.name) +
                      (m.usage ? " messages=" + std::to_string(m.usage->messages) +
                                     " bytes=" + std::to_string(m.usage->octets)
                               : std::string(" messages=- bytes=-")) +
                      " quota=" + std::to_string(m.quota));
  }
  if (s.store) {
    std::string line = "store " + encode_word(s.store->dir) + " used=" + std::to_string(s.store->used);
    if (s.store->fs)
      line += " free=" + std::to_string(s.store->fs->free) + " total=" + std::to_string(s.store->fs->total);
    line += " reserve=" + std::to_string(s.store->reserve);
    r.lines.push_back(std::move(line));
  }
  for (const std::string& n : s.restart_needed) r.lines.push_back("restart-needed " + one_line(n));
  if (s.relay) {
    std::string route;
    for (const std::string& m : s.relay->route) route += (route.empty() ? "" : ",") + encode_word(m);
    r.lines.push_back("relay " + (route.empty() ? std::string("none") : route) +
                      " queued=" + std::to_string(s.relay->queued));
    if (s.relay->login_user) r.lines.push_back("smarthost-login " + encode_word(*s.relay->login_user));
  }
  return r;
}

namespace {

/// Items of a comma-separated list of words, each decoded; nullopt for a
/// malformed '%' escape or an empty item.
std::optional<std::vector<std::string>> decode_word_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  for (;;) {
    const auto comma = text.find(',', pos);
    const std::string_view item = text.substr(pos, comma == std::string_view::npos ? comma : comma - pos);
    if (item.empty()) return std::nullopt;
    auto w = decode_word(item);
    if (!w) return std::nullopt;
    out.push_back(std::move(*w));
    if (comma == std::string_view::npos) return out;
    pos = comma + 1;
  }
}

}  // namespace

Decoded<StatusReply> decode_status(const Reply& r) {
  if (!r.ok) return failed<StatusReply>(refused("status", r));
  StatusReply s;
  bool uptime = false, config = false;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    const std::string& l = r.lines[i];
    if (l.starts_with("config ") || l == "config") {
      if (config) return failed<StatusReply>("status: line " + std::to_string(i + 1) + ": config repeated");
      config = true;
      s.config = l.size() > 7 ? l.substr(7) : std::string();
      continue;
    }
    if (l.starts_with("restart-needed ")) {
      s.restart_needed.push_back(l.substr(15));
      continue;
    }
    Reader rd("status", i, l);
    const std::string_view kind = rd.kind();
    if (kind == "uptime") {
      if (uptime) rd.fail("uptime repeated");
      uptime = true;
      s.uptime = rd.word_number(1);
    } else if (kind == "service") {
      ServiceStatus v;
      v.name = rd.word(1);
      // "off" as written; a listen text "off" would have come as "%6Fff".
      v.on = rd.raw_word(2) != "off";
      v.listen = v.on ? rd.word(2) : std::string();
      v.sessions = rd.key_number("sessions");
      s.services.push_back(std::move(v));
    } else if (kind == "mailbox") {
      MailboxStatus m;
      m.name = rd.word(1);
      const auto messages = rd.raw("messages");
      const auto bytes = rd.raw("bytes");
      if (messages && bytes && *messages == "-" && *bytes == "-") {
        m.usage.reset();
      } else if (messages && bytes) {
        m.usage = MailboxUsage{rd.key_number("messages"), rd.key_number("bytes")};
      }
      m.quota = rd.key_number("quota");
      s.mailboxes.push_back(std::move(m));
    } else if (kind == "store") {
      if (s.store) rd.fail("store repeated");
      StoreStatus st;
      st.dir = rd.word(1);
      st.used = rd.key_number("used");
      if (rd.has("free") || rd.has("total")) st.fs = FileSystemSize{rd.key_number("free"), rd.key_number("total")};
      st.reserve = rd.key_number("reserve");
      s.store = std::move(st);
    } else if (kind == "relay") {
      if (s.relay) rd.fail("relay repeated");
      RelayStatus rs;
      const std::string_view route = rd.raw_word(1);
      if (route != "none") {
        auto methods = decode_word_list(route);
        if (!methods) rd.fail("bad route '" + std::string(route) + "'");
        if (methods) rs.route = std::move(*methods);
      }
      rs.queued = rd.key_number("queued");
      s.relay = std::move(rs);
    } else if (kind == "smarthost-login") {
      if (!s.relay) rd.fail("smarthost-login before the relay line");
      if (s.relay && s.relay->login_user) rd.fail("smarthost-login repeated");
      const std::string user = rd.word(1);
      if (rd.ok()) s.relay->login_user = user;
    } else if (rd.ok() && kind.empty()) {
      rd.fail("empty line");
    }
    if (!rd.ok()) return failed<StatusReply>(rd.error());
  }
  if (!uptime) return failed<StatusReply>("status: no uptime line");
  if (!config) return failed<StatusReply>("status: no config line");
  return Decoded<StatusReply>{std::move(s), {}};
}

// ---- stats ----------------------------------------------------------------------------

Reply encode(const StatsReply& s) {
  Reply r;
  r.lines.push_back("today accepted=" + std::to_string(s.accepted_today) +
                    " refused=" + std::to_string(s.refused_today));
  r.lines.push_back("blocked dnsbl=" + std::to_string(s.blocked_dnsbl_today) +
                    " reverse_dns=" + std::to_string(s.blocked_reverse_dns_today) +
                    " bans=" + std::to_string(s.bans_today) +
                    (s.firewall_drops ? " firewall_drops=" + std::to_string(*s.firewall_drops) : std::string()));
  for (const HourCount& h : s.hours) {
    r.lines.push_back("hour " + std::to_string(h.start) + " accepted=" + std::to_string(h.accepted) +
                      " refused=" + std::to_string(h.refused));
  }
  return r;
}

Decoded<StatsReply> decode_stats(const Reply& r) {
  if (!r.ok) return failed<StatsReply>(refused("stats", r));
  StatsReply s;
  bool today = false;
  bool blocked = false;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    Reader rd("stats", i, r.lines[i]);
    const std::string_view kind = rd.kind();
    if (kind == "today") {
      if (today) rd.fail("today repeated");
      today = true;
      s.accepted_today = rd.key_number("accepted");
      s.refused_today = rd.key_number("refused");
    } else if (kind == "blocked") {
      if (blocked) rd.fail("blocked repeated");
      blocked = true;
      s.blocked_dnsbl_today = rd.key_number("dnsbl");
      s.blocked_reverse_dns_today = rd.key_number("reverse_dns");
      if (rd.has("bans")) s.bans_today = rd.key_number("bans");
      if (rd.has("firewall_drops")) s.firewall_drops = rd.key_number("firewall_drops");
    } else if (kind == "hour") {
      HourCount h;
      h.start = rd.word_number(1);
      h.accepted = rd.key_number("accepted");
      h.refused = rd.key_number("refused");
      s.hours.push_back(h);
    } else if (rd.ok() && kind.empty()) {
      rd.fail("empty line");
    }
    if (!rd.ok()) return failed<StatsReply>(rd.error());
  }
  if (!today) return failed<StatsReply>("stats: no today line");
  return Decoded<StatsReply>{std::move(s), {}};
}

// ---- bans -----------------------------------------------------------------------------

Reply encode(const BansReply& s) {
  Reply r{true, std::to_string(s.bans.size()) + " banned", {}};
  for (const BanEntry& b : s.bans)
    r.lines.push_back(encode_word(b.address) + " " + std::to_string(b.seconds_left) + " " + encode_word(b.reason));
  return r;
}

Decoded<BansReply> decode_bans(const Reply& r) {
  if (!r.ok) return failed<BansReply>(r.head.empty() ? std::string("bans: boxmaild answered error") : r.head);
  BansReply out;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    Reader rd("bans", i, r.lines[i]);
    BanEntry b;
    b.address = rd.word(0);
    b.seconds_left = rd.word_number(1);
    b.reason = rd.word(2);
    if (rd.ok() && !rd.raw_word(3).empty()) rd.fail("more than three words");
    if (rd.ok() && rd.has_keys()) rd.fail("unexpected key");
    if (rd.ok() && !net::parse_address(b.address)) rd.fail("'" + b.address + "' is not an address");
    if (rd.ok() && b.reason.empty()) rd.fail("no reason");
    if (!rd.ok()) return failed<BansReply>(rd.error());
    out.bans.push_back(std::move(b));
  }
  return Decoded<BansReply>{std::move(out), {}};
}

// ---- log ------------------------------------------------------------------------------

Reply encode(const LogReply& s) {
  Reply r;
  r.lines = s.lines;
  return r;
}

Decoded<LogReply> decode_log(const Reply& r) {
  if (!r.ok) return failed<LogReply>(refused("log", r));
  return Decoded<LogReply>{LogReply{r.lines}, {}};
}

// ---- reload ---------------------------------------------------------------------------

Reply encode(const ReloadReply& s) {
  Reply r;
  r.ok = s.taken;
  r.head = one_line(s.message);
  if (!s.taken) r.lines = s.errors;
  if (s.taken) {
    for (const std::string& n : s.restart_needed) r.lines.push_back("restart-needed " + one_line(n));
  }
  return r;
}

ReloadReply decode_reload(const Reply& r) {
  ReloadReply s;
  s.taken = r.ok;
  s.message = r.head;
  if (!r.ok) s.errors = r.lines;
  if (r.ok) {
    for (const std::string& l : r.lines) {
      if (l.starts_with("restart-needed ")) s.restart_needed.push_back(l.substr(15));
    }
  }
  return s;
}

// ---- tls ------------------------------------------------------------------------------

namespace {

/// A time on the wire: Unix seconds, 0 for one before 1970.
std::uint64_t wire_time(std::int64_t t) { return t < 0 ? 0 : static_cast<std::uint64_t>(t); }

/// The body lines of a TlsReply (also after "ok" of a change).
std::vector<std::string> tls_lines(const TlsReply& s) {
  std::vector<std::string> out;
  out.push_back("files " + encode_word(s.chain_file) + " " + encode_word(s.key_file));
  if (s.certificate) {
    const tls::CertificateInfo& c = *s.certificate;
    out.push_back("certificate chain=" + std::to_string(s.chain_length) + " self-signed=" + (c.self_signed ? "1" : "0") +
                  " not-before=" + std::to_string(wire_time(c.not_before_time)) +
                  " not-after=" + std::to_string(wire_time(c.not_after_time)));
    out.push_back("subject " + one_line(c.subject));
    out.push_back("issuer " + one_line(c.issuer));
    for (const std::string& n : c.dns_names) out.push_back("dns-name " + encode_word(n));
    out.push_back("sha256 " + encode_word(c.sha256_fingerprint));
  }
  if (!s.refused.empty()) out.push_back("refused " + one_line(s.refused));
  return out;
}

/// The rest of a "KIND TEXT" line when `line` is one ("KIND" alone: "").
std::optional<std::string> rest_of(std::string_view line, std::string_view kind) {
  if (line == kind) return std::string();
  if (line.size() > kind.size() && line.starts_with(kind) && line[kind.size()] == ' ') {
    return std::string(line.substr(kind.size() + 1));
  }
  return std::nullopt;
}

/// Reads tls lines (the `tls` reply, or a change's after "ok"); `what`
/// names the verb in errors.
Decoded<TlsReply> read_tls(std::string_view what, const std::vector<std::string>& lines) {
  TlsReply s;
  tls::CertificateInfo c;
  bool files = false, sha = false;
  // The free-text lines (the rest of the line is the value), at most once each.
  struct Text {
    std::string_view kind;
    std::string value;
    bool seen = false;
  } texts[] = {{"subject", {}, false}, {"issuer", {}, false}, {"refused", {}, false}};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    Text* text = nullptr;
    for (Text& t : texts) {
      if (auto rest = rest_of(l, t.kind)) {
        if (t.seen) return failed<TlsReply>(std::string(what) + ": line " + std::to_string(i + 1) + ": " +
                                            std::string(t.kind) + " repeated");
        t.seen = true;
        t.value = std::move(*rest);
        text = &t;
        break;
      }
    }
    if (text != nullptr) continue;
    Reader rd(what, i, l);
    const std::string_view kind = rd.kind();
    if (kind == "files") {
      if (files) rd.fail("files repeated");
      files = true;
      s.chain_file = rd.word(1);
      s.key_file = rd.word(2);
    } else if (kind == "certificate") {
      if (s.chain_length != 0) rd.fail("certificate repeated");
      s.chain_length = rd.key_number("chain");
      if (rd.ok() && s.chain_length == 0) rd.fail("chain=0");
      const std::uint64_t self = rd.key_number("self-signed");
      if (rd.ok() && self > 1) rd.fail("self-signed=" + std::to_string(self) + " is not 0 or 1");
      c.self_signed = self == 1;
      const std::uint64_t from = rd.key_number("not-before");
      const std::uint64_t until = rd.key_number("not-after");
      // Beyond the year 9999 (253402300799) no X.509 time goes.
      if (rd.ok() && (from > 253402300799u || until > 253402300799u)) rd.fail("time after the year 9999");
      c.not_before_time = static_cast<std::int64_t>(from);
      c.not_after_time = static_cast<std::int64_t>(until);
    } else if (kind == "dns-name") {
      c.dns_names.push_back(rd.word(1));
    } else if (kind == "sha256") {
      if (sha) rd.fail("sha256 repeated");
      sha = true;
      c.sha256_fingerprint = rd.word(1);
    } else if (rd.ok() && kind.empty()) {
      rd.fail("empty line");
    }
    if (!rd.ok()) return failed<TlsReply>(rd.error());
  }
  const Text& subject = texts[0];
  const Text& issuer = texts[1];
  const Text& refused = texts[2];
  if (!files) return failed<TlsReply>(std::string(what) + ": no files line");
  if (refused.seen && refused.value.empty()) return failed<TlsReply>(std::string(what) + ": refused without a reason");
  s.refused = refused.value;
  if (s.chain_length == 0) {
    if (subject.seen || issuer.seen || sha || !c.dns_names.empty()) {
      return failed<TlsReply>(std::string(what) + ": certificate details without a certificate line");
    }
    return Decoded<TlsReply>{std::move(s), {}};
  }
  if (!(subject.seen && issuer.seen && sha)) {
    return failed<TlsReply>(std::string(what) + ": a certificate needs its subject, issuer and sha256 lines");
  }
  c.subject = subject.value;
  c.issuer = issuer.value;
  c.not_before = tls::format_utc(c.not_before_time);
  c.not_after = tls::format_utc(c.not_after_time);
  s.certificate = std::move(c);
  return Decoded<TlsReply>{std::move(s), {}};
}

}  // namespace

Reply encode(const TlsReply& s) {
  Reply r;
  r.lines = tls_lines(s);
  return r;
}

Decoded<TlsReply> decode_tls(const Reply& r) {
  if (!r.ok) return failed<TlsReply>(refused("tls", r));
  return read_tls("tls", r.lines);
}

Reply encode(const TlsChangeReply& s) {
  Reply r;
  r.ok = s.done;
  r.head = one_line(s.message);
  if (s.done) {
    r.lines = tls_lines(s.tls);
  } else if (!s.part.empty() || !s.problem.empty()) {
    r.lines.push_back("problem " + encode_word(s.part) + " " + encode_word(s.problem));
  }
  return r;
}

Decoded<TlsChangeReply> decode_tls_change(const Reply& r) {
  TlsChangeReply s;
  s.done = r.ok;
  s.message = r.head;
  if (r.ok) {
    auto t = read_tls("tls change", r.lines);
    if (!t) return failed<TlsChangeReply>(t.error);
    s.tls = std::move(*t.value);
    return Decoded<TlsChangeReply>{std::move(s), {}};
  }
  bool problem = false;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    if (!r.lines[i].starts_with("problem ")) continue;   // other lines of a refusal: for a newer daemon
    Reader rd("tls change", i, r.lines[i]);
    if (problem) rd.fail("problem repeated");
    problem = true;
    s.part = rd.word(1);
    s.problem = rd.word(2);
    if (rd.ok() && s.part != "chain" && s.part != "key" && !s.part.empty()) {
      rd.fail("part '" + s.part + "' is not chain, key or -");
    }
    if (!rd.ok()) return failed<TlsChangeReply>(rd.error());
  }
  return Decoded<TlsChangeReply>{std::move(s), {}};
}

// ---- smarthost-login ------------------------------------------------------------------

Reply encode(const LoginChangeReply& s) {
  Reply r;
  r.ok = s.done;
  r.head = one_line(s.message);
  if (s.user) r.lines.push_back("user " + encode_word(*s.user));
  return r;
}

Decoded<LoginChangeReply> decode_login_change(const Reply& r) {
  LoginChangeReply s;
  s.done = r.ok;
  s.message = r.head;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    Reader rd("smarthost-login", i, r.lines[i]);
    if (rd.kind() == "user") {
      if (s.user) rd.fail("user repeated");
      const std::string user = rd.word(1);
      if (rd.ok()) s.user = user;
    } else if (rd.ok() && rd.kind().empty()) {
      rd.fail("empty line");
    }
    if (!rd.ok()) return failed<LoginChangeReply>(rd.error());
  }
  return Decoded<LoginChangeReply>{std::move(s), {}};
}

// ---- relay-test ---------------------------------------------------------------------

Reply encode(const RelayTestReply& s) {
  Reply r;
  r.ok = s.result == RelayTestReply::Result::Sent;
  r.head = one_line(s.message);
  r.lines.push_back(std::string("result ") + (s.result == RelayTestReply::Result::Sent     ? "sent"
                                              : s.result == RelayTestReply::Result::Failed ? "failed"
                                                                                           : "refused"));
  if (!s.relay.empty()) r.lines.push_back("relay " + encode_word(s.relay));
  for (const std::string& l : s.transcript) r.lines.push_back("line " + one_line(l));
  return r;
}

Decoded<RelayTestReply> decode_relay_test(const Reply& r) {
  RelayTestReply s;
  s.result = r.ok ? RelayTestReply::Result::Sent : RelayTestReply::Result::Refused;
  s.message = r.head;
  bool have_result = false;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    if (auto text = rest_of(r.lines[i], "line")) {
      s.transcript.push_back(std::move(*text));
      continue;
    }
    Reader rd("relay-test", i, r.lines[i]);
    if (rd.kind() == "result") {
      const std::string w = rd.word(1);
      if (have_result) rd.fail("result repeated");
      have_result = true;
      if (w == "sent" && r.ok) {
        s.result = RelayTestReply::Result::Sent;
      } else if (w == "failed" && !r.ok) {
        s.result = RelayTestReply::Result::Failed;
      } else if (w == "refused" && !r.ok) {
        s.result = RelayTestReply::Result::Refused;
      } else if (rd.ok()) {
        rd.fail("result '" + w + "' with an " + (r.ok ? "ok" : "error") + " head");
      }
    } else if (rd.kind() == "relay") {
      if (!s.relay.empty()) rd.fail("relay repeated");
      s.relay = rd.word(1);
    } else if (rd.ok() && rd.kind().empty()) {
      rd.fail("empty line");
    }
    if (!rd.ok()) return failed<RelayTestReply>(rd.error());
  }
  if (r.ok && !have_result) return failed<RelayTestReply>("relay-test: no result line");
  return Decoded<RelayTestReply>{std::move(s), {}};
}

// ---- queue list ---------------------------------------------------------------------

Decoded<QueueListReply> decode_queue_list(const Reply& r) {
  if (!r.ok) return failed<QueueListReply>(refused("queue list", r));
  QueueListReply q;
  for (std::size_t i = 0; i < r.lines.size(); ++i) {
    Reader rd("queue list", i, r.lines[i]);
    QueuedMessage m;
    m.id = rd.word(0);
    if (rd.ok() && !store::parse_queue_id(m.id)) rd.fail("'" + m.id + "' is not a queue id");
    m.age = rd.key_number("age");
    if (const auto sender = rd.raw("sender")) {
      auto w = decode_word(*sender);
      if (!w) rd.fail("bad %-escape in sender=" + std::string(*sender));
      m.sender = w.value_or(std::string());
    }
    m.next = rd.key_number("next");
    if (const auto rcpt = rd.raw("rcpt"); rcpt && *rcpt != "-") {
      auto list = decode_word_list(*rcpt);
      if (!list) rd.fail("bad rcpt=" + std::string(*rcpt));
      if (list) m.recipients = std::move(*list);
    }
    if (const auto error = rd.raw("error")) {
      auto w = decode_word(*error);
      if (!w) rd.fail("bad %-escape in error=" + std::string(*error));
      m.error = w.value_or(std::string());
    }
    if (!rd.ok()) return failed<QueueListReply>(rd.error());
    q.messages.push_back(std::move(m));
  }
  return Decoded<QueueListReply>{std::move(q), {}};
}

}  // namespace boxmail::control
