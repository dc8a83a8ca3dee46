"""panel_cgi - boxmail.cgi run as a CGI process, the way a web server runs it.

Panel(box) makes the panel's administrator (boxmailctl admin passwd) and a
state directory next to BOX's files; request() runs BUILD/boxmail.cgi once
with the RFC 3875 environment (urlencoded or multipart/form-data body),
keeps the cookies it sets and returns (status line, page text); login()
logs in with the server-issued login token. Used by the integration tests
that drive the panel without a web server (t-15, t-31).
"""
import io
import os
import re
import subprocess
import tarfile
import urllib.parse
import uuid

import boxtest


class Panel:
    def __init__(self, box, password="admin-password"):
        self.box = box
        self.password = password
        self.admin = os.path.join(box.dir, "admin")
        self.state = os.path.join(box.dir, "panel")
        os.makedirs(self.state, mode=0o700, exist_ok=True)
        subprocess.run([boxtest.BOXMAILCTL, "-c", box.ini, "admin", "passwd", "--password-stdin"],
                       input=password + "\n", text=True, check=True, capture_output=True,
                       env=dict(os.environ, BOXMAIL_ADMIN=self.admin))
        self.cookies = {}

    def request(self, method, path, form=None, files=None):
        """FORM: {name: value}; FILES: {name: (filename, bytes)} makes the
        body multipart/form-data. Returns (status line, page text)."""
        if files:
            boundary = "----boxmail-test-" + uuid.uuid4().hex
            body = b""
            for name, value in (form or {}).items():
                body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                         f"{value}\r\n").encode()
            for name, (filename, data) in files.items():
                body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                         f"filename=\"{filename}\"\r\nContent-Type: application/x-tar\r\n\r\n").encode()
                body += data + b"\r\n"
            body += f"--{boundary}--\r\n".encode()
            content_type = f"multipart/form-data; boundary={boundary}"
        else:
            body = urllib.parse.urlencode(form or {}).encode()
            content_type = "application/x-www-form-urlencoded"
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GATEWAY_INTERFACE": "CGI/1.1",
               "REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "/cgi-bin/boxmail.cgi",
               "QUERY_STRING": "", "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
               "BOXMAIL_CONFIG": self.box.ini, "BOXMAIL_ADMIN": self.admin, "BOXMAIL_PANEL_STATE": self.state,
               "HTTP_COOKIE": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if method == "POST":
            env["CONTENT_TYPE"] = content_type
            env["CONTENT_LENGTH"] = str(len(body))
        p = subprocess.run([os.path.join(boxtest.BUILD, "boxmail.cgi")], input=body, env=env,
                           capture_output=True, timeout=60)
        head, _, page = p.stdout.partition(b"\r\n\r\n")
        headers = head.decode().split("\r\n")
        for h in headers:
            m = re.match(r"Set-Cookie: (\w+)=([^;]*)", h)
            if m:
                self.cookies[m.group(1)] = m.group(2)
        self.last_body = page
        return headers[0], page.decode("utf-8", "replace")

    @staticmethod
    def csrf(page):
        return re.search(r'name="csrf" value="([0-9a-f-]+)"', page).group(1)

    def login(self):
        status, page = self.request("GET", "/login")
        assert status.startswith("Status: 200"), status
        status, page = self.request("POST", "/login", {"user": "admin", "password": self.password,
                                                       "csrf": self.csrf(page)})
        assert status.startswith("Status: 30"), (status, page[:500])
        assert "boxmail_session" in self.cookies

    def restore(self, ini_text, passwd_text):
        """POST /backup with a restore archive holding these two files (bytes)."""
        _, page = self.request("GET", "/backup")
        return self.request("POST", "/backup", {"csrf": Panel.csrf(page)},
                            files={"archive": ("backup.tar", tar_of({"boxmail.ini": ini_text,
                                                                      "passwd": passwd_text}))})


def tar_of(members):
    """A ustar archive of {name: bytes}, as `tar` makes it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()
