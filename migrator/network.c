#include <config.h>

#include "migrator/network.h"

#include <string.h>

#include "policy/parse.h"
#include "policy/prefix.h"
#include "sset.h"
#include "svec.h"
#include "util.h"

/* Parses a comma-separated list of networks (CIDR prefixes) into
 * 'networks', canonical and in order.  Returns an error or NULL. */
char *
migr_network_parse(const char *s, struct svec *networks)
{
    char *copy = xstrdup(s);
    char *save = NULL;
    char *error = NULL;
    for (char *token = strtok_r(copy, ",", &save); token && !error;
         token = strtok_r(NULL, ",", &save)) {
        char *text = xstrdup(token);
        struct policy_prefix prefix;
        error = policy_parse_prefix(&text, &prefix);
        if (!error) {
            svec_add(networks, text);
        }
        free(text);
    }
    if (!error && !networks->n) {
        error = xasprintf("\"%s\" names no network", s);
    }
    free(copy);
    return error;
}

/* The address of 'addrs' in the first of 'networks' that holds one (the
 * lowest, if it holds several), or NULL.  The caller frees it. */
char *
migr_network_pick(const struct svec *networks, const struct sset *addrs)
{
    const char **sorted = sset_sort(addrs);
    char *pick = NULL;
    for (size_t i = 0; i < networks->n && !pick; i++) {
        struct policy_prefix net;
        char *error = policy_prefix_parse(networks->names[i], &net);
        for (size_t j = 0; !error && j < sset_count(addrs) && !pick; j++) {
            struct in6_addr a;
            char *bad = policy_addr_parse(sorted[j], &a);
            if (!bad && policy_prefix_contains(&net, &a)) {
                pick = xstrdup(sorted[j]);
            }
            free(bad);
        }
        free(error);
    }
    free(sorted);
    return pick;
}
