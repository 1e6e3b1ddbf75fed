/* "vmroam pki ...": the host PKI in <state-dir>/pki (default
 * /var/lib/vmroam/pki): a CA, and a key and certificate per host. */

#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/vmroam.h"
#include "migrator/pki.h"
#include "sset.h"
#include "table.h"
#include "util.h"

#define DEFAULT_CA_DAYS (10 * 365)

/* Runs 'error' (from the PKI) into an exit status, saying why. */
static int
report(char *error)
{
    if (error) {
        fprintf(stderr, "vmroam: %s\n", error);
        free(error);
        return VMROAM_EXIT_FAILURE;
    }
    return VMROAM_EXIT_OK;
}

static int
pki_init_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
             char *argv[] OVS_UNUSED)
{
    long long int days = DEFAULT_CA_DAYS;
    if (!vmroam_number_opt(ctx, "days", 1, 100 * 365, &days)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    char *dir = vmroam_pki_dir(ctx);
    int status = report(migr_pki_init(dir, days));
    if (!status) {
        printf("CA made: %s/cacert.pem (give it to every host), "
               "%s/cakey.pem (keep it here)\n", dir, dir);
    }
    free(dir);
    return status;
}

static int
pki_host_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED, char *argv[])
{
    long long int days = VMROAM_PKI_HOST_DAYS;
    if (!vmroam_number_opt(ctx, "days", 1, 100 * 365, &days)) {
        return VMROAM_EXIT_BAD_INPUT;
    }
    char *dir = vmroam_pki_dir(ctx);
    int status = report(migr_pki_host(dir, argv[0], days));
    if (!status) {
        printf("host %s: %s/%s-privkey.pem, %s/%s-cert.pem (CN=%s)\n",
               argv[0], dir, argv[0], dir, argv[0], argv[0]);
    }
    free(dir);
    return status;
}

static int
pki_list_cmd(const struct vmroam_ctx *ctx, int argc OVS_UNUSED,
             char *argv[] OVS_UNUSED)
{
    char *dir = vmroam_pki_dir(ctx);
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "vmroam: %s: %s (run \"vmroam pki init\" first)\n",
                dir, ovs_strerror(errno));
        free(dir);
        return VMROAM_EXIT_FAILURE;
    }
    struct sset certs = SSET_INITIALIZER(&certs);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len > 8 && !strcmp(de->d_name + len - 8, "cert.pem")) {
            sset_add(&certs, de->d_name);
        }
    }
    closedir(d);

    struct table t;
    table_init(&t);
    table_set_caption(&t, xasprintf("Certificates in %s", dir));
    table_add_column(&t, "file");
    table_add_column(&t, "subject");
    table_add_column(&t, "expires");
    const char **sorted = sset_sort(&certs);
    int status = VMROAM_EXIT_OK;
    for (size_t i = 0; i < sset_count(&certs); i++) {
        char *file = xasprintf("%s/%s", dir, sorted[i]);
        char *subject, *expires;
        char *error = migr_pki_describe(file, &subject, &expires);
        if (error) {
            status = report(error);
        } else {
            table_add_row(&t);
            vmroam_cell(&t, sorted[i]);
            vmroam_cell_nocopy(&t, subject);
            vmroam_cell_nocopy(&t, expires);
        }
        free(file);
    }
    free(sorted);
    sset_destroy(&certs);
    vmroam_print_table(ctx, &t);
    free(dir);
    return status;
}

const struct vmroam_command vmroam_pki_commands[] = {
    {.name = "pki init",
     .args = "[--days N]",
     .summary = "make the host PKI's CA (state dir's pki/)",
     .options = "days",
     .min_args = 0, .max_args = 0, .run = pki_init_cmd},
    {.name = "pki host",
     .args = "NAME [--days N]",
     .summary = "make host NAME's key and certificate (CN=NAME), signed by "
                "the CA",
     .options = "days",
     .min_args = 1, .max_args = 1, .run = pki_host_cmd},
    {.name = "pki list",
     .args = "[--format table|json]",
     .summary = "the certificates: subject and expiry",
     .options = "format",
     .min_args = 0, .max_args = 0, .run = pki_list_cmd},
    {.name = NULL},
};
