// tls_test.cpp - the TLS building blocks (tls/certificate.hpp,
// tls/server_context.hpp, tls/tls_stream.hpp): a self-signed certificate
// made, written and loaded back; bad files refused with their name; a
// reload that keeps the old context on failure; a full handshake and echo
// between a TlsStream and an mbedTLS client over a non-blocking socketpair;
// clients with weak offers refused; the heap cost of an idle session.
#include "control/tls_commands.hpp"
#include "tls/certificate.hpp"
#include "tls/certificate_install.hpp"
#include "tls/random.hpp"
#include "tls/server_context.hpp"
#include "tls/tls_stream.hpp"

#include <gtest/gtest.h>
#include <mbedtls/ssl.h>

#include <mbedtls/ecp.h>
#include <mbedtls/rsa.h>
#include <mbedtls/ssl_ciphersuites.h>
#include <mbedtls/ssl_internal.h>
#include <mbedtls/version.h>
#include <mbedtls/x509_crt.h>

#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace boxmail::tls;

constexpr const char* kHost = "mail.example";

int test_rng(void*, unsigned char* out, std::size_t n) {
  random_bytes(out, n);
  return 0;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/boxmail-tls-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (made == nullptr) throw std::runtime_error("mkdtemp");
    path_ = made;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    DIR* d = ::opendir(path_.c_str());
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') out.emplace_back(e->d_name);
    }
    ::closedir(d);
    return out;
  }

 private:
  std::string path_;
};

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void write_all(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << data;
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

/// A fresh ECDSA P-256 key (for the CA-signed chain built in the test).
struct Key {
  mbedtls_pk_context pk;
  explicit Key(bool rsa = false) {
    mbedtls_pk_init(&pk);
    if (rsa) {
      EXPECT_EQ(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)), 0);
      EXPECT_EQ(mbedtls_rsa_gen_key(mbedtls_pk_rsa(pk), test_rng, nullptr, 2048, 65537), 0);
      return;
    }
    EXPECT_EQ(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    EXPECT_EQ(mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), test_rng, nullptr), 0);
  }
  ~Key() { mbedtls_pk_free(&pk); }
  std::string pem() {
    std::array<unsigned char, 4096> buf{};
    EXPECT_EQ(mbedtls_pk_write_key_pem(&pk, buf.data(), buf.size()), 0);
    return reinterpret_cast<const char*>(buf.data());
  }
};

/// A certificate for `subject` issued by `issuer` (PEM), valid a year around now.
std::string issue(Key& subject_key, const std::string& subject, Key& issuer_key, const std::string& issuer,
                  bool is_ca) {
  mbedtls_x509write_cert crt;
  mbedtls_x509write_crt_init(&crt);
  mbedtls_mpi serial;
  mbedtls_mpi_init(&serial);
  mbedtls_mpi_lset(&serial, static_cast<mbedtls_mpi_sint>(1 + random_u64() % 1000000));
  mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
  mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
  mbedtls_x509write_crt_set_subject_key(&crt, &subject_key.pk);
  mbedtls_x509write_crt_set_issuer_key(&crt, &issuer_key.pk);
  EXPECT_EQ(mbedtls_x509write_crt_set_subject_name(&crt, subject.c_str()), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_issuer_name(&crt, issuer.c_str()), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_serial(&crt, &serial), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_validity(&crt, "20200101000000", "20991231235959"), 0);
  EXPECT_EQ(mbedtls_x509write_crt_set_basic_constraints(&crt, is_ca ? 1 : 0, -1), 0);
  std::array<unsigned char, 4096> buf{};
  EXPECT_EQ(mbedtls_x509write_crt_pem(&crt, buf.data(), buf.size(), test_rng, nullptr), 0);
  mbedtls_mpi_free(&serial);
  mbedtls_x509write_crt_free(&crt);
  return reinterpret_cast<const char*>(buf.data());
}

class TlsFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = std::time(nullptr);
    cert_ = dir_.file("cert.pem");
    key_ = dir_.file("key.pem");
    ASSERT_FALSE(generate_self_signed(cert_, key_, self_signed_request(kHost, now_)));
  }
  TempDir dir_;
  std::time_t now_ = 0;
  std::string cert_, key_;
};

TEST_F(TlsFiles, SelfSignedIsWrittenSafelyAndLoadsBack) {
  EXPECT_EQ(mode_of(key_), 0600u);
  EXPECT_EQ(mode_of(cert_), 0644u);
  EXPECT_EQ(dir_.names().size(), 2u);   // no temporary file left over
  EXPECT_NE(read_all(key_).find("-----BEGIN EC PRIVATE KEY-----"), std::string::npos);

  const LoadResult r = load_certificate(cert_, key_, now_);
  ASSERT_FALSE(r.error) << r.error->text();
  ASSERT_TRUE(r.certificate);
  EXPECT_EQ(r.certificate->chain_length(), 1u);
  EXPECT_TRUE(mbedtls_pk_can_do(r.certificate->key(), MBEDTLS_PK_ECDSA));
  const CertificateInfo info = r.certificate->describe();
  EXPECT_EQ(info.subject, "CN=mail.example");
  EXPECT_EQ(info.issuer, "CN=mail.example");
  EXPECT_TRUE(info.self_signed);
  EXPECT_EQ(info.dns_names, std::vector<std::string>{kHost});
  EXPECT_EQ(info.sha256_fingerprint.size(), 32u * 3 - 1);
  EXPECT_EQ(info.sha256_fingerprint[2], ':');
  EXPECT_EQ(info.not_after.size(), std::string("2036-12-01 19:00:00 UTC").size());
  // 824 days on: two years and a few months.
  EXPECT_GE(std::stoi(info.not_after.substr(0, 4)), std::stoi(info.not_before.substr(0, 4)) + 2);
  EXPECT_LE(std::stoi(info.not_after.substr(0, 4)), std::stoi(info.not_before.substr(0, 4)) + 3);

  // Random serials: a second certificate differs.
  const std::string first = read_all(cert_);
  ASSERT_FALSE(generate_self_signed(cert_, key_, self_signed_request(kHost, now_)));   // replaces
  EXPECT_NE(read_all(cert_), first);
  EXPECT_EQ(mode_of(key_), 0600u);
  EXPECT_FALSE(load_certificate(cert_, key_, now_).error);
}

TEST_F(TlsFiles, SymlinkAtTheKeyPathIsReplacedNotWrittenThrough) {
  // The key goes to a new temporary (O_EXCL|O_NOFOLLOW) renamed over the
  // target: a link planted at the key's path is replaced, never followed.
  ASSERT_EQ(::unlink(key_.c_str()), 0);
  ASSERT_EQ(::symlink("/nonexistent/elsewhere", key_.c_str()), 0);
  ASSERT_FALSE(generate_self_signed(cert_, key_, self_signed_request(kHost, now_)));
  struct stat st {};
  ASSERT_EQ(::lstat(key_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
}

TEST_F(TlsFiles, FirstStartGeneratesOnlyWhenTheCertificateIsMissing) {
  const std::string before = read_all(cert_);
  EnsureResult e = ensure_self_signed(cert_, key_, self_signed_request(kHost, now_));
  EXPECT_FALSE(e.error);
  EXPECT_FALSE(e.generated);
  EXPECT_EQ(read_all(cert_), before);

  write_all(cert_, "an administrator's broken file");   // reported by the load, never replaced
  e = ensure_self_signed(cert_, key_, self_signed_request(kHost, now_));
  EXPECT_FALSE(e.generated);
  EXPECT_EQ(read_all(cert_), "an administrator's broken file");

  const std::string c = dir_.file("new/cert.pem"), k = dir_.file("new/key.pem");
  ASSERT_EQ(::mkdir(dir_.file("new").c_str(), 0700), 0);
  write_all(k, "a key left by an interrupted run");
  e = ensure_self_signed(c, k, self_signed_request(kHost, now_));
  ASSERT_FALSE(e.error) << e.error->text();
  EXPECT_TRUE(e.generated);
  EXPECT_FALSE(load_certificate(c, k, now_).error);

  e = ensure_self_signed(dir_.file("nodir/cert.pem"), dir_.file("nodir/key.pem"), self_signed_request(kHost, now_));
  ASSERT_TRUE(e.error);
  EXPECT_EQ(e.error->problem, CertProblem::WriteFailed);
  EXPECT_EQ(e.error->file, dir_.file("nodir/key.pem"));
  EXPECT_NE(e.error->text().find("No such file"), std::string::npos) << e.error->text();
}

TEST_F(TlsFiles, ChainTooLargeForTheOutputBufferIsRefused) {
  Key ca_key, leaf_key;
  const std::string ca = issue(ca_key, "CN=Test CA", ca_key, "CN=Test CA", true);
  std::string chain = issue(leaf_key, "CN=mail.example", ca_key, "CN=Test CA", false);
  // The self-signed CA repeated: each is "issued by the next", the order is
  // fine, but the Certificate message outgrows MBEDTLS_SSL_OUT_CONTENT_LEN.
  const std::size_t copies = MBEDTLS_SSL_OUT_CONTENT_LEN / 300 + 1;
  for (std::size_t i = 0; i < copies; ++i) chain += ca;
  const std::string f = dir_.file("big.pem"), k = dir_.file("bigkey.pem");
  write_all(f, chain);
  write_all(k, leaf_key.pem());
  const LoadResult r = load_certificate(f, k, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::ChainTooLarge);
  EXPECT_NE(r.error->text().find("leave the root certificate out"), std::string::npos) << r.error->text();
}

TEST_F(TlsFiles, SelfSignedValidityAndRenewal) {
  // At most 825 days (testssl.sh flags longer), renewed 30 days before the end.
  const SelfSignedRequest req = self_signed_request(kHost, now_);
  EXPECT_LE(req.not_after - req.not_before, 825 * 24 * 3600);
  EXPECT_GE(req.not_after - now_, 800 * 24 * 3600);
  EXPECT_FALSE(self_signed_renewal_due(cert_, now_));
  EXPECT_FALSE(self_signed_renewal_due(cert_, now_ + 790 * 24 * 3600));
  EXPECT_TRUE(self_signed_renewal_due(cert_, now_ + 800 * 24 * 3600));
  EXPECT_TRUE(self_signed_renewal_due(cert_, now_ + 900 * 24 * 3600));   // expired
  // A CA's certificate is never renewed by boxmaild, even when expired.
  Key ca_key, leaf_key;
  const std::string chain = dir_.file("ca-chain.pem");
  write_all(chain, issue(leaf_key, "CN=mail.example", ca_key, "CN=Test CA", false) +
                       issue(ca_key, "CN=Test CA", ca_key, "CN=Test CA", true));
  EXPECT_FALSE(self_signed_renewal_due(chain, now_));
  if constexpr (sizeof(std::time_t) >= 8) {   // after 2099 (not representable in a 32-bit time_t)
    EXPECT_FALSE(self_signed_renewal_due(chain, static_cast<std::time_t>(4200000000LL)));
  }
  EXPECT_FALSE(self_signed_renewal_due(dir_.file("missing.pem"), now_));
  write_all(dir_.file("garbage.pem"), "garbage");
  EXPECT_FALSE(self_signed_renewal_due(dir_.file("garbage.pem"), now_));
}

TEST_F(TlsFiles, FilesAreGivenToTheDaemonUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to chown";
  SelfSignedRequest req = self_signed_request(kHost, now_);
  req.owner = 65534;
  req.group = 65534;
  ASSERT_FALSE(generate_self_signed(cert_, key_, req));
  for (const std::string& f : {cert_, key_}) {
    struct stat st {};
    ASSERT_EQ(::stat(f.c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 65534u) << f;
    EXPECT_EQ(st.st_gid, 65534u) << f;
  }
  EXPECT_EQ(mode_of(key_), 0600u);
}

TEST_F(TlsFiles, BadHostNameIsRefused) {
  for (const char* host : {"", "bad host", "-x.example", "x-.example", "a..b", "x/y", "x\ny"}) {
    const auto e = generate_self_signed(dir_.file("c.pem"), dir_.file("k.pem"), self_signed_request(host, now_));
    ASSERT_TRUE(e) << host;
    EXPECT_EQ(e->problem, CertProblem::BadHostName) << host;
  }
  EXPECT_FALSE(generate_self_signed(dir_.file("c.pem"), dir_.file("k.pem"), self_signed_request("box-1.lan", now_)));
}

TEST_F(TlsFiles, MismatchedKeyIsRefusedNamingTheKeyFile) {
  const std::string cert2 = dir_.file("cert2.pem"), key2 = dir_.file("key2.pem");
  ASSERT_FALSE(generate_self_signed(cert2, key2, self_signed_request(kHost, now_)));
  const LoadResult r = load_certificate(cert_, key2, now_);
  ASSERT_TRUE(r.error);
  EXPECT_FALSE(r.certificate);
  EXPECT_EQ(r.error->problem, CertProblem::KeyMismatch);
  EXPECT_EQ(r.error->file, key2);
  EXPECT_EQ(r.error->text().rfind(key2 + ": ", 0), 0u) << r.error->text();
}

TEST_F(TlsFiles, ExpiredAndNotYetValidAreRefused) {
  SelfSignedRequest old = self_signed_request(kHost, now_);
  old.not_before = now_ - 2 * 365 * 86400;
  old.not_after = now_ - 86400;
  const std::string c = dir_.file("old.pem"), k = dir_.file("oldkey.pem");
  ASSERT_FALSE(generate_self_signed(c, k, old));
  LoadResult r = load_certificate(c, k, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::Expired);
  EXPECT_EQ(r.error->file, c);
  EXPECT_NE(r.error->text().find("notAfter"), std::string::npos) << r.error->text();
  // The same files were good at a time inside their validity.
  EXPECT_FALSE(load_certificate(c, k, now_ - 365 * 86400).error);

  r = load_certificate(cert_, key_, now_ - 86400);   // before notBefore (now - 1 hour)
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::NotYetValid);
}

TEST_F(TlsFiles, GarbageAndMissingFilesAreRefused) {
  const std::string junk = dir_.file("junk.pem");
  write_all(junk, "this is not a certificate\n");
  LoadResult r = load_certificate(junk, key_, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::NoCertificate);
  EXPECT_EQ(r.error->file, junk);

  write_all(junk, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  r = load_certificate(junk, key_, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::NoCertificate);

  r = load_certificate(cert_, junk, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::BadKey);
  EXPECT_EQ(r.error->file, junk);

  r = load_certificate(cert_, cert_, now_);   // a certificate where the key should be
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::BadKey);

  r = load_certificate(dir_.file("missing.pem"), key_, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::Unreadable);
  EXPECT_NE(r.error->text().find("No such file"), std::string::npos) << r.error->text();
}

TEST_F(TlsFiles, ChainMustRunLeafFirstEachSignedByTheNext) {
  Key ca_key, leaf_key;
  const std::string ca = issue(ca_key, "CN=Test CA", ca_key, "CN=Test CA", true);
  const std::string leaf = issue(leaf_key, "CN=mail.example", ca_key, "CN=Test CA", false);
  const std::string k = dir_.file("leafkey.pem");
  write_all(k, leaf_key.pem());

  const std::string good = dir_.file("good.pem");
  write_all(good, leaf + ca);
  LoadResult r = load_certificate(good, k, now_);
  ASSERT_FALSE(r.error) << r.error->text();
  EXPECT_EQ(r.certificate->chain_length(), 2u);
  EXPECT_FALSE(r.certificate->describe().self_signed);

  // Reversed: the first certificate is then the CA; the key is that of
  // the second one, so the chain is out of order (named as such).
  const std::string reversed = dir_.file("reversed.pem");
  write_all(reversed, ca + leaf);
  r = load_certificate(reversed, k, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::ChainOrder);
  EXPECT_EQ(r.error->file, reversed);
  EXPECT_NE(r.error->text().find("the key is that of certificate 2 of 2"), std::string::npos) << r.error->text();

  // Leaf first but followed by an unrelated certificate.
  const std::string unrelated = dir_.file("unrelated.pem");
  write_all(unrelated, leaf + read_all(cert_));
  r = load_certificate(unrelated, k, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::ChainOrder);
  EXPECT_EQ(r.error->file, unrelated);

  // Same issuer name, another key: the signature does not verify.
  Key impostor_key;
  const std::string impostor = issue(impostor_key, "CN=Test CA", impostor_key, "CN=Test CA", true);
  write_all(unrelated, leaf + impostor);
  r = load_certificate(unrelated, k, now_);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::ChainOrder);
}

TEST_F(TlsFiles, ReloadKeepsTheOldContextOnFailure) {
  ServerContextSlot slot(cert_, key_);
  EXPECT_FALSE(slot.current());
  ASSERT_FALSE(slot.reload(now_));
  const auto first = slot.current();
  ASSERT_TRUE(first);

  const std::string good_cert = read_all(cert_);
  EXPECT_FALSE(slot.last_error());
  write_all(cert_, "garbage");
  const auto e = slot.reload(now_);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->file, cert_);
  EXPECT_EQ(slot.current(), first);
  ASSERT_TRUE(slot.last_error());   // what the panel shows as refused
  EXPECT_EQ(slot.last_error()->text(), e->text());

  write_all(cert_, good_cert);
  ASSERT_FALSE(generate_self_signed(dir_.file("n.pem"), key_, self_signed_request(kHost, now_)));   // new key only
  EXPECT_EQ(slot.reload(now_)->problem, CertProblem::KeyMismatch);
  EXPECT_EQ(slot.current(), first);

  ASSERT_FALSE(generate_self_signed(cert_, key_, self_signed_request(kHost, now_)));
  EXPECT_FALSE(slot.reload(now_));
  EXPECT_FALSE(slot.last_error());
  EXPECT_NE(slot.current(), first);
  EXPECT_NE(slot.current()->certificate().describe().sha256_fingerprint,
            first->certificate().describe().sha256_fingerprint);
}

TEST_F(TlsFiles, DescribeGivesTheValidityAsUnixTimeAndText) {
  SelfSignedRequest req = self_signed_request(kHost, now_);
  req.not_before = 1700000000;   // 2023-11-14 22:13:20 UTC
  req.not_after = 4102444799;    // 2099-12-31 23:59:59 UTC
  ASSERT_FALSE(generate_self_signed(cert_, key_, req));
  const LoadResult r = load_certificate(cert_, key_, now_);
  ASSERT_FALSE(r.error) << r.error->text();
  const CertificateInfo info = r.certificate->describe();
  EXPECT_EQ(info.not_before_time, 1700000000);
  EXPECT_EQ(info.not_before, "2023-11-14 22:13:20 UTC");
  EXPECT_EQ(info.not_after_time, 4102444799);
  EXPECT_EQ(info.not_after, "2099-12-31 23:59:59 UTC");
  EXPECT_EQ(format_utc(0), "1970-01-01 00:00:00 UTC");
  EXPECT_EQ(format_utc(951782400), "2000-02-29 00:00:00 UTC");
  EXPECT_EQ(format_utc(-1), "1969-12-31 23:59:59 UTC");
  EXPECT_EQ(utc_seconds(2000, 2, 29, 0, 0, 0), 951782400);
  EXPECT_EQ(utc_seconds(1950, 1, 1, 0, 0, 0), -631152000);
}

// ---- uploads and installs (parse_certificate, install_pair, control/tls_commands) ----

// Test vectors made with openssl (passphrase "test"): the traditional
// encrypted EC key and the PKCS#8 one.
constexpr const char* kEncryptedEcKey =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "Proc-Type: 4,ENCRYPTED\n"
    "DEK-Info: AES-128-CBC,3F9E6569B34042F2F1FC79E5AEE7EEAE\n"
    "\n"
    "dt3HyvJ8ddfVMrwOQnK05o1DDHx47xQG+xeDaVDklmpY5T3PwKTHSWWQTYMVMOYE\n"
    "1i/HTPyyLdvP83i4vZzZsKGGcUCzyjCbgtLVU5fI07ctMLVF9x68O8peIti4ZtFa\n"
    "eLEEiKw+vFqMXp/DUTLSlruaxmgETy3rwJSHBS2r1o8=\n"
    "-----END EC PRIVATE KEY-----\n";
constexpr const char* kEncryptedPkcs8Key =
    "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAjbkJkLFDB/RAICCAAw\n"
    "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEABZMJqsbOnb0c/J1gFXbOYEgZCe\n"
    "ti/ccx9Uhi9AyRd5FXxvMlbRiDClgyk1eujZywSVGalFp9TE8s1iP67j9fQkNW9s\n"
    "Dix9QuNJixvMbfRfrvp+2upXJA3ctfEnJnizE15OSvqMag/ZgMvuIeo1nj2TYgbC\n"
    "68CR+hpa9Jv7D+uEwRcQZDy7a+tkjlKZuIhaPVx+oXD7u0tdPQTy1ZXITyTr0/g=\n"
    "-----END ENCRYPTED PRIVATE KEY-----\n";

TEST_F(TlsFiles, UploadsAreCheckedInMemoryNamingWhatIsWrong) {
  const std::string chain = read_all(cert_), key = read_all(key_);
  LoadResult r = parse_certificate(chain, key, now_, "the chain", "the key");
  ASSERT_FALSE(r.error) << r.error->text();
  EXPECT_EQ(r.certificate->describe().subject, "CN=mail.example");
  // CRLF line ends, as a browser's textarea sends them, are fine.
  std::string crlf_chain, crlf_key;
  for (char c : chain) crlf_chain += c == '\n' ? std::string("\r\n") : std::string(1, c);
  for (char c : key) crlf_key += c == '\n' ? std::string("\r\n") : std::string(1, c);
  EXPECT_FALSE(parse_certificate(crlf_chain, crlf_key, now_, "c", "k").error);

  for (const char* encrypted : {kEncryptedEcKey, kEncryptedPkcs8Key}) {
    r = parse_certificate(chain, encrypted, now_, "the chain", "the key");
    ASSERT_TRUE(r.error);
    EXPECT_EQ(r.error->problem, CertProblem::EncryptedKey);
    EXPECT_EQ(r.error->file, "the key");
    EXPECT_EQ(r.error->message().rfind("the private key is encrypted (", 0), 0u) << r.error->message();
  }
  // DER (binary) where PEM belongs.
  r = parse_certificate(std::string("\x30\x82\x01\x0a\x00", 5), key, now_, "the chain", "the key");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::NoCertificate);
  EXPECT_NE(r.error->message().find("binary data, not PEM text"), std::string::npos) << r.error->message();
  r = parse_certificate(chain, std::string("\x30\x77\x02\x01\x01", 5), now_, "the chain", "the key");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::BadKey);
  EXPECT_EQ(r.error->file, "the key");
  // A chain text holding the key would put it in the world-readable file.
  r = parse_certificate(chain + key, key, now_, "the chain", "the key");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::KeyInChain);
  EXPECT_EQ(r.error->file, "the chain");
  // The key of another certificate: named by the key's name, mentioning the chain's.
  const std::string c2 = dir_.file("c2.pem"), k2 = dir_.file("k2.pem");
  ASSERT_FALSE(generate_self_signed(c2, k2, self_signed_request(kHost, now_)));
  r = parse_certificate(chain, read_all(k2), now_, "the chain", "the key");
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->problem, CertProblem::KeyMismatch);
  EXPECT_EQ(r.error->text(),
            "the key: the private key does not match the certificate (not the key of the first certificate in the "
            "chain)");
  EXPECT_EQ(problem_word(CertProblem::KeyMismatch), "key-mismatch");
  EXPECT_EQ(problem_word(CertProblem::EncryptedKey), "encrypted-key");
}

TEST_F(TlsFiles, InstallPairReplacesBothAndLeavesNoStagedFile) {
  const std::string c2 = dir_.file("c2.pem"), k2 = dir_.file("k2.pem");
  ASSERT_FALSE(generate_self_signed(c2, k2, self_signed_request(kHost, now_)));
  const std::string chain = read_all(c2), key = read_all(k2);
  ASSERT_EQ(::chmod(key_.c_str(), 0640), 0);   // the install sets the mode it wants
  ASSERT_FALSE(install_pair(cert_, key_, chain, key));
  EXPECT_EQ(read_all(cert_), chain);
  EXPECT_EQ(read_all(key_), key);
  EXPECT_EQ(mode_of(key_), 0600u);
  EXPECT_EQ(mode_of(cert_), 0644u);
  EXPECT_FALSE(load_certificate(cert_, key_, now_).error);
  EXPECT_EQ(dir_.names().size(), 4u);   // cert, key, c2, k2: no .new left

  // A directory that does not exist: named, nothing left behind.
  const auto e = install_pair(dir_.file("nodir/cert.pem"), dir_.file("nodir/key.pem"), chain, key);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->problem, CertProblem::WriteFailed);
  EXPECT_EQ(e->file, dir_.file("nodir/key.pem"));
  EXPECT_NE(e->text().find("create " + dir_.file("nodir/key.pem.new")), std::string::npos) << e->text();
}

TEST_F(TlsFiles, AnInterruptedInstallIsUndoneBeforeItsCommit) {
  const std::string old_chain = read_all(cert_), old_key = read_all(key_);
  const std::string c2 = dir_.file("c2.pem"), k2 = dir_.file("k2.pem");
  ASSERT_FALSE(generate_self_signed(c2, k2, self_signed_request(kHost, now_)));
  // A crash after staging both, or after staging the key only.
  for (bool with_chain : {true, false}) {
    write_all(staged_path(key_), read_all(k2));
    if (with_chain) write_all(staged_path(cert_), read_all(c2));
    const Recovery r = finish_interrupted_install(cert_, key_, now_);
    EXPECT_FALSE(r.error) << r.error->text();
    EXPECT_NE(r.done.find("removed an unfinished certificate install"), std::string::npos) << r.done;
    EXPECT_EQ(read_all(cert_), old_chain);
    EXPECT_EQ(read_all(key_), old_key);
    EXPECT_EQ(dir_.names().size(), 4u) << with_chain;
  }
  // Nothing staged: nothing to do.
  const Recovery none = finish_interrupted_install(cert_, key_, now_);
  EXPECT_EQ(none.done, "");
  EXPECT_FALSE(none.error);
}

TEST_F(TlsFiles, AnInterruptedInstallIsFinishedAfterItsCommit) {
  const std::string c2 = dir_.file("c2.pem"), k2 = dir_.file("k2.pem");
  ASSERT_FALSE(generate_self_signed(c2, k2, self_signed_request(kHost, now_)));
  // The crash came between the two renames: the key is new, the chain old.
  write_all(key_, read_all(k2));
  write_all(staged_path(cert_), read_all(c2));
  ASSERT_EQ(load_certificate(cert_, key_, now_).error->problem, CertProblem::KeyMismatch);
  const Recovery r = finish_interrupted_install(cert_, key_, now_);
  ASSERT_FALSE(r.error) << r.error->text();
  EXPECT_NE(r.done.find("finished an interrupted certificate install"), std::string::npos) << r.done;
  EXPECT_EQ(read_all(cert_), read_all(c2));
  EXPECT_FALSE(load_certificate(cert_, key_, now_).error);
  EXPECT_EQ(dir_.names().size(), 4u);

  // A staged chain that is not the key's (not ours) is removed, never installed.
  const std::string before = read_all(cert_);
  ASSERT_FALSE(generate_self_signed(c2, k2, self_signed_request(kHost, now_)));
  write_all(staged_path(cert_), read_all(c2));
  const Recovery stray = finish_interrupted_install(cert_, key_, now_);
  ASSERT_TRUE(stray.error);
  EXPECT_NE(stray.error->text().find("removed, not installed"), std::string::npos) << stray.error->text();
  EXPECT_EQ(read_all(cert_), before);
  EXPECT_EQ(dir_.names().size(), 4u);
}

TEST_F(TlsFiles, ControlInstallValidatesThenReplacesFilesAndContext) {
  using boxmail::control::TlsUpload;
  ServerContextSlot slot(cert_, key_);
  ASSERT_FALSE(slot.reload(now_));
  const auto first = slot.current();
  const std::string old_chain = read_all(cert_), old_key = read_all(key_);
  auto unchanged = [&](const std::string& what) {
    EXPECT_EQ(slot.current(), first) << what;
    EXPECT_EQ(read_all(cert_), old_chain) << what;
    EXPECT_EQ(read_all(key_), old_key) << what;
    EXPECT_EQ(dir_.names().size(), 2u) << what;   // no staged file
  };
  boxmail::control::TlsReply shown = boxmail::control::tls_status(slot);
  EXPECT_EQ(shown.chain_file, cert_);
  EXPECT_EQ(shown.key_file, key_);
  ASSERT_TRUE(shown.certificate);
  EXPECT_TRUE(shown.certificate->self_signed);
  EXPECT_EQ(shown.chain_length, 1u);
  EXPECT_EQ(shown.refused, "");

  Key ca_key, leaf_key, other_key;
  const std::string ca = issue(ca_key, "CN=Test CA", ca_key, "CN=Test CA", true);
  const std::string leaf = issue(leaf_key, "CN=mail.example", ca_key, "CN=Test CA", false);
  struct Refusal {
    std::string chain, key, part, problem;
  } refusals[] = {
      {leaf + ca, other_key.pem(), "key", "key-mismatch"},
      {ca + leaf, leaf_key.pem(), "chain", "chain-order"},
      {"garbage\n", leaf_key.pem(), "chain", "no-certificate"},
      {leaf + ca, "garbage\n", "key", "bad-key"},
      {leaf + ca, kEncryptedEcKey, "key", "encrypted-key"},
      {leaf + ca + leaf_key.pem(), leaf_key.pem(), "chain", "key-in-chain"},
  };
  for (const Refusal& f : refusals) {
    const auto r = boxmail::control::tls_install(slot, TlsUpload{f.chain, f.key}, now_);
    EXPECT_FALSE(r.done) << f.problem;
    EXPECT_EQ(r.part, f.part) << f.problem << ": " << r.message;
    EXPECT_EQ(r.problem, f.problem) << r.message;
    unchanged(f.problem);
  }
  // Expired (and the message says when).
  SelfSignedRequest old = self_signed_request(kHost, now_);
  old.not_before = now_ - 2 * 365 * 86400;
  old.not_after = now_ - 86400;
  const std::string oc = dir_.file("old.pem"), ok = dir_.file("oldkey.pem");
  ASSERT_FALSE(generate_self_signed(oc, ok, old));
  const std::string expired_chain = read_all(oc), expired_key = read_all(ok);
  ASSERT_EQ(::unlink(oc.c_str()), 0);
  ASSERT_EQ(::unlink(ok.c_str()), 0);
  auto r = boxmail::control::tls_install(slot, TlsUpload{expired_chain, expired_key}, now_);
  EXPECT_EQ(r.problem, "expired");
  EXPECT_EQ(r.part, "chain");
  EXPECT_EQ(r.message.rfind("expired (certificate 1 of 1, notAfter ", 0), 0u) << r.message;
  unchanged("expired");

  // A good chain: written as it came, key 0600, served at once.
  r = boxmail::control::tls_install(slot, TlsUpload{leaf + ca, leaf_key.pem()}, now_);
  ASSERT_TRUE(r.done) << r.message;
  EXPECT_EQ(r.message, "installed");
  ASSERT_TRUE(r.tls.certificate);
  EXPECT_EQ(r.tls.certificate->subject, "CN=mail.example");
  EXPECT_EQ(r.tls.certificate->issuer, "CN=Test CA");
  EXPECT_EQ(r.tls.chain_length, 2u);
  EXPECT_NE(slot.current(), first);
  EXPECT_EQ(slot.current()->certificate().describe().sha256_fingerprint, r.tls.certificate->sha256_fingerprint);
  EXPECT_EQ(read_all(cert_), leaf + ca);
  EXPECT_EQ(read_all(key_), leaf_key.pem());
  EXPECT_EQ(mode_of(key_), 0600u);
  EXPECT_EQ(dir_.names().size(), 2u);
  EXPECT_FALSE(load_certificate(cert_, key_, now_).error);   // what the next start loads

  // A SIGHUP that finds broken files keeps the installed one and says so.
  const auto installed = slot.current();
  write_all(cert_, "garbage");
  boxmail::control::reload_certificate(slot, kHost, now_);
  EXPECT_EQ(slot.current(), installed);
  shown = boxmail::control::tls_status(slot);
  EXPECT_TRUE(shown.pending());
  EXPECT_NE(shown.refused.find(cert_ + ": no valid PEM certificate"), std::string::npos) << shown.refused;

  // Regenerate: a new self-signed certificate for the host, and nothing pending.
  r = boxmail::control::tls_regenerate(slot, "mx.example.net", now_);
  ASSERT_TRUE(r.done) << r.message;
  EXPECT_EQ(r.message, "regenerated");
  EXPECT_TRUE(r.tls.certificate->self_signed);
  EXPECT_EQ(r.tls.certificate->subject, "CN=mx.example.net");
  EXPECT_EQ(r.tls.certificate->dns_names, std::vector<std::string>{"mx.example.net"});
  EXPECT_EQ(r.tls.refused, "");
  EXPECT_NE(slot.current(), installed);
  EXPECT_EQ(mode_of(key_), 0600u);
  EXPECT_FALSE(load_certificate(cert_, key_, now_).error);
  r = boxmail::control::tls_regenerate(slot, "not a host", now_);
  EXPECT_FALSE(r.done);
  EXPECT_EQ(r.problem, "bad-host-name");
}

TEST_F(TlsFiles, StartFinishesAnInterruptedInstallBeforeLoading) {
  const std::string c2 = dir_.file("c2.pem"), k2 = dir_.file("k2.pem");
  ASSERT_FALSE(generate_self_signed(c2, k2, self_signed_request(kHost, now_)));
  write_all(key_, read_all(k2));   // committed, chain not renamed yet
  write_all(staged_path(cert_), read_all(c2));
  ServerContextSlot slot(cert_, key_);
  boxmail::control::start_certificate(slot, kHost, now_);
  ASSERT_TRUE(slot.current());
  EXPECT_FALSE(slot.last_error());
  EXPECT_EQ(read_all(cert_), read_all(c2));
}

// ---- handshakes over a socketpair ---------------------------------------

/// An mbedTLS client over one end of a non-blocking socketpair.
struct Client {
  mbedtls_ssl_config conf;
  mbedtls_ssl_context ssl;
  std::vector<int> suites;
  int fd;

  static int send_cb(void* p, const unsigned char* buf, std::size_t len) {
    const ssize_t n = ::send(*static_cast<int*>(p), buf, len, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_WRITE : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  }
  static int recv_cb(void* p, unsigned char* buf, std::size_t len) {
    const ssize_t n = ::recv(*static_cast<int*>(p), buf, len, 0);
    if (n >= 0) return static_cast<int>(n);
    return errno == EAGAIN ? MBEDTLS_ERR_SSL_WANT_READ : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  }

  Client(int socket, const Certificate& trust, std::vector<int> offer = {}, int max_minor = 3) : fd(socket) {
    mbedtls_ssl_config_init(&conf);
    mbedtls_ssl_init(&ssl);
    EXPECT_EQ(mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT), 0);
    mbedtls_ssl_conf_rng(&conf, test_rng, nullptr);
    mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&conf, trust.chain(), nullptr);
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_1);
    mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, max_minor);
    if (!offer.empty()) {
      suites = std::move(offer);
      suites.push_back(0);
      mbedtls_ssl_conf_ciphersuites(&conf, suites.data());
    }
    EXPECT_EQ(mbedtls_ssl_setup(&ssl, &conf), 0);
    EXPECT_EQ(mbedtls_ssl_set_hostname(&ssl, kHost), 0);
    mbedtls_ssl_set_bio(&ssl, &fd, send_cb, recv_cb, nullptr);
  }
  ~Client() {
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
  }
};

struct SocketPair {
  int fd[2] = {-1, -1};
  SocketPair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd), 0); }
  ~SocketPair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
};

/// Runs both handshakes in turns until both end. Returns the server's
/// last result and the client's last return code.
std::pair<IoResult, int> handshake(TlsStream& server, Client& client) {
  IoResult s = server.handshake_step();
  int c = mbedtls_ssl_handshake(&client.ssl);
  for (int i = 0; i < 100 && !(s.done() && c == 0); ++i) {
    if (s.status == IoResult::Status::Error) break;
    if (c != 0 && c != MBEDTLS_ERR_SSL_WANT_READ && c != MBEDTLS_ERR_SSL_WANT_WRITE) {
      s = server.handshake_step();   // let the server see the client's alert
      break;
    }
    if (!s.done()) s = server.handshake_step();
    if (c != 0) c = mbedtls_ssl_handshake(&client.ssl);
  }
  return {s, c};
}

class TlsSession : public TlsFiles {
 protected:
  void SetUp() override {
    TlsFiles::SetUp();
    LoadResult r = load_certificate(cert_, key_, now_);
    ASSERT_FALSE(r.error);
    cert_obj_ = r.certificate;
    context_ = ServerContext::create(cert_obj_);
  }
  std::shared_ptr<const Certificate> cert_obj_;
  std::shared_ptr<const ServerContext> context_;
};

TEST_F(TlsSession, HandshakeAndEchoNonBlocking) {
  SocketPair sp;
  TlsStream server(context_, sp.fd[0]);
  Client client(sp.fd[1], *cert_obj_);
  EXPECT_FALSE(server.established());
  EXPECT_EQ(server.version(), "");

  // Nothing from the client yet: the server must not block.
  const IoResult first = server.handshake_step();
  EXPECT_TRUE(first.want_read()) << first.error;

  const auto [s, c] = handshake(server, client);
  ASSERT_TRUE(s.done()) << s.error;
  ASSERT_EQ(c, 0) << mbedtls_error_text(c);
  EXPECT_EQ(mbedtls_ssl_get_verify_result(&client.ssl), 0u);   // the client trusted our certificate for kHost
  EXPECT_EQ(server.version(), "TLSv1.2");
  const std::string suite = server.ciphersuite();
  EXPECT_EQ(suite.rfind("TLS-ECDHE-ECDSA-WITH-", 0), 0u) << suite;
  EXPECT_TRUE(suite.find("GCM") != std::string::npos || suite.find("CHACHA20-POLY1305") != std::string::npos)
      << suite;
  EXPECT_EQ(std::string(mbedtls_ssl_get_ciphersuite(&client.ssl)), suite);

  // Nothing sent yet: the read wants the socket, it does not block.
  char buf[256];
  EXPECT_TRUE(server.read(buf, sizeof buf).want_read());

  const std::string hello = "EHLO client.example\r\n";
  ASSERT_EQ(mbedtls_ssl_write(&client.ssl, reinterpret_cast<const unsigned char*>(hello.data()), hello.size()),
            static_cast<int>(hello.size()));
  IoResult r = server.read(buf, 4);   // a short read leaves the rest buffered
  ASSERT_TRUE(r.done()) << r.error;
  EXPECT_EQ(r.bytes, 4u);
  EXPECT_EQ(server.pending(), hello.size() - 4);
  std::string got(buf, 4);
  r = server.read(buf, sizeof buf);
  ASSERT_TRUE(r.done());
  got.append(buf, r.bytes);
  EXPECT_EQ(got, hello);
  EXPECT_EQ(server.pending(), 0u);

  r = server.write(got.data(), got.size());
  ASSERT_TRUE(r.done()) << r.error;
  EXPECT_EQ(r.bytes, got.size());
  unsigned char cbuf[256];
  const int n = mbedtls_ssl_read(&client.ssl, cbuf, sizeof cbuf);
  ASSERT_EQ(n, static_cast<int>(got.size()));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(cbuf), static_cast<std::size_t>(n)), hello);

  // The server says goodbye; the client sees close_notify.
  EXPECT_TRUE(server.close_notify().done());
  EXPECT_EQ(mbedtls_ssl_read(&client.ssl, cbuf, sizeof cbuf), MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
}

TEST_F(TlsFiles, RsaChainServesAnEcdheRsaAeadSuite) {
  // An administrator's RSA leaf under an RSA CA, the chain in order.
  Key ca_key(true), leaf_key(true);
  const std::string chain = dir_.file("rsa-chain.pem"), k = dir_.file("rsa-key.pem");
  write_all(chain, issue(leaf_key, "CN=mail.example", ca_key, "CN=RSA CA", false) +
                       issue(ca_key, "CN=RSA CA", ca_key, "CN=RSA CA", true));
  write_all(k, leaf_key.pem());
  const LoadResult r = load_certificate(chain, k, now_);
  ASSERT_FALSE(r.error) << r.error->text();
  const auto ctx = ServerContext::create(r.certificate);
  SocketPair sp;
  TlsStream server(ctx, sp.fd[0]);
  mbedtls_x509_crt* ca = r.certificate->chain()->next;   // the client trusts the CA
  Client client(sp.fd[1], *r.certificate);
  mbedtls_ssl_conf_ca_chain(&client.conf, ca, nullptr);
  const auto [s, c] = handshake(server, client);
  ASSERT_TRUE(s.done()) << s.error;
  ASSERT_EQ(c, 0) << mbedtls_error_text(c);
  EXPECT_EQ(mbedtls_ssl_get_verify_result(&client.ssl), 0u);
  EXPECT_EQ(server.ciphersuite().rfind("TLS-ECDHE-RSA-WITH-", 0), 0u) << server.ciphersuite();
}

TEST_F(TlsSession, LargeTransferThroughAFullSocketBuffer) {
  SocketPair sp;
  const int small = 4096;
  ASSERT_EQ(::setsockopt(sp.fd[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  TlsStream server(context_, sp.fd[0]);
  Client client(sp.fd[1], *cert_obj_);
  ASSERT_TRUE(handshake(server, client).first.done());

  std::string data(300000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  std::string received;
  std::size_t sent = 0;
  bool saw_want_write = false;
  for (int rounds = 0; received.size() < data.size() && rounds < 100000; ++rounds) {
    if (sent < data.size()) {
      const IoResult w = server.write(data.data() + sent, data.size() - sent);
      ASSERT_NE(w.status, IoResult::Status::Error) << w.error;
      if (w.want_write()) saw_want_write = true;   // call again with the same data later
      if (w.done()) sent += w.bytes;
    }
    unsigned char buf[8192];
    const int n = mbedtls_ssl_read(&client.ssl, buf, sizeof buf);
    if (n > 0) received.append(reinterpret_cast<char*>(buf), static_cast<std::size_t>(n));
    else ASSERT_TRUE(n == MBEDTLS_ERR_SSL_WANT_READ) << mbedtls_error_text(n);
  }
  EXPECT_TRUE(saw_want_write);
  EXPECT_EQ(received, data);
}

TEST_F(TlsSession, PeerCloseIsReportedAsClosed) {
  SocketPair sp;
  TlsStream server(context_, sp.fd[0]);
  Client client(sp.fd[1], *cert_obj_);
  ASSERT_TRUE(handshake(server, client).first.done());
  ASSERT_EQ(mbedtls_ssl_close_notify(&client.ssl), 0);
  char buf[16];
  EXPECT_EQ(server.read(buf, sizeof buf).status, IoResult::Status::Closed);

  SocketPair sp2;
  TlsStream server2(context_, sp2.fd[0]);
  {
    Client client2(sp2.fd[1], *cert_obj_);
    ASSERT_TRUE(handshake(server2, client2).first.done());
  }
  ::shutdown(sp2.fd[1], SHUT_RDWR);   // gone without close_notify
  EXPECT_EQ(server2.read(buf, sizeof buf).status, IoResult::Status::Closed);
}

TEST_F(TlsSession, WeakClientOffersAreRefused) {
  const std::vector<std::vector<int>> offers = {
      {MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA},   // CBC
      {MBEDTLS_TLS_RSA_WITH_AES_128_GCM_SHA256, MBEDTLS_TLS_DHE_RSA_WITH_AES_128_GCM_SHA256},           // no ECDHE
      {MBEDTLS_TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256},                                                 // static ECDH
  };
  for (const auto& offer : offers) {
    SocketPair sp;
    TlsStream server(context_, sp.fd[0]);
    Client client(sp.fd[1], *cert_obj_, offer);
    const auto [s, c] = handshake(server, client);
    EXPECT_EQ(s.status, IoResult::Status::Error) << offer.front();
    EXPECT_FALSE(s.error.empty());
    EXPECT_NE(c, 0);
    EXPECT_FALSE(server.established());
  }
  // TLS 1.1 at most: refused too (1.2 is the minimum).
  SocketPair sp;
  TlsStream server(context_, sp.fd[0]);
  Client client(sp.fd[1], *cert_obj_, {}, MBEDTLS_SSL_MINOR_VERSION_2);
  EXPECT_EQ(handshake(server, client).first.status, IoResult::Status::Error);
}

TEST_F(TlsSession, PlaintextClientFailsTheHandshake) {
  SocketPair sp;
  TlsStream server(context_, sp.fd[0]);
  const std::string line = "EHLO client.example\r\n";
  ASSERT_EQ(::send(sp.fd[1], line.data(), line.size(), 0), static_cast<ssize_t>(line.size()));
  const IoResult r = server.handshake_step();
  EXPECT_EQ(r.status, IoResult::Status::Error);
  EXPECT_NE(r.error.find("TLS handshake"), std::string::npos) << r.error;

  SocketPair sp2;
  TlsStream server2(context_, sp2.fd[0]);
  ::shutdown(sp2.fd[1], SHUT_WR);   // connects and leaves
  const IoResult r2 = server2.handshake_step();
  EXPECT_EQ(r2.status, IoResult::Status::Error);
}

TEST_F(TlsSession, OfferedSuitesAreEcdheAeadOnly) {
  ASSERT_FALSE(server_ciphersuites().empty());
  for (int id : server_ciphersuites()) {
    const std::string name = mbedtls_ssl_get_ciphersuite_name(id);
    EXPECT_EQ(name.rfind("TLS-ECDHE-", 0), 0u) << name;
    EXPECT_TRUE(name.find("-GCM-") != std::string::npos || name.find("CHACHA20-POLY1305") != std::string::npos)
        << name;
  }
}

// ---- memory per idle session ------------------------------------------------

long rss_kib() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

TEST_F(TlsSession, IdleSessionCostsAtMost64KiB) {
  // N server sessions after their handshakes, the clients freed: the heap
  // growth (mallinfo2 in-use octets) divided by N is what one idle session
  // costs; RSS growth is printed beside it. The handshake's high-water
  // mark: the server's own allocations are those made inside its calls
  // (the client runs between them), summed after each step.
  constexpr int kSessions = 64;
  std::vector<std::unique_ptr<SocketPair>> pairs;
  std::vector<std::unique_ptr<TlsStream>> servers;
  for (int i = 0; i < kSessions; ++i) pairs.push_back(std::make_unique<SocketPair>());
  ::malloc_trim(0);
  const std::size_t heap_before = mallinfo2().uordblks;
  const long rss_before = rss_kib();
  long long handshake_peak = 0;
  for (int i = 0; i < kSessions; ++i) {
    long long live = 0;
    auto server_call = [&](auto&& f) {
      const auto before = static_cast<long long>(mallinfo2().uordblks);
      auto r = f();
      live += static_cast<long long>(mallinfo2().uordblks) - before;
      if (live > handshake_peak) handshake_peak = live;
      return r;
    };
    servers.push_back(server_call([&] { return std::make_unique<TlsStream>(context_, pairs[i]->fd[0]); }));
    Client client(pairs[i]->fd[1], *cert_obj_);
    TlsStream& server = *servers.back();
    IoResult s = server_call([&] { return server.handshake_step(); });
    int c = MBEDTLS_ERR_SSL_WANT_READ;
    for (int k = 0; k < 100 && !(s.done() && c == 0); ++k) {
      if (c != 0) c = mbedtls_ssl_handshake(&client.ssl);
      if (!s.done()) s = server_call([&] { return server.handshake_step(); });
    }
    ASSERT_TRUE(s.done()) << s.error;
    ASSERT_EQ(c, 0);
  }
  ::malloc_trim(0);
  const std::size_t heap_after = mallinfo2().uordblks;
  const long rss_after = rss_kib();
  const double per_session = static_cast<double>(heap_after - heap_before) / kSessions;
  const double rss_per_session = static_cast<double>(rss_after - rss_before) / kSessions;
  std::cout << "idle TLS session (server side, mbedTLS " << MBEDTLS_VERSION_STRING << ", record buffers "
            << MBEDTLS_SSL_IN_BUFFER_LEN << " in + " << MBEDTLS_SSL_OUT_BUFFER_LEN << " out octets, "
            << "mbedtls_ssl_context " << sizeof(mbedtls_ssl_context) << " octets): heap " << per_session / 1024
            << " KiB, RSS " << rss_per_session << " KiB per session; handshake high-water "
            << static_cast<double>(handshake_peak) / 1024 << " KiB\n";
  RecordProperty("heap_bytes_per_idle_session", static_cast<int>(per_session));
  EXPECT_LE(per_session, 64 * 1024);
}

}  // namespace
