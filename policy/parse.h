/* Policy files: JSON text -> struct policy.
 *
 * Parsing checks the shape of the file and every field on its own (types,
 * required and unknown fields, address and MAC syntax, VSID range) and
 * rewrites each address, prefix and MAC in its canonical text.  Every problem
 * is appended to 'errors' as "FILE: JSON-PATH: what is wrong" (syntax errors
 * as "FILE: line L, column C: ..."), all of them, not just the first.  Items
 * with a bad field are left out of the policy; checks across items are
 * policy_validate()'s job. */

#ifndef POLICY_PARSE_H
#define POLICY_PARSE_H 1

#include <stdbool.h>
#include <stdint.h>

struct eth_addr;
struct in6_addr;
struct json;
struct policy_prefix;
struct policy;
struct svec;

bool policy_parse_file(const char *file_name, struct policy *,
                       struct svec *errors);
bool policy_parse_string(const char *text, const char *name,
                         struct policy *, struct svec *errors);
bool policy_from_json(const struct json *, const char *name,
                      struct policy *, struct svec *errors);

/* Field parsers shared with the database side.  Each checks 'text', and on
 * success replaces '*text' by its canonical spelling.  They return NULL or a
 * malloc'd message (without a path). */
char *policy_parse_addr(char **text, struct in6_addr *);
char *policy_parse_prefix(char **text, struct policy_prefix *);
char *policy_parse_mac(char **text, struct eth_addr *);
char *policy_parse_vsid(int64_t vsid);

#endif /* policy/parse.h */
