/* The host PKI: one CA, and a key and certificate per host whose common
 * name (and subjectAltName) is the host's chassis name, so that a peer's
 * certificate says which host it is.  The same files serve the migration
 * channel and the database's SSL:
 *
 *   DIR/cacert.pem          the CA certificate (give to every host)
 *   DIR/cakey.pem           the CA's private key (keep it on the admin host)
 *   DIR/NAME-privkey.pem    a host's private key
 *   DIR/NAME-cert.pem       its certificate, signed by the CA
 *
 * Keys are ECDSA P-256, certificates SHA-256, made with OpenSSL as
 * libopenvswitch's stream-ssl uses it.  Private keys are written 0600 and
 * never overwritten. */

#ifndef MIGRATOR_PKI_H
#define MIGRATOR_PKI_H 1

#include "openvswitch/compiler.h"

char *migr_pki_init(const char *dir, int days) OVS_WARN_UNUSED_RESULT;
char *migr_pki_host(const char *dir, const char *name, int days)
    OVS_WARN_UNUSED_RESULT;
char *migr_pki_common_name(const char *cert_file, char **cn)
    OVS_WARN_UNUSED_RESULT;
char *migr_pki_describe(const char *cert_file, char **subject,
                        char **not_after) OVS_WARN_UNUSED_RESULT;
void migr_pki_use_host(const char *dir, const char *name);

#endif /* migrator/pki.h */
