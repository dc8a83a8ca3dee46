// page_certificate.cpp - /certificate: the TLS certificate boxmaild serves
// (subject, names, issuer, validity with a warning from 30 days before the
// end, SHA-256 fingerprint, its files) as the control socket's `tls` tells
// it; an upload of a PEM chain and key, and a new self-signed certificate
// (with a confirmation step). The panel never reads or writes the
// certificate files: a change is a TlsChange the glue sends to boxmaild
// (tls-install, tls-regenerate), which validates and installs it
// (control/tls_commands.hpp); its refusal comes back next to the field.
#include "cgi/page_common.hpp"

#include "control/control_protocol.hpp"

namespace boxmail::cgi::detail {
namespace {

constexpr std::int64_t kWarnDays = 30;

/// "N day(s)".
std::string days(std::int64_t n) { return std::to_string(n) + (n == 1 ? " day" : " days"); }

/// The validity's warning at `now`, "" when none: expired, not yet valid,
/// or ending within kWarnDays days.
std::string expiry_warning(const tls::CertificateInfo& c, std::int64_t now) {
  if (now > c.not_after_time) {
    return "Expired on " + c.not_after + " (" + days((now - c.not_after_time) / 86400) +
           " ago): clients refuse or warn; install a renewed certificate or regenerate the self-signed one.";
  }
  if (now < c.not_before_time) return "Not valid before " + c.not_before + ": check the box's clock.";
  const std::int64_t left = (c.not_after_time - now) / 86400;
  if (left < kWarnDays) {
    return "Expires in " + days(left) + " (" + c.not_after + "): " +
           (c.self_signed ? "boxmaild makes a new self-signed one at its next daily check (or regenerate it now)."
                          : "install a renewed certificate before then.");
  }
  return {};
}

/// A table row: header cell, then `value` (markup).
Html row(Html::Literal head, const Html& value, Html::Literal id) {
  return Html::trusted("<tr><th scope=\"row\">") + Html::trusted(head) + Html::trusted("</th><td") + attr("id", id.text) +
         Html::trusted(">") + value + Html::trusted("</td></tr>");
}

/// The certificate in use, or why there is none.
Html certificate_section(const control::TlsReply& t, std::int64_t now) {
  Html out;
  if (!t.certificate) {
    out += notice(false, "No certificate is loaded: STARTTLS, STLS and the TLS ports are off." +
                             (t.refused.empty() ? std::string() : " boxmaild refused the files: " + t.refused));
  } else if (t.pending()) {
    out += notice(false, "boxmaild refused the certificate files at its last load and still serves the "
                         "certificate below: " + t.refused);
  }
  if (!t.certificate) return out;
  const tls::CertificateInfo& c = *t.certificate;
  const std::string warning = expiry_warning(c, now);
  if (!warning.empty()) out += notice(false, warning);
  Html until = Html(c.not_after);
  if (!warning.empty()) until += Html::trusted(" <strong class=\"error\">") + warning + Html::trusted("</strong>");
  out += Html::trusted("<section><h2>Certificate in use</h2><table class=\"facts\"><tbody>") +
         row("Subject", Html(c.subject), "cert-subject") +
         row("DNS names", Html(c.dns_names.empty() ? std::string("none") : join(c.dns_names, ", ")), "cert-names") +
         row("Issuer", Html(c.issuer), "cert-issuer") +
         row("Self-signed",
             Html(c.self_signed ? "yes: mail clients warn until their users accept it (check the fingerprint)"
                                : "no"),
             "cert-self-signed") +
         row("Valid from", Html(c.not_before), "cert-not-before") + row("Valid until", until, "cert-not-after") +
         row("SHA-256 fingerprint", Html::trusted("<code>") + c.sha256_fingerprint + Html::trusted("</code>"),
             "cert-sha256") +
         row("Chain", Html(std::to_string(t.chain_length) + (t.chain_length == 1 ? " certificate" : " certificates")),
             "cert-chain") +
         row("Files",
             Html::trusted("<code>") + t.chain_file + Html::trusted("</code>, key <code>") + t.key_file +
                 Html::trusted("</code> (readable by boxmaild only)"),
             "cert-files") +
         Html::trusted("</tbody></table></section>\n");
  return out;
}

/// One upload: a file input and a textarea for pasting, under one label,
/// with the part's error and help (`part` "chain" or "key").
Html upload_field(std::string_view part, Html::Literal label, Html::Literal help, std::string_view pasted,
                  std::string_view error) {
  const std::string id = "f-" + std::string(part);
  Html described = attr("aria-describedby", (error.empty() ? std::string() : id + "-err ") + id + "-help");
  if (!error.empty()) described += Html::trusted(" aria-invalid=\"true\"");
  Html out = error.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">");
  out += Html::trusted("<label") + attr("for", id + "-file") + Html::trusted(">") + Html::trusted(label) +
         Html::trusted(" (file)</label><input type=\"file\"") + attr("id", id + "-file") +
         attr("name", std::string(part) + "_file") +
         Html::trusted(" accept=\".pem,.crt,.cer,.key,application/x-pem-file\"") + described +
         Html::trusted("><label") + attr("for", id + "-text") + Html::trusted(">or paste it</label><textarea") +
         attr("id", id + "-text") + attr("name", std::string(part) + "_text") +
         Html::trusted(" class=\"pem\" rows=\"6\" spellcheck=\"false\" autocomplete=\"off\"") + described + Html::trusted(">") +
         pasted + Html::trusted("</textarea>");
  if (!error.empty()) {
    out += Html::trusted("<p class=\"error\"") + attr("id", id + "-err") + Html::trusted(">") + error +
           Html::trusted("</p>");
  }
  out += Html::trusted("<p class=\"help\"") + attr("id", id + "-help") + Html::trusted(">") + Html::trusted(help) +
         Html::trusted("</p></div>\n");
  return out;
}

/// The text of an upload: the file when one was chosen, else the pasted
/// text; an error (into `errors[part]`) when both or neither are given.
std::string upload_text(const Form& f, const std::string& part, std::map<std::string, std::string>& errors,
                        std::string_view what) {
  const Field* file = f.file(part + "_file");
  const bool has_file = file != nullptr && !file->value.empty();
  const std::string pasted = f.value(part + "_text");
  const bool has_text = !trim(pasted).empty();
  if (has_file && has_text) {
    errors[part] = "choose a file or paste the " + std::string(what) + ", not both";
    return {};
  }
  if (!has_file && !has_text) {
    errors[part] = "choose the " + std::string(what) + " file or paste it (PEM)";
    return {};
  }
  return has_file ? file->value : pasted;
}

}  // namespace

Html certificate_render(const Request& r, const Model& m, const View& v) {
  Html out = view_notices(v);
  const DaemonView& d = m.daemon;
  if (!d.tls) {
    out += notice(false, "boxmaild does not answer on its control socket: " + d.tls_error);
    return out;
  }
  const std::string base = r.script + "/certificate";
  if (r.query.has("regenerate")) {
    out += Html::trusted("<section class=\"confirm\"><h2>Regenerate the self-signed certificate?</h2><p>boxmaild "
                         "makes a new key and a self-signed certificate for its host name, valid for 824 days, and "
                         "serves it at once. It replaces the certificate in use") +
           (d.tls->certificate && !d.tls->certificate->self_signed
                ? Html::trusted(", <strong>including the uploaded one</strong>")
                : Html()) +
           Html::trusted("; mail clients that accepted the old fingerprint warn again.</p>") +
           form_open(r, "/certificate", m) + hidden_field("action", "regenerate") + hidden_field("confirm", "yes") +
           Html::trusted("<button type=\"submit\" class=\"danger\">Regenerate</button> <a") + attr("href", base) +
           Html::trusted(">Cancel</a></form></section>\n");
  }
  out += certificate_section(*d.tls, m.now);
  const bool again = v.form && v.outcome && !v.outcome->errors.empty();
  out += Html::trusted("<section><h2>Install a certificate</h2><p>A certificate chain and its private key in "
                       "PEM, as a certificate authority issues them (e.g. fullchain.pem and privkey.pem). boxmaild "
                       "checks them first: the key must be the certificate's and not encrypted, the chain in order "
                       "and every certificate valid now. Nothing changes when anything is wrong.</p>") +
         form_open(r, "/certificate", m, Html::trusted(" enctype=\"multipart/form-data\"")) +
         hidden_field("action", "install") +
         upload_field("chain", "Certificate chain",
                      "The server's certificate first, then each intermediate certificate (the root may be left "
                      "out); at most 64 KiB with the key, 16 KiB when pasted.",
                      again ? v.form->value("chain_text") : std::string(), error_of(v, "chain")) +
         upload_field("key", "Private key",
                      "EC or RSA, without a passphrase. It goes to boxmaild only (the panel cannot read the key "
                      "file) and is never shown again.",
                      "", error_of(v, "key")) +
         Html::trusted("<button type=\"submit\">Install certificate</button></form></section>\n");
  out += Html::trusted("<section><h2>Self-signed certificate</h2><p>Without a certificate from an authority, "
                       "boxmaild serves a self-signed one for its host name and renews it 30 days before it "
                       "ends; clients ask their users to accept it once, and again after each renewal.</p><p><a "
                       "class=\"button\" id=\"regenerate\"") +
         attr("href", base + "?regenerate=1") +
         Html::trusted(">Regenerate self-signed certificate</a></p></section>\n");
  return out;
}

Outcome certificate_post(const Request& r, const Model&) {
  Outcome o;
  const Form& f = r.form;
  const std::string action = f.value("action");
  if (action == "regenerate") {
    if (f.value("confirm") != "yes") {
      o.error = "Regenerating needs a confirmation.";
      return o;
    }
    Change c;
    c.tls = TlsChange{true, {}, {}};
    c.done = "A new self-signed certificate";
    o.change = std::move(c);
    return o;
  }
  if (action != "install") {
    o.error = "Unknown action.";
    return o;
  }
  TlsChange t;
  t.chain = upload_text(f, "chain", o.errors, "certificate chain");
  t.key = upload_text(f, "key", o.errors, "private key");
  if (!o.errors.empty()) return o;
  if (t.chain.size() + t.key.size() > control::kMaxTlsUpload) {
    o.errors[t.chain.size() >= t.key.size() ? "chain" : "key"] =
        "the chain and the key are " + std::to_string(t.chain.size() + t.key.size()) + " octets together; at most " +
        std::to_string(control::kMaxTlsUpload) + " (64 KiB)";
    return o;
  }
  Change c;
  c.tls = std::move(t);
  c.done = "The uploaded certificate";
  o.change = std::move(c);
  return o;
}

}  // namespace boxmail::cgi::detail

namespace boxmail::cgi {

Outcome certificate_outcome(bool reached, std::string_view error, const control::Reply& reply) {
  Outcome o;
  if (!reached) {
    o.error = "Nothing was changed: boxmaild could not be asked (" + std::string(error) + ").";
    return o;
  }
  const auto d = control::decode_tls_change(reply);
  if (!d) {
    o.error = "boxmaild's reply is malformed (" + d.error + ").";
    return o;
  }
  if (!d->done) {
    if (d->part == "chain" || d->part == "key") {
      o.errors[d->part] = d->message;
    } else {
      o.error = "Nothing was changed: " + d->message + ".";
    }
    return o;
  }
  const auto& c = d->tls.certificate;
  // The panel's own HTTPS server (lighttpd on the appliance) is restarted
  // with the new files by its init script a few seconds later (docs/tls.md).
  o.info = std::string(d->message == "regenerated" ? "A new self-signed certificate is in use"
                                                   : "The uploaded certificate is in use") +
           (c ? " (" + c->subject + ", SHA-256 " + c->sha256_fingerprint + ")." : std::string(".")) +
           " The panel's own HTTPS switches to it within about ten seconds; the browser may ask again whether "
           "to trust it.";
  return o;
}

}  // namespace boxmail::cgi
