// page_backup.cpp - /backup: what a backup holds (the conffiles list,
// conffiles.hpp) and what it leaves out, the download link, and a restore
// that checks the whole archive before anything changes.
#include "cgi/page_common.hpp"

#include "cgi/archive.hpp"

namespace boxmail::cgi::detail {
namespace {

/// The member names a restore takes: the list's, or without a list the two
/// files every backup holds.
std::vector<std::string> restorable_names(const Model& m) {
  if (m.backup.loaded && m.backup.list_error.empty()) return m.backup.listed;
  return {"boxmail.ini", "passwd"};
}

/// The files a restore writes; other listed members are taken and not written.
bool written_by_restore(std::string_view name) {
  return name == "boxmail.ini" || name == "passwd" || name == "admin";
}

Html contents(const Model& m) {
  const BackupView& b = m.backup;
  if (!b.loaded) return Html();
  if (!b.list_error.empty())
    return notice(false, "The list of the box's settings (" + b.list_path + ") cannot be read: " + b.list_error +
                             ". No backup is made without it (it would look complete and miss settings); a "
                             "restore takes only boxmail.ini and passwd.");
  Html h = Html::trusted("<h3>In the archive</h3><table id=\"backup-held\"><tr><th>File</th><th>Size</th>"
                         "<th>Restored</th></tr>");
  for (const BackupRow& r : b.held) {
    h += Html::trusted("<tr>") + td(r.name) + td(human_size(r.size)) +
         td(written_by_restore(r.name) ? "yes" : "no: kept in the archive for you; the box keeps its own") +
         Html::trusted("</tr>");
  }
  h += Html::trusted("</table>");
  if (!b.left_out.empty()) {
    h += Html::trusted("<h3>Left out</h3><table id=\"backup-left-out\"><tr><th>File</th><th>Why</th></tr>");
    for (const BackupLeftOutRow& r : b.left_out)
      h += Html::trusted("<tr>") + td(r.name) + td(r.reason) + Html::trusted("</tr>");
    h += Html::trusted("</table>");
  }
  return h + Html::trusted("<p class=\"hint\">From the list of the box's settings, ") +
         Html(b.list_path) + Html::trusted(".</p>");
}

}  // namespace

Html backup_render(const Request& r, const Model& m, const View& v) {
  const std::string error = error_of(v, "archive");
  const bool can_download = !m.backup.loaded || m.backup.list_error.empty();
  Html download = can_download ? Html::trusted("<p><a class=\"button\" id=\"download\"") +
                                     attr("href", r.script + "/backup/download") +
                                     Html::trusted(">Download backup</a></p>")
                               : Html();
  return view_notices(v) +
         Html::trusted("<section><h2>Backup</h2><p>One archive (tar) with the box's settings: the configuration "
                       "(boxmail.ini), the mailbox accounts (passwd, password hashes only), the panel's "
                       "administrator (admin, a password hash) and the certificate. Messages are not "
                       "included.</p>") +
         contents(m) + download +
         Html::trusted("</section>\n<section><h2>Restore</h2><p>The archive is checked first; nothing changes "
                       "when anything in it is wrong (a file that is not one of the box's settings, a link, a "
                       "path leaving the settings directory). boxmail.ini, passwd and admin are replaced "
                       "together; the files they replace are kept as .bak. A restored admin file takes the "
                       "backup's administrator password: log in with it again.</p>") +
         form_open(r, "/backup", m, Html::trusted(" enctype=\"multipart/form-data\"")) +
         (error.empty() ? Html::trusted("<div class=\"field\">") : Html::trusted("<div class=\"field invalid\">")) +
         Html::trusted("<label for=\"f-archive\">Backup archive</label><input type=\"file\" id=\"f-archive\" "
                       "name=\"archive\" accept=\".tar,application/x-tar\">") +
         (error.empty() ? Html() : Html::trusted("<p class=\"error\">") + error + Html::trusted("</p>")) +
         Html::trusted("</div><button type=\"submit\">Restore</button></form></section>\n");
}

Outcome backup_post(const Request& r, const Model& m) {
  Outcome o;
  const Field* file = r.form.file("archive");
  if (file == nullptr || file->value.empty()) {
    o.errors["archive"] = "choose a backup archive to upload";
    return o;
  }
  const TarRead tar = read_tar(file->value, kMaxBackupFiles, kMaxBackupFile);
  if (!tar.error.empty()) {
    o.errors["archive"] = tar.error + "; nothing was changed";
    return o;
  }
  const std::vector<std::string> names = restorable_names(m);
  const TarMember* ini = nullptr;
  const TarMember* passwd = nullptr;
  const TarMember* admin = nullptr;
  std::vector<std::string> kept;
  for (const TarMember& t : tar.members) {
    if (!name_listed(names, t.name)) {
      o.errors["archive"] = "'" + t.name + "' in the archive is not one of the box's settings" +
                            (m.backup.loaded && m.backup.list_error.empty() ? std::string(" (") + m.backup.list_path + ")"
                                                                            : std::string()) +
                            "; nothing was changed";
      return o;
    }
    if (t.name == "boxmail.ini") ini = &t;
    else if (t.name == "passwd") passwd = &t;
    else if (t.name == "admin") admin = &t;
    else kept.push_back(t.name);
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
  // The admin file has the passwd-file's format (boxmailctl admin passwd);
  // one without an administrator would lock the panel.
  if (admin) {
    const auto a = config::parse_passwd(admin->data);
    if (!a.errors.empty()) {
      o.errors["archive"] = "admin in the backup has errors (line " + std::to_string(a.errors.front().line) + ": " +
                            a.errors.front().message + ")";
      return o;
    }
    if (a.table.accounts.empty()) {
      o.errors["archive"] = "admin in the backup names no administrator (restoring it would lock the panel)";
      return o;
    }
  }
  const std::size_t count = accounts.table.accounts.size();
  std::string done = "Restored the configuration, " + std::to_string(count) + " mailbox accounts" +
                     (admin ? std::string(" and the administrator password") : std::string()) + " from the backup.";
  if (!kept.empty())
    done += " Not restored (the box keeps its own): " + join(kept, ", ") + ".";
  o.change = Change{ini->data, std::move(accounts.table), std::move(done)};
  if (admin) o.change->admin = admin->data;
  return o;
}

}  // namespace boxmail::cgi::detail
