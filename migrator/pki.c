#include <config.h>

#include "migrator/pki.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "stream-ssl.h"
#include "util.h"

/* The last OpenSSL error, after 'what'. */
static char *
ssl_error(const char *what)
{
    char buf[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return xasprintf("%s: %s", what, e ? buf : "unknown OpenSSL error");
}

static char *
path(const char *dir, const char *name, const char *suffix)
{
    return xasprintf("%s/%s%s", dir, name, suffix);
}

/* Writes 'key' to a new file 'file', readable by its owner only. */
static char *
write_key(const char *file, EVP_PKEY *key)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        return xasprintf("%s: %s", file, ovs_strerror(errno));
    }
    FILE *f = fdopen(fd, "w");
    bool ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    if ((f ? fclose(f) : close(fd)) || !ok) {
        unlink(file);
        return ssl_error(file);
    }
    return NULL;
}

static char *
write_cert(const char *file, X509 *cert)
{
    FILE *f = fopen(file, "w");
    bool ok = f && PEM_write_X509(f, cert);
    if ((f && fclose(f)) || !ok) {
        return ssl_error(file);
    }
    return NULL;
}

static bool
add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext && X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* A certificate for 'name' and 'key', valid for 'days', signed by
 * 'ca_key' as 'ca' (or self-signed as a CA if 'ca' is NULL). */
static X509 *
make_cert(const char *name, EVP_PKEY *key, X509 *ca, EVP_PKEY *ca_key,
          int days)
{
    X509 *cert = X509_new();
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    bool ok = (cert && X509_set_version(cert, 2)
               && RAND_bytes(serial, sizeof serial) == 1
               && (bn = BN_bin2bn(serial, sizeof serial, NULL))
               && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert))
               && X509_gmtime_adj(X509_getm_notBefore(cert), -3600)
               && X509_gmtime_adj(X509_getm_notAfter(cert),
                                  (long) days * 86400)
               && X509_set_pubkey(cert, key));
    BN_free(bn);
    X509_NAME *subject = ok ? X509_get_subject_name(cert) : NULL;
    ok = ok && X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                                          (const unsigned char *) "vmroam",
                                          -1, -1, 0)
         && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                       (const unsigned char *) name, -1, -1,
                                       0)
         && X509_set_issuer_name(cert, ca ? X509_get_subject_name(ca)
                                 : subject);
    X509 *issuer = ca ? ca : cert;
    if (ok && !ca) {
        ok = (add_ext(cert, issuer, NID_basic_constraints,
                      "critical,CA:TRUE")
              && add_ext(cert, issuer, NID_key_usage,
                         "critical,keyCertSign,cRLSign")
              && add_ext(cert, issuer, NID_subject_key_identifier, "hash"));
    } else if (ok) {
        char *san = xasprintf("DNS:%s", name);
        ok = (add_ext(cert, issuer, NID_basic_constraints, "CA:FALSE")
              && add_ext(cert, issuer, NID_key_usage,
                         "critical,digitalSignature,keyEncipherment")
              && add_ext(cert, issuer, NID_ext_key_usage,
                         "serverAuth,clientAuth")
              && add_ext(cert, issuer, NID_subject_alt_name, san)
              && add_ext(cert, issuer, NID_authority_key_identifier,
                         "keyid"));
        free(san);
    }
    if (!ok || !X509_sign(cert, ca_key, EVP_sha256())) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static bool
valid_name(const char *name)
{
    return *name && strspn(name, "abcdefghijklmnopqrstuvwxyz"
                           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_")
                    == strlen(name);
}

/* Creates 'dir' and its missing parents (the new ones 0700). */
static int
make_dirs(const char *dir)
{
    char *p = xstrdup(dir);
    int error = 0;
    for (char *slash = strchr(p + 1, '/'); !error;
         slash = strchr(slash + 1, '/')) {
        if (slash) {
            *slash = '\0';
        }
        if (mkdir(p, 0700) && errno != EEXIST) {
            error = errno;
        }
        if (!slash) {
            break;
        }
        *slash = '/';
    }
    free(p);
    return error;
}

/* Makes a CA valid for 'days' in 'dir' (created if needed), unless one is
 * there already. */
char *
migr_pki_init(const char *dir, int days)
{
    char *key_file = path(dir, "cakey", ".pem");
    char *cert_file = path(dir, "cacert", ".pem");
    char *error = NULL;
    EVP_PKEY *key = NULL;
    X509 *cert = NULL;

    int dir_error = make_dirs(dir);
    if (dir_error) {
        error = xasprintf("%s: %s", dir, ovs_strerror(dir_error));
    } else if (!access(cert_file, F_OK)) {
        error = xasprintf("%s exists already: this directory has a CA",
                          cert_file);
    } else if (!(key = EVP_EC_gen("P-256"))) {
        error = ssl_error("CA key");
    } else if (!(cert = make_cert("vmroam CA", key, NULL, key, days))) {
        error = ssl_error("CA certificate");
    } else if (!(error = write_key(key_file, key))) {
        error = write_cert(cert_file, cert);
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    free(key_file);
    free(cert_file);
    return error;
}

/* Reads the CA's key and certificate from 'dir'. */
static char *
load_ca(const char *dir, EVP_PKEY **key, X509 **cert)
{
    char *key_file = path(dir, "cakey", ".pem");
    char *cert_file = path(dir, "cacert", ".pem");
    FILE *kf = fopen(key_file, "r");
    FILE *cf = kf ? fopen(cert_file, "r") : NULL;
    char *error = NULL;
    *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    *cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    if (!kf || !cf) {
        error = xasprintf("%s: %s (run \"vmroam pki init\" first)",
                          kf ? cert_file : key_file, ovs_strerror(errno));
    } else if (!*key || !*cert) {
        error = ssl_error(*key ? cert_file : key_file);
    }
    if (kf) {
        fclose(kf);
    }
    if (cf) {
        fclose(cf);
    }
    free(key_file);
    free(cert_file);
    return error;
}

/* Makes a key and a certificate for host 'name', valid for 'days' and
 * signed by the CA in 'dir'. */
char *
migr_pki_host(const char *dir, const char *name, int days)
{
    if (!valid_name(name)) {
        return xasprintf("\"%s\" is not a host name (letters, digits, '.', "
                         "'-', '_')", name);
    }
    EVP_PKEY *ca_key, *key = NULL;
    X509 *ca, *cert = NULL;
    char *error = load_ca(dir, &ca_key, &ca);
    char *key_file = path(dir, name, "-privkey.pem");
    char *cert_file = path(dir, name, "-cert.pem");
    if (error) {
        /* Said why. */
    } else if (!access(key_file, F_OK)) {
        error = xasprintf("%s exists already: host %s has a key", key_file,
                          name);
    } else if (!(key = EVP_EC_gen("P-256"))) {
        error = ssl_error("host key");
    } else if (!(cert = make_cert(name, key, ca, ca_key, days))) {
        error = ssl_error("host certificate");
    } else if (!(error = write_key(key_file, key))) {
        error = write_cert(cert_file, cert);
        if (error) {
            /* A key without its certificate would block the next try. */
            unlink(key_file);
        }
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
    free(key_file);
    free(cert_file);
    return error;
}

/* Reads the certificate in 'cert_file' into '*cert'. */
static char *
read_cert(const char *cert_file, X509 **cert)
{
    FILE *f = fopen(cert_file, "r");
    *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f) {
        fclose(f);
    }
    return (*cert ? NULL
            : f ? ssl_error(cert_file)
            : xasprintf("%s: %s", cert_file, ovs_strerror(errno)));
}

/* Stores the common name of the certificate in 'cert_file' (the host it
 * names) in '*cn'. */
char *
migr_pki_common_name(const char *cert_file, char **cn)
{
    X509 *cert;
    char *error = read_cert(cert_file, &cert);
    if (!error) {
        char buf[256];
        int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                          NID_commonName, buf, sizeof buf);
        *cn = n >= 0 ? xstrdup(buf) : NULL;
        error = (n < 0 ? xasprintf("%s: the certificate has no common name",
                                   cert_file) : NULL);
        X509_free(cert);
    }
    return error;
}

/* Reads 'cert_file' and stores its subject and expiry, as text. */
char *
migr_pki_describe(const char *cert_file, char **subject, char **not_after)
{
    X509 *cert;
    char *error = read_cert(cert_file, &cert);
    if (error) {
        return error;
    }
    char buf[256];
    X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
    *subject = xstrdup(buf);
    BIO *bio = BIO_new(BIO_s_mem());
    ASN1_TIME_print(bio, X509_get0_notAfter(cert));
    char *data;
    long n = BIO_get_mem_data(bio, &data);
    *not_after = xmemdup0(data, n);
    BIO_free(bio);
    X509_free(cert);
    return NULL;
}

/* Makes this process's SSL streams present host 'name''s key and
 * certificate from 'dir' and trust the CA there, as a host configured with
 * that PKI's files does. */
void
migr_pki_use_host(const char *dir, const char *name)
{
    char *key = path(dir, name, "-privkey.pem");
    char *cert = path(dir, name, "-cert.pem");
    char *ca = path(dir, "cacert", ".pem");

    stream_ssl_set_key_and_cert(key, cert);
    stream_ssl_set_ca_cert_file(ca, false);
    free(key);
    free(cert);
    free(ca);
}
