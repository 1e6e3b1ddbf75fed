/* libFuzzer target for policy files: parsing, validation, the canonical form
 * and diffs.
 *
 * Besides looking for crashes, leaks and undefined behavior, it checks one
 * property: a policy that parses and validates cleanly must come back
 * unchanged from its own canonical text (export-then-apply is a no-op). */

#include <config.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "policy/diff.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/validate.h"
#include "svec.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Returns the canonical text of 'p', which this canonicalizes. */
static char *
canonical_text(struct policy *p)
{
    policy_canonicalize(p);
    struct json *json = policy_to_json(p);
    char *s = json_to_string(json, JSSF_SORT);
    json_destroy(json);
    return s;
}

static void
check_round_trip(const char *canonical, const struct policy *p)
{
    struct policy q;
    struct svec errors = SVEC_EMPTY_INITIALIZER;

    policy_init(&q);
    if (!policy_parse_string(canonical, "canonical.json", &q, &errors)
        || !policy_validate(&q, "canonical.json", &errors)) {
        fprintf(stderr, "canonical text does not parse or validate:\n%s\n",
                canonical);
        for (size_t i = 0; i < errors.n; i++) {
            fprintf(stderr, "  %s\n", errors.names[i]);
        }
        abort();
    }

    char *again = canonical_text(&q);
    if (strcmp(canonical, again)) {
        fprintf(stderr, "canonical form is not a fixed point:\n%s\n%s\n",
                canonical, again);
        abort();
    }

    struct policy_diff diff;
    policy_diff(p, &q, &diff);
    if (!policy_diff_is_empty(&diff)) {
        fprintf(stderr, "policy differs from its canonical text:\n%s\n",
                canonical);
        abort();
    }
    policy_diff_destroy(&diff);

    free(again);
    svec_destroy(&errors);
    policy_destroy(&q);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = xmemdup0((const char *) data, size);
    struct policy p;
    struct svec errors = SVEC_EMPTY_INITIALIZER;

    policy_init(&p);
    bool ok = policy_parse_string(text, "fuzz.json", &p, &errors);

    /* Whatever survived parsing must be safe to validate, canonicalize and
     * export, even when there were errors. */
    ok = policy_validate(&p, "fuzz.json", &errors) && ok;

    char *canonical = canonical_text(&p);
    if (ok) {
        check_round_trip(canonical, &p);
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    struct policy empty;
    struct policy_diff diff;
    policy_init(&empty);
    policy_diff(&empty, &p, &diff);
    policy_diff_format(&diff, 3, &s);
    policy_diff_destroy(&diff);
    ds_destroy(&s);

    free(canonical);
    svec_destroy(&errors);
    policy_destroy(&p);
    free(text);
    return 0;
}
