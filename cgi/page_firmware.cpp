// page_firmware.cpp - /firmware: the running firmware (version, board,
// slots, a failed trial) from the boot's status file, the watcher's last
// result, the upload form for a signed firmware file and the factory
// reset form. Only draws: the upload is streamed by the glue through
// FirmwareUpload (firmware_upload.hpp) and the reset's password checked
// there (cgi_main.cpp); their results come back as the view's Outcome
// (field errors "firmware", "password", "choice"; `info` on success).
#include "cgi/page_common.hpp"

namespace boxmail::cgi::detail {
namespace {

Html row(Html::Literal head, std::string_view value, Html::Literal id) {
  return Html::trusted("<tr><th scope=\"row\">") + Html::trusted(head) + Html::trusted("</th><td") + attr("id", id.text) +
         Html::trusted(">") + Html(value.empty() ? std::string_view("-") : value) + Html::trusted("</td></tr>");
}

/// "b (version 1.2.2)" or "b".
std::string slot_text(const FirmwareStatus& s, std::string_view slot) {
  const std::string v = s.version_of(slot);
  return std::string(slot) + (v.empty() ? "" : " (version " + v + ")");
}

Html status_section(const FirmwareView& f) {
  Html out = Html::trusted("<section><h2>Running firmware</h2>");
  if (!f.status) {
    return out + notice(false, "firmware status unknown: not running from an appliance image (no " +
                                   f.status_path + "). An uploaded file is checked and staged, but nothing "
                                   "here installs it.") +
           Html::trusted("</section>\n");
  }
  const FirmwareStatus& s = *f.status;
  if (!s.failed.empty()) {
    out += notice(false, "The firmware in slot " + slot_text(s, s.failed) +
                             " did not come up, and the box went back to the running one" +
                             (s.running.empty() ? std::string(".") : ": slot " + slot_text(s, s.running) + "."));
  }
  if (!s.error.empty()) out += notice(false, "The boot reported a problem with the firmware slots: " + s.error);
  std::string trial = "none";
  if (!s.trial.empty()) trial = "slot " + slot_text(s, s.trial) + ", boot " + (s.tries.empty() ? "?" : s.tries);
  out += Html::trusted("<table class=\"facts\"><tbody>") + row("Version", s.version, "fw-version") +
         row("Board", s.board, "fw-board") + row("Running slot", s.running, "fw-running") +
         row("Default slot", s.active, "fw-active") + row("Slot a", s.version_a, "fw-version-a") +
         row("Slot b", s.version_b, "fw-version-b") + row("Trial", trial, "fw-trial") +
         Html::trusted("</tbody></table></section>\n");
  return out;
}

/// The file input with its error and help.
Html upload_form(const Request& r, const Model& m, const View& v, bool pending) {
  const FirmwareView& f = m.firmware;
  const std::string error = error_of(v, "firmware");
  Html out = Html::trusted("<section><h2>Install new firmware</h2><p>A firmware file signed for this box. It is "
                           "checked while it uploads: the signature with this box's key, the board, every part; a "
                           "file that fails any check is thrown away. The box then installs it into its other slot "
                           "and restarts; mail and settings are kept. When the new firmware does not come up, the "
                           "box goes back to the one running now.</p>");
  if (pending) return out + Html::trusted("</section>\n");
  std::string help = "A .bmfw file of at most 128 MiB";
  if (f.release && !f.release->board.empty()) help += " for the board " + f.release->board;
  help += ".";
  out += form_open(r, "/firmware", m, Html::trusted(" enctype=\"multipart/form-data\" id=\"upload-form\""));
  out += error.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">");
  out += Html::trusted("<label for=\"f-firmware\">Firmware file</label><input type=\"file\" id=\"f-firmware\" "
                       "name=\"firmware\" accept=\".bmfw,application/octet-stream\" aria-describedby=\"") +
         Html(error.empty() ? std::string() : "f-firmware-err ") +
         Html::trusted("f-firmware-help\"") + (error.empty() ? Html() : Html::trusted(" aria-invalid=\"true\"")) +
         Html::trusted(">");
  if (!error.empty())
    out += Html::trusted("<p class=\"error\" id=\"f-firmware-err\">Refused: ") + error + Html::trusted("</p>");
  out += Html::trusted("<p class=\"help\" id=\"f-firmware-help\">") + help + Html::trusted("</p></div>");
  return out + Html::trusted("<button type=\"submit\">Upload and install</button></form></section>\n");
}

Html reset_form(const Request& r, const Model& m, const View& v, bool pending) {
  Html out = Html::trusted("<section><h2>Factory reset</h2><p>The box restarts with its factory settings: the "
                           "configuration, the mailbox accounts, the certificate and the administrator's password "
                           "are removed. A new administrator password is printed on its console, as on the first "
                           "boot.</p>");
  if (pending) return out + Html::trusted("</section>\n");
  const std::string choice_error = error_of(v, "choice");
  const std::string chosen = v.form ? v.form->value("choice") : std::string("keep-mail");
  out += form_open(r, "/firmware/reset", m, Html::trusted(" id=\"reset-form\""));
  out += choice_error.empty() ? Html::trusted("<fieldset class=\"field\">")
                              : Html::trusted("<fieldset class=\"field invalid\">");
  out += Html::trusted("<legend>What happens to the mail</legend><label class=\"check\"><input type=\"radio\" "
                       "name=\"choice\" id=\"f-choice-keep-mail\" value=\"keep-mail\"") +
         (chosen == "keep-mail" ? Html::trusted(" checked") : Html()) +
         Html::trusted("> Keep the mail: the mailboxes' messages and the outgoing queue stay (a mailbox made again "
                       "under the same name finds its messages).</label><label class=\"check\"><input "
                       "type=\"radio\" name=\"choice\" id=\"f-choice-wipe\" value=\"wipe\"") +
         (chosen == "wipe" ? Html::trusted(" checked") : Html()) +
         Html::trusted("> Wipe: <strong>deletes all mail</strong> (every mailbox and the queue) with the "
                       "settings; the data partition is formatted.</label>");
  if (!choice_error.empty())
    out += Html::trusted("<p class=\"error\" id=\"f-choice-err\">") + choice_error + Html::trusted("</p>");
  out += Html::trusted("</fieldset>");
  out += text_field("password", "Administrator password", "",
                    "The password you logged in with, to confirm.", error_of(v, "password"), "password");
  return out + Html::trusted("<button type=\"submit\" class=\"danger\">Factory reset and restart</button></form>"
                             "</section>\n");
}

}  // namespace

Html firmware_render(const Request& r, const Model& m, const View& v) {
  const FirmwareView& f = m.firmware;
  Html out = view_notices(v);
  const bool pending = !f.pending.empty();
  if (pending) {
    out += notice(true, "The box is asked to " + f.pending + " (since " + utc_time(f.pending_time) +
                            "); it restarts when that is done. The forms below come back afterwards.");
  }
  if (!f.result.empty()) {
    out += Html::trusted("<div class=\"notice bad\" role=\"status\" id=\"fw-result\">The last firmware request ("
                         "reported ") +
           Html(utc_time(f.result_time)) + Html::trusted(") failed: ") + Html(f.result) + Html::trusted("</div>\n");
  }
  out += status_section(f);
  out += upload_form(r, m, v, pending);
  out += reset_form(r, m, v, pending);
  return out;
}

}  // namespace boxmail::cgi::detail
