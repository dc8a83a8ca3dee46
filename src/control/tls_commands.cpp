// tls_commands.cpp - see tls_commands.hpp.
#include "control/tls_commands.hpp"

#include "net/log.hpp"
#include "tls/certificate_install.hpp"

#include <chrono>
#include <exception>

namespace boxmail::control {
namespace {

// What the upload's two texts are called in messages and the log.
const std::string kChainName = "the uploaded chain";
const std::string kKeyName = "the uploaded key";

/// "CHAIN (SUBJECT, DNS:a,b, self-signed, valid until ..., SHA-256 ...)".
std::string summary(const tls::ServerContextSlot& slot) {
  const tls::CertificateInfo info = slot.current()->certificate().describe();
  std::string names;
  for (const auto& n : info.dns_names) names += (names.empty() ? "" : ",") + n;
  return slot.chain_file() + " (" + info.subject + (names.empty() ? "" : ", DNS:" + names) +
         (info.self_signed ? ", self-signed" : "") + ", valid until " + info.not_after + ", SHA-256 " +
         info.sha256_fingerprint + ")";
}

/// Loads the slot's files and logs the outcome.
void load(tls::ServerContextSlot& slot, std::time_t now) {
  const bool had = slot.current() != nullptr;
  if (auto err = slot.reload(now)) {
    net::log_error("TLS certificate refused: " + err->text() +
                   (had ? "; the certificate in use is kept"
                        : "; STARTTLS, STLS and the TLS ports are off until a good one is loaded (SIGHUP)"));
    return;
  }
  net::log_info("TLS certificate loaded: " + summary(slot));
}

TlsChangeReply refusal(std::string message, std::string part, tls::CertProblem problem) {
  TlsChangeReply r;
  r.done = false;
  r.message = std::move(message);
  r.part = std::move(part);
  r.problem = std::string(tls::problem_word(problem));
  return r;
}

/// Steps 2 and 3 of the file comment for texts already validated into
/// `certificate`; `what` is "installed" or "regenerated".
TlsChangeReply install(tls::ServerContextSlot& slot, std::string_view chain, std::string_view key,
                       std::shared_ptr<const tls::Certificate> certificate, const std::string& what) {
  if (auto e = tls::install_pair(slot.chain_file(), slot.key_file(), chain, key)) {
    net::log_error("TLS certificate not " + what + ": " + e->text() + "; the certificate in use is kept");
    return refusal("cannot write the certificate files: " + e->text() + "; the certificate in use is kept", "",
                   e->problem);
  }
  try {
    slot.install(std::move(certificate));
  } catch (const std::exception& ex) {
    net::log_error(std::string("TLS certificate written but not taken: ") + ex.what());
    return refusal(std::string("the new files are written but could not be taken into use (") + ex.what() +
                       "); boxmaild loads them at its next start",
                   "", tls::CertProblem::Internal);
  }
  net::log_info("TLS certificate " + what + " over the control socket: " + summary(slot));
  TlsChangeReply r;
  r.done = true;
  r.message = what;
  r.tls = tls_status(slot);
  return r;
}

}  // namespace

TlsReply tls_status(const tls::ServerContextSlot& slot) {
  TlsReply r;
  r.chain_file = slot.chain_file();
  r.key_file = slot.key_file();
  if (const auto ctx = slot.current()) {
    r.certificate = ctx->certificate().describe();
    r.chain_length = ctx->certificate().chain_length();
  }
  if (slot.last_error()) r.refused = slot.last_error()->text();
  return r;
}

void start_certificate(tls::ServerContextSlot& slot, const std::string& host, std::time_t now) {
  const tls::Recovery rec = tls::finish_interrupted_install(slot.chain_file(), slot.key_file(), now);
  if (!rec.done.empty()) net::log_warning(rec.done);
  if (rec.error) net::log_error("interrupted certificate install: " + rec.error->text());
  const auto t0 = std::chrono::steady_clock::now();
  const auto made = tls::ensure_self_signed(slot.chain_file(), slot.key_file(), tls::self_signed_request(host, now));
  if (made.error) {
    net::log_error("cannot make a self-signed certificate: " + made.error->text());
  } else if (made.generated) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    net::log_info("made a self-signed certificate for " + host + " in " + slot.chain_file() + " (key " +
                  slot.key_file() + ", " + std::to_string(ms.count()) + " ms)");
  }
  load(slot, now);
  renew_self_signed(slot, host, now);
}

void reload_certificate(tls::ServerContextSlot& slot, const std::string& host, std::time_t now) {
  load(slot, now);
  renew_self_signed(slot, host, now);
}

void renew_self_signed(tls::ServerContextSlot& slot, const std::string& host, std::time_t now) {
  if (!tls::self_signed_renewal_due(slot.chain_file(), now)) return;
  if (auto err = tls::generate_self_signed(slot.chain_file(), slot.key_file(), tls::self_signed_request(host, now))) {
    net::log_error("cannot renew the self-signed certificate: " + err->text());
    return;
  }
  net::log_info("renewed the self-signed certificate for " + host + " in " + slot.chain_file() +
                " (the old one expires within " + std::to_string(tls::kRenewBeforeDays) + " days or has expired)");
  load(slot, now);
}

TlsChangeReply tls_install(tls::ServerContextSlot& slot, const TlsUpload& upload, std::time_t now) {
  tls::LoadResult checked = tls::parse_certificate(upload.chain, upload.key, now, kChainName, kKeyName);
  if (checked.error) {
    const tls::CertError& e = *checked.error;
    net::log_warning("TLS certificate upload refused: " + e.text() + "; nothing changed");
    return refusal(e.message(), e.file == kKeyName ? "key" : "chain", e.problem);
  }
  return install(slot, upload.chain, upload.key, std::move(checked.certificate), "installed");
}

TlsChangeReply tls_regenerate(tls::ServerContextSlot& slot, const std::string& host, std::time_t now) {
  const std::string name = "the new self-signed certificate";
  const tls::SelfSignedPem pem = tls::make_self_signed(tls::self_signed_request(host, now), name);
  tls::LoadResult checked =
      pem.error ? tls::LoadResult{nullptr, pem.error} : tls::parse_certificate(pem.chain, pem.key, now, name, name);
  if (checked.error) {
    net::log_error("TLS certificate not regenerated: " + checked.error->text());
    return refusal("cannot make a self-signed certificate: " + checked.error->text(), "", checked.error->problem);
  }
  return install(slot, pem.chain, pem.key, std::move(checked.certificate), "regenerated");
}

}  // namespace boxmail::control
