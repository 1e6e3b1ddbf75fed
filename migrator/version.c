#include <config.h>

#include "migrator/version.h"

#include <ctype.h>
#include <stdlib.h>

#include "smap.h"
#include "util.h"

/* Compares dotted version strings numerically, component by component
 * ("7.2.10" > "7.2.9"); a missing component counts as 0 ("7.2" equals
 * "7.2.0") and trailing text after the numbers ("7.2.0-1+deb12u1") is
 * compared as text. */
int
migr_version_cmp(const char *a, const char *b)
{
    static const char zero[] = ".0";
    while (*a || *b) {
        if (!*a && *b == '.') {
            a = zero;
        } else if (!*b && *a == '.') {
            b = zero;
        }
        if (isdigit((unsigned char) *a) || isdigit((unsigned char) *b)) {
            char *ea, *eb;
            unsigned long long na = strtoull(a, &ea, 10);
            unsigned long long nb = strtoull(b, &eb, 10);
            if (na != nb) {
                return na < nb ? -1 : 1;
            }
            a = ea;
            b = eb;
        } else if (*a != *b) {
            return (unsigned char) *a < (unsigned char) *b ? -1 : 1;
        } else {
            a++;
            b++;
        }
    }
    return 0;
}

/* Returns NULL if a VM may move from 'source' (versions 'src') to
 * 'destination' (versions 'dst'), else why not. */
char *
migr_check_versions(const char *source, const struct smap *src,
                    const char *destination, const struct smap *dst)
{
    static const char *const components[] = { "libvirt", "qemu", "vmroam" };
    for (size_t i = 0; i < ARRAY_SIZE(components); i++) {
        const char *s = smap_get(src, components[i]);
        const char *d = smap_get(dst, components[i]);
        if (s && !d) {
            return xasprintf("%s reports no %s version (is its agent up?); "
                             "%s runs %s", destination, components[i],
                             source, s);
        }
        if (s && migr_version_cmp(d, s) < 0) {
            return xasprintf("%s runs %s %s, older than %s on %s: a VM "
                             "never moves to an older host", destination,
                             components[i], d, s, source);
        }
    }
    return NULL;
}
