"""t-34-tls-certificate: the server certificate's life (issue 9).

  (1) First start without a certificate: boxmaild makes a self-signed ECDSA
      P-256 certificate for its host name (CN and dNSName mx.test.example),
      the key is mode 0600 and belongs to the mail user, its directory is
      0700; the log names both files and the time it took; openssl
      s_client -starttls smtp gets exactly that certificate (the logged
      SHA-256 fingerprint), and TLS 1.2 with an ECDHE AEAD suite.
  (2) A restart keeps it (nothing is regenerated).
  (3) The administrator's RSA certificate with a chain (leaf + CA), then
      SIGHUP: served at once by new sessions; the log says "loaded".
  (4) Refused on SIGHUP, each with an error naming the file, while the
      certificate in use stays in use: a key that is not the leaf's, an
      expired certificate, a chain in the wrong order, garbage, an
      encrypted key.
  (5) Started with a broken certificate: mail still flows in the clear,
      STARTTLS is not offered, the log says why; a good file + SIGHUP
      turns TLS on.
  (6) A self-signed certificate 10 days from its end is renewed on SIGHUP
      (a new one for the host name, valid at most 825 days); a CA-issued
      one that close to its end is left alone.
"""
import os
import re
import signal
import stat
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import boxtest  # noqa: E402
import tlstest  # noqa: E402

HOST = "mx.test.example"


def write(path, data, mode=0o600):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    boxtest.hand_over(path)


def served_fp(box):
    fp, out = tlstest.served(box.port, starttls="smtp")
    assert fp, out
    return fp, out


def sighup_and_wait(box, pattern):
    start = len(box.log())
    box.signal(signal.SIGHUP)
    return box.wait_log(pattern, start=start).group(0)


def main():
    with boxtest.Box() as box:
        # -- (1) first start ------------------------------------------------
        assert not os.path.exists(box.cert)
        box.start()
        log = box.log()
        m = re.search(r"made a self-signed certificate for (\S+) in (\S+) \(key (\S+), \d+ ms\)", log)
        assert m and m.groups() == (HOST, box.cert, box.key), log
        uid, gid = boxtest.mail_user_ids()
        st = os.stat(box.key)
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == uid, (oct(st.st_mode), st.st_uid)
        assert stat.S_IMODE(os.stat(os.path.dirname(box.key)).st_mode) == 0o700
        with open(box.cert, "rb") as f:
            first_pem = f.read()
        cert = tlstest.x509.load_pem_x509_certificate(first_pem)
        assert cert.subject.rfc4514_string() == f"CN={HOST}"
        san = cert.extensions.get_extension_for_class(tlstest.x509.SubjectAlternativeName).value
        assert san.get_values_for_type(tlstest.x509.DNSName) == [HOST]
        assert isinstance(cert.public_key(), tlstest.ec.EllipticCurvePublicKey)
        assert cert.public_key().curve.name == "secp256r1"
        first_fp = tlstest.fingerprint(cert)
        m = re.search(r"TLS certificate loaded: (\S+) \(CN=([^,]+), DNS:([^,]+), self-signed, valid until "
                      r"[^,]+, SHA-256 ([0-9A-F:]+)\)", log)
        assert m and m.group(1) == box.cert and m.group(4) == first_fp, log
        fp, out = served_fp(box)
        assert fp == first_fp, out
        assert "TLSv1.2" in out and re.search(r"Cipher is ECDHE-ECDSA-(AES\d+-GCM|CHACHA20-POLY1305)", out), out

        # -- (2) a restart keeps it -------------------------------------------
        assert box.stop() == 0
        box.start()
        assert box.log().count("made a self-signed certificate") == 1
        assert served_fp(box)[0] == first_fp

        # -- (3) the administrator's certificate ------------------------------
        ca_key = tlstest.new_key("ec")
        ca = tlstest.make_cert("Test CA", ca_key, ca=True, days_to=3650)
        leaf_key = tlstest.new_key("rsa")
        leaf = tlstest.make_cert(HOST, leaf_key, issuer_cert=ca, issuer_key=ca_key)
        write(box.key, tlstest.pem_key(leaf_key))
        write(box.cert, tlstest.pem_cert(leaf, ca), 0o644)
        sighup_and_wait(box, re.escape(f"TLS certificate loaded: {box.cert} (CN={HOST}"))
        good_fp = tlstest.fingerprint(leaf)
        fp, out = served_fp(box)
        assert fp == good_fp, out
        assert "Cipher is ECDHE-RSA-" in out, out
        assert "CN = Test CA" in out or "CN=Test CA" in out, out   # the chain is sent too

        # -- (4) refusals keep the certificate in use -------------------------
        other_key = tlstest.new_key("rsa")
        expired = tlstest.make_cert(HOST, leaf_key, issuer_cert=ca, issuer_key=ca_key, days_from=-30, days_to=-1)
        cases = [
            ("a key that is not the leaf's", tlstest.pem_cert(leaf, ca), tlstest.pem_key(other_key),
             "key does not match"),
            ("an expired certificate", tlstest.pem_cert(expired, ca), tlstest.pem_key(leaf_key), "expired"),
            ("a chain in the wrong order", tlstest.pem_cert(ca, leaf), tlstest.pem_key(leaf_key), "order"),
            ("garbage", b"not a certificate\n", tlstest.pem_key(leaf_key), "no valid pem certificate"),
            ("an encrypted key", tlstest.pem_cert(leaf, ca), tlstest.pem_key(leaf_key, b"secret"), "key"),
        ]
        for name, chain, key, why in cases:
            write(box.key, key)
            write(box.cert, chain, 0o644)
            line = sighup_and_wait(box, r"TLS certificate refused: .*")
            assert box.cert in line or box.key in line, (name, line)
            assert why in line.lower(), (name, why, line)
            assert "the certificate in use is kept" in line, line
            assert served_fp(box)[0] == good_fp, name
            # mail still flows, over TLS too
            box.deliver("alice@example.com", f"Subject: {name}\r\n\r\nstill here\r\n".encode())
        assert box.stop() == 0

        # -- (5) a start with a broken certificate ------------------------------
        write(box.cert, b"-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n", 0o644)
        box.start()
        log = box.log()
        assert "STARTTLS, STLS and the TLS ports are off until a good one is loaded" in log, log
        assert "STARTTLS" not in box.ehlo_lines()
        d = box.dialogue()
        d.hello()
        d.send("STARTTLS")
        d.expect(454, "4.7.0")
        d.close()
        box.deliver("alice@example.com", b"Subject: clear\r\n\r\nno TLS\r\n")
        write(box.key, tlstest.pem_key(leaf_key))
        write(box.cert, tlstest.pem_cert(leaf, ca), 0o644)
        sighup_and_wait(box, re.escape("TLS certificate loaded"))
        assert "STARTTLS" in box.ehlo_lines()
        assert served_fp(box)[0] == good_fp

        # -- (6) renewal of the self-signed certificate -------------------------
        ending_ca = tlstest.make_cert(HOST, leaf_key, issuer_cert=ca, issuer_key=ca_key, days_to=10)
        write(box.cert, tlstest.pem_cert(ending_ca, ca), 0o644)
        sighup_and_wait(box, re.escape("TLS certificate loaded"))
        assert "renewed the self-signed" not in box.log()
        assert served_fp(box)[0] == tlstest.fingerprint(ending_ca)
        own_key = tlstest.new_key("ec")
        ending = tlstest.make_cert(HOST, own_key, days_from=-800, days_to=10)
        write(box.key, tlstest.pem_key(own_key))
        write(box.cert, tlstest.pem_cert(ending), 0o644)
        sighup_and_wait(box, re.escape(f"renewed the self-signed certificate for {HOST} in {box.cert}"))
        with open(box.cert, "rb") as f:
            renewed = tlstest.x509.load_pem_x509_certificate(f.read())
        assert tlstest.fingerprint(renewed) != tlstest.fingerprint(ending)
        life = renewed.not_valid_after - renewed.not_valid_before
        assert 800 <= life.days <= 825, life
        box.wait_log(re.escape(f"SHA-256 {tlstest.fingerprint(renewed)}"))
        assert served_fp(box)[0] == tlstest.fingerprint(renewed)
        st = os.stat(box.key)
        assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == uid
        assert box.stop() == 0


if __name__ == "__main__":
    boxtest.run(main)
