/* Checks across the items of a parsed policy: uniqueness, references,
 * containment and overlaps.
 *
 * Appends one "FILE: JSON-PATH: what is wrong" line per problem to 'errors',
 * all of them, and returns true if there were none.  Customer address space
 * may overlap across routing domains (that is what CA/PA separation is for);
 * inside one routing domain, and among provider subnets, it may not. */

#ifndef POLICY_VALIDATE_H
#define POLICY_VALIDATE_H 1

#include <stdbool.h>

struct policy;
struct svec;

bool policy_validate(const struct policy *, const char *file_name,
                     struct svec *errors);

#endif /* policy/validate.h */
