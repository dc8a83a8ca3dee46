/* mbedtls-config.h - boxmail's mbedTLS 2.28 configuration for the static
 * (appliance) builds: `make cross ARCH=...` and `make static`.
 *
 * cross/build-mbedtls.sh compiles Debian's mbedTLS source package with
 * -DMBEDTLS_CONFIG_FILE pointing at (a copy of) this file, and CMake
 * (BOXMAIL_MBEDTLS_PREFIX) compiles boxmail with the same definition, so the
 * structures boxmail allocates (mbedtls_ssl_context, mbedtls_ssl_config, ...)
 * have the library's layout. The host build (build/) keeps Debian's shared
 * library and its config.h; this file is not used there.
 *
 * What is in (docs/tls.md, "Cipher suites and groups"): TLS 1.2 server and
 * client; ECDHE-ECDSA and ECDHE-RSA with AES-GCM and ChaCha20-Poly1305; the
 * groups X25519, P-256 and P-384; RSA (PKCS#1 v1.5 and PSS) and ECDSA
 * certificates; X.509 parse and write (certificates only), PEM, the process
 * CTR_DRBG fed by getrandom(2). What is out: SSL 3, TLS 1.0/1.1, DTLS,
 * renegotiation, session tickets and cache, every CBC, stream or legacy
 * cipher, static RSA/ECDH/DHE/PSK key exchanges, CRL and CSR, PSA crypto,
 * file-system helpers, the debug and self-test code.
 *
 * Each #define below is a decision; options not listed are off. mbedTLS's
 * check_config.h (included at the end) refuses inconsistent combinations.
 * Keep the list in step with what src/ calls: a function missing from the
 * build is a link error in boxmail_unit_tests, not a silent change.
 */
#ifndef BOXMAIL_MBEDTLS_CONFIG_H
#define BOXMAIL_MBEDTLS_CONFIG_H

/* ---- system --------------------------------------------------------------- */
#define MBEDTLS_HAVE_ASM        /* bignum multiply in assembly (aarch64, arm, x86-64) */
#define MBEDTLS_HAVE_TIME       /* time() for the handshake */
#define MBEDTLS_HAVE_TIME_DATE  /* certificate validity against the clock (clients verify) */
/* As Debian builds it: mutexes in the RSA context, whose blinding values
 * change on each private-key operation of the one shared key. */
#define MBEDTLS_THREADING_C
#define MBEDTLS_THREADING_PTHREAD

/* ---- random numbers ----------------------------------------------------------- */
/* The platform entropy source is getrandom(2) (/dev/urandom before Linux 3.17). */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_CTR_DRBG_C      /* src/tls/random.cpp, the TLS random source */
/* RFC 6979 signatures: an ECDSA nonce never depends on the RNG alone. */
#define MBEDTLS_ECDSA_DETERMINISTIC
#define MBEDTLS_HMAC_DRBG_C

/* ---- hashes and MACs ------------------------------------------------------------ */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C        /* SHA-224/256: signatures, PRF, fingerprints, HMAC in src/tls/digest.cpp */
#define MBEDTLS_SHA512_C        /* SHA-384/512: the *_SHA384 suites, P-384 certificates */
/* SHA-1: mbedtls_x509write_crt_set_subject_key_identifier (the self-signed
 * certificate's SKI, RFC 5280 4.2.1.2 method 1) exists only with it, and it
 * keeps older chains (a SHA-1-signed root or cross-certificate sent along
 * by an administrator) parsing. TLS 1.2 does not offer it for signatures
 * by default (MBEDTLS_TLS_DEFAULT_ALLOW_SHA1_IN_KEY_EXCHANGE is off). */
#define MBEDTLS_SHA1_C

/* ---- ciphers: AEAD only ---------------------------------------------------------- */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_AES_C
#define MBEDTLS_AESNI_C         /* x86-64 AES-NI for `make static`; empty on ARM */
#define MBEDTLS_GCM_C
#define MBEDTLS_CHACHA20_C
#define MBEDTLS_POLY1305_C
#define MBEDTLS_CHACHAPOLY_C

/* ---- public keys ---------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_GENPRIME        /* mbedtls_rsa_gen_key (the unit tests' RSA chain); dropped by --gc-sections elsewhere */
#define MBEDTLS_RSA_C
#define MBEDTLS_PKCS1_V15       /* ECDHE-RSA signatures, RSA certificates */
#define MBEDTLS_PKCS1_V21       /* RSASSA-PSS certificate signatures */
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP256R1_ENABLED
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_DP_CURVE25519_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM  /* fast reduction for the NIST curves */
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECDH_LEGACY_CONTEXT   /* the 2.28 default context layout */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C      /* PEM/DER keys: PKCS#1, SEC1, unencrypted PKCS#8 */
#define MBEDTLS_PK_WRITE_C      /* the generated key (mbedtls_pk_write_key_pem) */

/* ---- ASN.1, PEM, X.509 ---------------------------------------------------------- */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C
#define MBEDTLS_OID_C
#define MBEDTLS_BASE64_C
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_PEM_WRITE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_RSASSA_PSS_SUPPORT
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C  /* the self-signed certificate */

/* ---- TLS ----------------------------------------------------------------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_CLI_C       /* the unit tests' client; dropped by --gc-sections in the daemon */
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_KEY_EXCHANGE_ECDHE_RSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET   /* RFC 7627 */
#define MBEDTLS_SSL_SERVER_NAME_INDICATION   /* RFC 6066 3 */
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE    /* the 2.28 default (only clients have a peer certificate) */
#define MBEDTLS_SSL_ALL_ALERT_MESSAGES
/* Record buffers (docs/tls.md, "Memory per idle session"). Clients may
 * send full 16 KiB records, so the input side stays at the maximum. The
 * output side is the server's choice: application data is cut into
 * records of at most 8 KiB, and every handshake message must fit, so the
 * Certificate message (the whole chain, 3 octets per certificate plus 7)
 * is limited to 8 KiB; mbedTLS fails the handshake otherwise
 * (MBEDTLS_ERR_SSL_CERTIFICATE_TOO_LARGE). */
#define MBEDTLS_SSL_IN_CONTENT_LEN  16384
#define MBEDTLS_SSL_OUT_CONTENT_LEN 8192

/* ---- messages ------------------------------------------------------------------ */
#define MBEDTLS_ERROR_C         /* mbedtls_strerror: readable errors in the log */

#include "mbedtls/check_config.h"

#endif /* BOXMAIL_MBEDTLS_CONFIG_H */
