"""Checks a delivery status notification written by relay_dsn_test.cpp with
Python's email parser (a second, independent reader of RFC 3464 / 6522).

Usage: dsn_check.py NOTICE.eml EXPECT.json
EXPECT: {"kind": "failure"|"delay", "host": ..., "to": ..., "subject": ...,
         "recipients": [{field: value, ...}, ...], "original_subject": ...}
Exits 0 when every check holds, else prints what failed and exits 1.
"""
import email
import email.policy
import email.utils
import json
import sys


def main():
    data = open(sys.argv[1], "rb").read()
    want = json.load(open(sys.argv[2]))
    problems = []

    def check(ok, what):
        if not ok:
            problems.append(what)

    check(b"\n" not in data.replace(b"\r\n", b""), "a bare LF")
    check(b"\r" not in data.replace(b"\r\n", b""), "a bare CR")
    check(all(len(line) <= 998 for line in data.split(b"\r\n")), "a line over 998 octets")
    msg = email.message_from_bytes(data, policy=email.policy.default)
    check(not msg.defects, "defects: %r" % msg.defects)
    check(msg.get_content_type() == "multipart/report", "type %s" % msg.get_content_type())
    check(msg.get_param("report-type") == "delivery-status", "report-type %r" % msg.get_param("report-type"))
    check(msg["From"].addresses[0].addr_spec == "MAILER-DAEMON@" + want["host"], "From %s" % msg["From"])
    check(msg["To"].addresses[0].addr_spec == want["to"], "To %s" % msg["To"])
    check(str(msg["Subject"]) == want["subject"], "Subject %s" % msg["Subject"])
    check(str(msg["Auto-Submitted"]) == "auto-replied", "Auto-Submitted %s" % msg["Auto-Submitted"])
    check(msg["Date"].datetime is not None, "Date %s" % msg["Date"])
    mid = str(msg["Message-ID"])
    check(mid.startswith("<") and mid.endswith("@" + want["host"] + ">"), "Message-ID %s" % mid)

    parts = msg.get_payload()
    types = [p.get_content_type() for p in parts]
    check(types == ["text/plain", "message/delivery-status", "text/rfc822-headers"], "parts %r" % types)
    if len(parts) == 3:
        human = parts[0].get_content()
        for r in want["recipients"]:
            addr = r["Final-Recipient"].split("; ", 1)[1]
            check(addr in human, "the text does not name %s" % addr)
        groups = parts[1].get_payload()   # a list of Message: per-message, then per-recipient
        check(isinstance(groups, list) and len(groups) == 1 + len(want["recipients"]),
              "%d field groups" % (len(groups) if isinstance(groups, list) else -1))
        per_message = groups[0]
        check(per_message["Reporting-MTA"] == "dns; " + want["host"], "Reporting-MTA %s" % per_message["Reporting-MTA"])
        check(email.utils.parsedate_to_datetime(per_message["Arrival-Date"]) is not None, "Arrival-Date")
        if "received_from" in want:
            check(per_message["Received-From-MTA"] == "dns; " + want["received_from"],
                  "Received-From-MTA %s" % per_message["Received-From-MTA"])
        for group, r in zip(groups[1:], want["recipients"]):
            for name, value in r.items():
                got = group[name]
                got = " ".join(str(got).split()) if got is not None else None   # unfolded
                if value is None:
                    check(got is None, "%s present: %s" % (name, got))
                elif value == "*date*":
                    check(got is not None and email.utils.parsedate_to_datetime(got) is not None, "%s %s" % (name, got))
                else:
                    check(got == value, "%s: %r, expected %r" % (name, got, value))
        original = email.message_from_string(parts[2].get_payload())
        check(original["Subject"] == want["original_subject"], "original Subject %s" % original["Subject"])
    if problems:
        print("\n".join(problems))
        sys.exit(1)


if __name__ == "__main__":
    main()
