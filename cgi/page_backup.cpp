// page_backup.cpp - /backup: download link for the backup archive, and a
// restore that checks the whole archive before anything changes.
#include "cgi/page_common.hpp"

#include "cgi/archive.hpp"

namespace boxmail::cgi::detail {

Html backup_render(const Request& r, const Model& m, const View& v) {
  const std::string error = error_of(v, "archive");
  return view_notices(v) +
         Html::trusted("<section><h2>Backup</h2><p>One archive (tar) with the configuration (boxmail.ini) and the "
                       "mailbox accounts (passwd, password hashes only). Messages are not included.</p><p>"
                       "<a class=\"button\" id=\"download\"") +
         attr("href", r.script + "/backup/download") +
         Html::trusted(">Download backup</a></p></section>\n<section><h2>Restore</h2><p>The archive is checked "
                       "first; nothing changes when anything in it is wrong. The files it replaces are kept as "
                       ".bak.</p>") +
         form_open(r, "/backup", m, Html::trusted(" enctype=\"multipart/form-data\"")) +
         (error.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">")) +
         Html::trusted("<label for=\"f-archive\">Backup archive</label><input type=\"file\" id=\"f-archive\" "
                       "name=\"archive\" accept=\".tar,application/x-tar\">") +
         (error.empty() ? Html() : Html::trusted("<p class=\"error\">") + error + Html::trusted("</p>")) +
         Html::trusted("</div><button type=\"submit\">Restore</button></form></section>\n");
}

Outcome backup_post(const Request& r, const Model&) {
  Outcome o;
  const Field* file = r.form.file("archive");
  if (file == nullptr || file->value.empty()) {
    o.errors["archive"] = "choose a backup archive to upload";
    return o;
  }
  const TarRead tar = read_tar(file->value);
  if (!tar.error.empty()) {
    o.errors["archive"] = tar.error;
    return o;
  }
  const TarMember* ini = nullptr;
  const TarMember* passwd = nullptr;
  for (const TarMember& t : tar.members) {
    if (t.name == "boxmail.ini") ini = &t;
    if (t.name == "passwd") passwd = &t;
  }
  if (!ini || !passwd) {
    o.errors["archive"] = "the archive lacks boxmail.ini or passwd (not a boxmail backup?)";
    return o;
  }
  const auto p = config::parse_config(ini->data, "boxmail.ini (backup)");
  if (!p.errors.empty()) {
    o.errors["archive"] = "boxmail.ini in the backup has errors: " + p.errors.front().to_string();
    return o;
  }
  // Paths fixed at install time (mail_dir, passwd_file, ...) are checked
  // for every page's change by post_page.
  auto accounts = config::parse_passwd(passwd->data);
  if (!accounts.errors.empty()) {
    o.errors["archive"] = "passwd in the backup has errors (line " + std::to_string(accounts.errors.front().line) +
                          ": " + accounts.errors.front().message + ")";
    return o;
  }
  const std::size_t count = accounts.table.accounts.size();
  o.change = Change{ini->data, std::move(accounts.table),
                    "Restored the configuration and " + std::to_string(count) + " mailbox accounts from the backup."};
  return o;
}

}  // namespace boxmail::cgi::detail
