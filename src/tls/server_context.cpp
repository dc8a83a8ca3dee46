// server_context.cpp - see server_context.hpp.
#include "tls/server_context.hpp"

#include "tls/random.hpp"

#include <mbedtls/ecp.h>
#include <mbedtls/ssl_ciphersuites.h>

#include <exception>
#include <stdexcept>

namespace boxmail::tls {
namespace {

// Static storage: mbedtls_ssl_conf_* keep these pointers.
constexpr int kCiphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    0,
};

constexpr mbedtls_ecp_group_id kGroups[] = {
    MBEDTLS_ECP_DP_CURVE25519,
    MBEDTLS_ECP_DP_SECP256R1,
    MBEDTLS_ECP_DP_SECP384R1,
    MBEDTLS_ECP_DP_NONE,
};

int rng(void*, unsigned char* out, std::size_t n) {
  try {
    random_bytes(out, n);
    return 0;
  } catch (const std::exception&) {
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
  }
}

}  // namespace

void apply_policy(mbedtls_ssl_config* conf) {
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(conf, kCiphersuites);
  mbedtls_ssl_conf_curves(conf, kGroups);
  mbedtls_ssl_conf_rng(conf, rng, nullptr);
#if defined(MBEDTLS_SSL_RENEGOTIATION)
  mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif   // else built without it (the static builds' cross/mbedtls-config.h): nothing to refuse
}

const std::vector<int>& server_ciphersuites() {
  static const std::vector<int> suites(std::begin(kCiphersuites), std::end(kCiphersuites) - 1);
  return suites;
}

ServerContext::ServerContext(std::shared_ptr<const Certificate> certificate) : certificate_(std::move(certificate)) {
  mbedtls_ssl_config_init(&config_);
}

ServerContext::~ServerContext() { mbedtls_ssl_config_free(&config_); }

std::shared_ptr<const ServerContext> ServerContext::create(std::shared_ptr<const Certificate> certificate) {
  if (!certificate) throw std::invalid_argument("ServerContext: no certificate");
  std::shared_ptr<ServerContext> ctx(new ServerContext(std::move(certificate)));
  mbedtls_ssl_config* conf = &ctx->config_;
  int rc = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                       MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) throw std::runtime_error("mbedtls_ssl_config_defaults: " + mbedtls_error_text(rc));
  apply_policy(conf);
  mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
  rc = mbedtls_ssl_conf_own_cert(conf, ctx->certificate_->chain(), ctx->certificate_->key());
  if (rc != 0) throw std::runtime_error("mbedtls_ssl_conf_own_cert: " + mbedtls_error_text(rc));
  return ctx;
}

std::optional<CertError> ServerContextSlot::reload(std::time_t now) {
  LoadResult loaded = load_certificate(chain_file_, key_file_, now);
  last_error_ = loaded.error;
  if (loaded.error) return loaded.error;
  current_ = ServerContext::create(std::move(loaded.certificate));
  return std::nullopt;
}

void ServerContextSlot::install(std::shared_ptr<const Certificate> certificate) {
  current_ = ServerContext::create(std::move(certificate));
  last_error_.reset();
}

}  // namespace boxmail::tls
