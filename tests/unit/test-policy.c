/* Unit tests for the policy library: parsing (policy/parse.c), validation
 * (policy/validate.c), the canonical form (policy/policy.c), diffs
 * (policy/diff.c) and the address/prefix helpers (policy/prefix.c).
 *
 * Error messages are compared exactly: they are the user interface of
 * "vmroam policy check", so a change to one should be a deliberate change to
 * a test here too. */

#include <config.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "policy/diff.h"
#include "policy/parse.h"
#include "policy/policy.h"
#include "policy/prefix.h"
#include "policy/validate.h"
#include "svec.h"
#include "util.h"

#define FILE_NAME "t.json"

/* ------------------------------------------------------------------ */
/* Building policy texts.                                             */
/* ------------------------------------------------------------------ */

/* The example policy's items, to combine into test inputs. */
#define RD_A \
    "{\"name\":\"tenant-a\",\"virtual_subnets\":[{\"vsid\":5001," \
    "\"prefix\":\"192.168.10.0/24\",\"gateway\":\"192.168.10.254\"}]}"
#define PS_1 \
    "{\"footprint\":\"rack-1\",\"prefix\":\"10.0.1.0/24\"," \
    "\"gateway\":\"10.0.1.1\"}"
#define REC_1 \
    "{\"vsid\":5001,\"ca\":\"192.168.10.1\",\"mac\":\"02:00:c0:a8:0a:01\"," \
    "\"pa\":\"10.0.1.11\",\"host\":\"hv1\",\"vm\":\"web-1\"}"
#define ROUTE_1 \
    "{\"routing_domain\":\"tenant-a\",\"prefix\":\"0.0.0.0/0\"," \
    "\"next_hop\":\"192.168.10.254\",\"metric\":10}"

/* A lookup record of VSID 'vsid' with the given CA, MAC, PA and host. */
#define REC(VSID, CA, MAC, PA, HOST) \
    "{\"vsid\":" #VSID ",\"ca\":\"" CA "\",\"mac\":\"" MAC "\"," \
    "\"pa\":\"" PA "\",\"host\":\"" HOST "\"}"

/* A virtual subnet without a gateway. */
#define VS(VSID, PREFIX) "{\"vsid\":" #VSID ",\"prefix\":\"" PREFIX "\"}"

/* A routing domain named NAME with virtual subnets SUBNETS (a JSON list body,
 * without brackets). */
#define RD(NAME, SUBNETS) \
    "{\"name\":\"" NAME "\",\"virtual_subnets\":[" SUBNETS "]}"

#define PS(FOOTPRINT, PREFIX) \
    "{\"footprint\":\"" FOOTPRINT "\",\"prefix\":\"" PREFIX "\"}"

#define ROUTE(RD_NAME, PREFIX, NEXT_HOP) \
    "{\"routing_domain\":\"" RD_NAME "\",\"prefix\":\"" PREFIX "\"," \
    "\"next_hop\":\"" NEXT_HOP "\"}"

/* A whole policy from the bodies of its four arrays. */
#define POLICY(RDS, PSUBNETS, RECORDS, ROUTES)             \
    "{\"routing_domains\":[" RDS "],"                      \
    "\"provider_subnets\":[" PSUBNETS "],"                 \
    "\"lookup_records\":[" RECORDS "],"                    \
    "\"customer_routes\":[" ROUTES "]}"

static const char example_policy[] =
    "{\"routing_domains\":[{\"name\":\"tenant-a\",\"virtual_subnets\":"
    "[{\"vsid\":5001,\"prefix\":\"192.168.10.0/24\","
    "\"gateway\":\"192.168.10.254\"}]}],\n"
    " \"provider_subnets\":[{\"footprint\":\"rack-1\","
    "\"prefix\":\"10.0.1.0/24\",\"gateway\":\"10.0.1.1\"}],\n"
    " \"lookup_records\":[{\"vsid\":5001,\"ca\":\"192.168.10.1\","
    "\"mac\":\"02:00:c0:a8:0a:01\",\"pa\":\"10.0.1.11\",\"host\":\"hv1\","
    "\"vm\":\"web-1\"}],\n"
    " \"customer_routes\":[{\"routing_domain\":\"tenant-a\","
    "\"prefix\":\"0.0.0.0/0\",\"next_hop\":\"192.168.10.254\","
    "\"metric\":10}]}\n";

/* ------------------------------------------------------------------ */
/* Helpers.                                                           */
/* ------------------------------------------------------------------ */

static void
print_errors(const struct svec *errors)
{
    for (size_t i = 0; i < errors->n; i++) {
        print_message("  error[%zu]: %s\n", i, errors->names[i]);
    }
}

/* Asserts that 'errors' holds exactly the 'n' strings in 'expected', in
 * order. */
static void
assert_errors(const struct svec *errors, const char *const *expected,
              size_t n)
{
    if (errors->n != n) {
        print_message("expected %zu errors, got %zu:\n", n, errors->n);
        print_errors(errors);
    }
    assert_int_equal(errors->n, n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(errors->names[i], expected[i]);
    }
}

#define ASSERT_ERRORS(ERRORS, ...)                                      \
    do {                                                                \
        static const char *const expected_[] = { __VA_ARGS__ };         \
        assert_errors(ERRORS, expected_, ARRAY_SIZE(expected_));        \
    } while (0)

/* Parses 'text', which must be free of errors, into 'policy'. */
static void
parse_ok(const char *text, struct policy *policy)
{
    struct svec errors = SVEC_EMPTY_INITIALIZER;

    policy_init(policy);
    bool ok = policy_parse_string(text, FILE_NAME, policy, &errors);
    if (!ok || errors.n) {
        print_message("unexpected parse errors for:\n%s\n", text);
        print_errors(&errors);
    }
    assert_true(ok);
    assert_int_equal(errors.n, 0);
    svec_destroy(&errors);
}

/* Parses and validates 'text', which must be free of errors. */
static void
valid_ok(const char *text, struct policy *policy)
{
    struct svec errors = SVEC_EMPTY_INITIALIZER;

    parse_ok(text, policy);
    bool ok = policy_validate(policy, FILE_NAME, &errors);
    if (!ok || errors.n) {
        print_message("unexpected validation errors for:\n%s\n", text);
        print_errors(&errors);
    }
    assert_true(ok);
    assert_int_equal(errors.n, 0);
    svec_destroy(&errors);
}

/* Parses 'text', which must fail, and returns its errors in 'errors' (which
 * the caller must destroy). */
static void
parse_errors(const char *text, struct svec *errors)
{
    struct policy policy;

    policy_init(&policy);
    svec_init(errors);
    if (policy_parse_string(text, FILE_NAME, &policy, errors)) {
        print_message("unexpectedly parsed:\n%s\n", text);
        fail();
    }
    policy_destroy(&policy);
}

#define ASSERT_PARSE_ERRORS(TEXT, ...)                                  \
    do {                                                                \
        struct svec errors_;                                            \
        parse_errors(TEXT, &errors_);                                   \
        ASSERT_ERRORS(&errors_, __VA_ARGS__);                           \
        svec_destroy(&errors_);                                         \
    } while (0)

/* Parses 'text', which must parse cleanly, then validates it, which must fail,
 * and returns the validation errors in 'errors'. */
static void
validate_errors(const char *text, struct svec *errors)
{
    struct policy policy;

    parse_ok(text, &policy);
    svec_init(errors);
    assert_false(policy_validate(&policy, FILE_NAME, errors));
    policy_destroy(&policy);
}

#define ASSERT_VALIDATE_ERRORS(TEXT, ...)                               \
    do {                                                                \
        struct svec errors_;                                            \
        validate_errors(TEXT, &errors_);                                \
        ASSERT_ERRORS(&errors_, __VA_ARGS__);                           \
        svec_destroy(&errors_);                                         \
    } while (0)

/* Returns the canonical text of 'policy' (which this canonicalizes), sorted
 * JSON.  The caller frees it. */
static char *
canonical_text(struct policy *policy)
{
    policy_canonicalize(policy);
    struct json *json = policy_to_json(policy);
    char *s = json_to_string(json, JSSF_SORT);
    json_destroy(json);
    return s;
}

/* Parses 'text' (which must be valid) and returns its canonical text. */
static char *
canonical_of(const char *text)
{
    struct policy policy;

    valid_ok(text, &policy);
    char *s = canonical_text(&policy);
    policy_destroy(&policy);
    return s;
}

static struct policy_prefix
prefix(const char *s)
{
    struct policy_prefix p;
    char *error = policy_prefix_parse(s, &p);
    if (error) {
        print_message("%s\n", error);
        free(error);
        fail();
    }
    return p;
}

static struct in6_addr
addr(const char *s)
{
    struct in6_addr a;
    char *error = policy_addr_parse(s, &a);
    if (error) {
        print_message("%s\n", error);
        free(error);
        fail();
    }
    return a;
}

static void
assert_addr_string(const struct in6_addr *a, const char *expected)
{
    char *s = policy_addr_to_string(a);
    assert_string_equal(s, expected);
    free(s);
}

static void
assert_prefix_string(const struct policy_prefix *p, const char *expected)
{
    char *s = policy_prefix_to_string(p);
    assert_string_equal(s, expected);
    free(s);
}

/* ------------------------------------------------------------------ */
/* Prefix helpers.                                                    */
/* ------------------------------------------------------------------ */

static void
test_addr_parse(void **state OVS_UNUSED)
{
    struct in6_addr a = addr("10.0.1.11");
    assert_true(policy_addr_is_ipv4(&a));
    assert_true(IN6_IS_ADDR_V4MAPPED(&a));
    assert_addr_string(&a, "10.0.1.11");

    a = addr("2001:0DB8:0000:0000:0000:0000:0000:0001");
    assert_false(policy_addr_is_ipv4(&a));
    assert_addr_string(&a, "2001:db8::1");

    a = addr("::");
    assert_false(policy_addr_is_ipv4(&a));
    assert_addr_string(&a, "::");

    a = addr("fe80:0:0:0:0:0:0:1");
    assert_addr_string(&a, "fe80::1");

    /* Errors. */
    struct in6_addr b;
    char *error = policy_addr_parse("::ffff:10.0.1.11", &b);
    assert_non_null(error);
    assert_string_equal(error,
                        "::ffff:10.0.1.11: write IPv4 addresses in dotted form");
    free(error);

    error = policy_addr_parse("10.0.1.256", &b);
    assert_string_equal(error, "10.0.1.256 is not an IPv4 or IPv6 address");
    free(error);

    error = policy_addr_parse("", &b);
    assert_string_equal(error, " is not an IPv4 or IPv6 address");
    free(error);

    error = policy_addr_parse("10.0.1", &b);
    assert_string_equal(error, "10.0.1 is not an IPv4 or IPv6 address");
    free(error);

    error = policy_addr_parse("2001:db8:::1", &b);
    assert_string_equal(error, "2001:db8:::1 is not an IPv4 or IPv6 address");
    free(error);
}

static void
test_addr_cmp(void **state OVS_UNUSED)
{
    struct in6_addr a = addr("10.0.0.1"), b = addr("10.0.0.2");
    struct in6_addr c = addr("::1"), d = addr("2001:db8::1");

    assert_true(policy_addr_cmp(&a, &b) < 0);
    assert_true(policy_addr_cmp(&b, &a) > 0);
    assert_int_equal(policy_addr_cmp(&a, &a), 0);
    /* ::1 < ::ffff:10.0.0.1 < 2001:db8::1 in the common representation. */
    assert_true(policy_addr_cmp(&c, &a) < 0);
    assert_true(policy_addr_cmp(&a, &d) < 0);
}

static void
test_prefix_parse(void **state OVS_UNUSED)
{
    struct policy_prefix p = prefix("10.0.0.0/8");
    assert_int_equal(p.plen, 96 + 8);
    assert_true(policy_addr_is_ipv4(&p.addr));
    assert_prefix_string(&p, "10.0.0.0/8");

    p = prefix("0.0.0.0/0");
    assert_int_equal(p.plen, 96);
    assert_prefix_string(&p, "0.0.0.0/0");

    p = prefix("10.0.1.11/32");
    assert_int_equal(p.plen, 128);
    assert_prefix_string(&p, "10.0.1.11/32");

    p = prefix("2001:DB8:0:0::/32");
    assert_int_equal(p.plen, 32);
    assert_false(policy_addr_is_ipv4(&p.addr));
    assert_prefix_string(&p, "2001:db8::/32");

    p = prefix("::/0");
    assert_int_equal(p.plen, 0);
    assert_prefix_string(&p, "::/0");

    p = prefix("2001:db8::1/128");
    assert_int_equal(p.plen, 128);
    assert_prefix_string(&p, "2001:db8::1/128");

    /* A leading zero in the length is accepted and dropped. */
    p = prefix("10.0.1.0/024");
    assert_prefix_string(&p, "10.0.1.0/24");
}

static void
check_prefix_error(const char *s, const char *expected)
{
    struct policy_prefix p;
    char *error = policy_prefix_parse(s, &p);
    if (!error) {
        print_message("%s: unexpectedly parsed\n", s);
        fail();
    }
    assert_string_equal(error, expected);
    free(error);
}

static void
test_prefix_parse_errors(void **state OVS_UNUSED)
{
    check_prefix_error("10.0.1.0",
                       "10.0.1.0 is not a prefix (expected ADDRESS/LENGTH)");
    check_prefix_error("", " is not a prefix (expected ADDRESS/LENGTH)");
    check_prefix_error("foo/8", "foo/8: bad address before the '/'");
    check_prefix_error("/8", "/8: bad address before the '/'");
    check_prefix_error("::ffff:10.0.0.0/104",
                       "::ffff:10.0.0.0/104: bad address before the '/'");
    check_prefix_error("10.0.1.0/33",
                       "10.0.1.0/33: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/",
                       "10.0.1.0/: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/-1",
                       "10.0.1.0/-1: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/+8",
                       "10.0.1.0/+8: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/ 8",
                       "10.0.1.0/ 8: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/24x",
                       "10.0.1.0/24x: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/24/8",
                       "10.0.1.0/24/8: prefix length must be 0 to 32");
    check_prefix_error("10.0.1.0/99999999999999999999999",
                       "10.0.1.0/99999999999999999999999: "
                       "prefix length must be 0 to 32");
    check_prefix_error("2001:db8::/129",
                       "2001:db8::/129: prefix length must be 0 to 128");
    check_prefix_error("192.168.10.1/24",
                       "192.168.10.1/24 has host bits set "
                       "(did you mean 192.168.10.0/24?)");
    check_prefix_error("10.255.255.255/8",
                       "10.255.255.255/8 has host bits set "
                       "(did you mean 10.0.0.0/8?)");
    check_prefix_error("1.2.3.4/0",
                       "1.2.3.4/0 has host bits set (did you mean 0.0.0.0/0?)");
    check_prefix_error("2001:db8::1/64",
                       "2001:db8::1/64 has host bits set "
                       "(did you mean 2001:db8::/64?)");
    check_prefix_error("::1/0", "::1/0 has host bits set (did you mean ::/0?)");
}

static void
test_prefix_contains(void **state OVS_UNUSED)
{
    struct policy_prefix p8 = prefix("10.0.0.0/8");
    struct in6_addr a;

    a = addr("10.1.2.3");
    assert_true(policy_prefix_contains(&p8, &a));
    a = addr("10.0.0.0");
    assert_true(policy_prefix_contains(&p8, &a));
    a = addr("10.255.255.255");
    assert_true(policy_prefix_contains(&p8, &a));
    a = addr("11.0.0.0");
    assert_false(policy_prefix_contains(&p8, &a));
    a = addr("9.255.255.255");
    assert_false(policy_prefix_contains(&p8, &a));

    /* The IPv4 default route holds every IPv4 address and no IPv6 one. */
    struct policy_prefix v4all = prefix("0.0.0.0/0");
    a = addr("255.255.255.255");
    assert_true(policy_prefix_contains(&v4all, &a));
    a = addr("0.0.0.0");
    assert_true(policy_prefix_contains(&v4all, &a));
    a = addr("::1");
    assert_false(policy_prefix_contains(&v4all, &a));
    a = addr("::");
    assert_false(policy_prefix_contains(&v4all, &a));
    a = addr("2001:db8::1");
    assert_false(policy_prefix_contains(&v4all, &a));

    /* The IPv6 default route holds every IPv6 address and no IPv4 one, even
     * though IPv4 addresses are kept as ::ffff:a.b.c.d. */
    struct policy_prefix v6all = prefix("::/0");
    a = addr("2001:db8::1");
    assert_true(policy_prefix_contains(&v6all, &a));
    a = addr("::");
    assert_true(policy_prefix_contains(&v6all, &a));
    a = addr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    assert_true(policy_prefix_contains(&v6all, &a));
    a = addr("10.0.1.11");
    assert_false(policy_prefix_contains(&v6all, &a));
    a = addr("0.0.0.0");
    assert_false(policy_prefix_contains(&v6all, &a));

    struct policy_prefix v6low = prefix("::/64");
    a = addr("192.168.10.1");
    assert_false(policy_prefix_contains(&v6low, &a));
    a = addr("::1:0:0:5");
    assert_true(policy_prefix_contains(&v6low, &a));

    struct policy_prefix p6 = prefix("2001:db8:1::/48");
    a = addr("2001:db8:1:ffff::1");
    assert_true(policy_prefix_contains(&p6, &a));
    a = addr("2001:db8:2::1");
    assert_false(policy_prefix_contains(&p6, &a));

    /* Host prefixes. */
    struct policy_prefix h4 = prefix("10.0.1.11/32");
    a = addr("10.0.1.11");
    assert_true(policy_prefix_contains(&h4, &a));
    a = addr("10.0.1.12");
    assert_false(policy_prefix_contains(&h4, &a));
    struct policy_prefix h6 = prefix("2001:db8::1/128");
    a = addr("2001:db8::1");
    assert_true(policy_prefix_contains(&h6, &a));
    a = addr("2001:db8::2");
    assert_false(policy_prefix_contains(&h6, &a));
}

static void
check_overlap(const char *a_s, const char *b_s, bool expected)
{
    struct policy_prefix a = prefix(a_s), b = prefix(b_s);
    if (policy_prefix_overlaps(&a, &b) != expected
        || policy_prefix_overlaps(&b, &a) != expected) {
        print_message("%s and %s: expected %s\n", a_s, b_s,
                      expected ? "overlap" : "no overlap");
        fail();
    }
}

static void
test_prefix_overlaps(void **state OVS_UNUSED)
{
    check_overlap("10.0.0.0/8", "10.1.0.0/16", true);
    check_overlap("10.0.0.0/8", "10.0.0.0/8", true);
    check_overlap("10.0.0.0/24", "10.0.1.0/24", false);
    check_overlap("10.0.0.0/23", "10.0.1.0/24", true);
    check_overlap("10.0.1.11/32", "10.0.1.0/24", true);
    check_overlap("10.0.1.11/32", "10.0.1.12/32", false);
    check_overlap("0.0.0.0/0", "192.168.10.0/24", true);

    check_overlap("2001:db8::/32", "2001:db8:1::/48", true);
    check_overlap("2001:db8::/48", "2001:db8:1::/48", false);
    check_overlap("2001:db8::/48", "2001:db9::/48", false);
    check_overlap("::/0", "2001:db8::/32", true);
    check_overlap("2001:db8::1/128", "2001:db8::1/128", true);

    /* Never across families. */
    check_overlap("::/0", "0.0.0.0/0", false);
    check_overlap("::/0", "10.0.0.0/8", false);
    check_overlap("::/64", "192.168.10.0/24", false);
    check_overlap("::/96", "0.0.0.0/0", false);
    check_overlap("0.0.0.0/0", "2001:db8::/32", false);
}

static void
test_prefix_cmp(void **state OVS_UNUSED)
{
    struct policy_prefix a = prefix("10.0.0.0/8");
    struct policy_prefix b = prefix("10.0.0.0/16");
    struct policy_prefix c = prefix("10.1.0.0/16");
    struct policy_prefix d = prefix("2001:db8::/32");

    assert_int_equal(policy_prefix_cmp(&a, &a), 0);
    assert_true(policy_prefix_cmp(&a, &b) < 0);      /* Shorter first. */
    assert_true(policy_prefix_cmp(&b, &a) > 0);
    assert_true(policy_prefix_cmp(&b, &c) < 0);      /* Then by address. */
    assert_true(policy_prefix_cmp(&a, &c) < 0);
    assert_true(policy_prefix_cmp(&c, &d) < 0);
}

static void
test_parse_field_helpers(void **state OVS_UNUSED)
{
    /* VSID. */
    char *error = policy_parse_vsid(4096);
    assert_null(error);
    error = policy_parse_vsid(16777214);
    assert_null(error);
    error = policy_parse_vsid(4095);
    assert_string_equal(error, "4095 is out of range (4096 to 16777214)");
    free(error);
    error = policy_parse_vsid(16777215);
    assert_string_equal(error, "16777215 is out of range (4096 to 16777214)");
    free(error);
    error = policy_parse_vsid(-1);
    assert_string_equal(error, "-1 is out of range (4096 to 16777214)");
    free(error);
    error = policy_parse_vsid(INT64_MAX);
    assert_string_equal(error, "9223372036854775807 is out of range "
                        "(4096 to 16777214)");
    free(error);

    /* MAC: canonicalized on success, left alone on failure. */
    struct eth_addr mac;
    char *text = xstrdup("02:00:C0:A8:0A:01");
    assert_null(policy_parse_mac(&text, &mac));
    assert_string_equal(text, "02:00:c0:a8:0a:01");
    assert_int_equal(mac.ea[0], 0x02);
    assert_int_equal(mac.ea[5], 0x01);
    free(text);

    text = xstrdup("2:0:c0:a8:a:1");
    assert_null(policy_parse_mac(&text, &mac));
    assert_string_equal(text, "02:00:c0:a8:0a:01");
    free(text);

    text = xstrdup("01:00:5E:00:00:01");
    error = policy_parse_mac(&text, &mac);
    assert_string_equal(error, "01:00:5E:00:00:01 is a multicast MAC; "
                        "a VM's MAC must be unicast");
    assert_string_equal(text, "01:00:5E:00:00:01");
    free(error);
    free(text);

    text = xstrdup("ff:ff:ff:ff:ff:ff");
    error = policy_parse_mac(&text, &mac);
    assert_string_equal(error, "ff:ff:ff:ff:ff:ff is a multicast MAC; "
                        "a VM's MAC must be unicast");
    free(error);
    free(text);

    text = xstrdup("00:00:00:00:00:00");
    error = policy_parse_mac(&text, &mac);
    assert_string_equal(error, "00:00:00:00:00:00 is not a usable MAC");
    free(error);
    free(text);

    text = xstrdup("02:00:c0:a8:0a");
    error = policy_parse_mac(&text, &mac);
    assert_string_equal(error, "02:00:c0:a8:0a is not a MAC address "
                        "(expected xx:xx:xx:xx:xx:xx)");
    free(error);
    free(text);

    text = xstrdup("02:00:c0:a8:0a:01:02");
    error = policy_parse_mac(&text, &mac);
    assert_string_equal(error, "02:00:c0:a8:0a:01:02 is not a MAC address "
                        "(expected xx:xx:xx:xx:xx:xx)");
    free(error);
    free(text);

    text = xstrdup("02-00-c0-a8-0a-01");
    error = policy_parse_mac(&text, &mac);
    assert_string_equal(error, "02-00-c0-a8-0a-01 is not a MAC address "
                        "(expected xx:xx:xx:xx:xx:xx)");
    free(error);
    free(text);

    /* Address and prefix: canonicalized on success. */
    struct in6_addr a;
    text = xstrdup("2001:DB8:0:0:0:0:0:0001");
    assert_null(policy_parse_addr(&text, &a));
    assert_string_equal(text, "2001:db8::1");
    free(text);

    text = xstrdup("bogus");
    error = policy_parse_addr(&text, &a);
    assert_string_equal(error, "bogus is not an IPv4 or IPv6 address");
    assert_string_equal(text, "bogus");
    free(error);
    free(text);

    struct policy_prefix p;
    text = xstrdup("2001:0db8:0000::/48");
    assert_null(policy_parse_prefix(&text, &p));
    assert_string_equal(text, "2001:db8::/48");
    free(text);

    text = xstrdup("10.0.0.0/08");
    assert_null(policy_parse_prefix(&text, &p));
    assert_string_equal(text, "10.0.0.0/8");
    free(text);

    text = xstrdup("10.0.0.1/8");
    error = policy_parse_prefix(&text, &p);
    assert_string_equal(error, "10.0.0.1/8 has host bits set "
                        "(did you mean 10.0.0.0/8?)");
    assert_string_equal(text, "10.0.0.1/8");
    free(error);
    free(text);
}

/* ------------------------------------------------------------------ */
/* Parser: valid input.                                               */
/* ------------------------------------------------------------------ */

static void
test_parse_example(void **state OVS_UNUSED)
{
    struct policy p;

    valid_ok(example_policy, &p);

    assert_int_equal(p.n_rds, 1);
    assert_string_equal(p.rds[0].name, "tenant-a");
    assert_int_equal(p.rds[0].origin.index, 0);

    assert_int_equal(p.n_vsubnets, 1);
    const struct policy_virtual_subnet *vs = &p.vsubnets[0];
    assert_int_equal(vs->vsid, 5001);
    assert_string_equal(vs->routing_domain, "tenant-a");
    assert_string_equal(vs->prefix, "192.168.10.0/24");
    assert_string_equal(vs->gateway, "192.168.10.254");
    assert_int_equal(vs->prefix_p.plen, 96 + 24);
    struct in6_addr gw = addr("192.168.10.254");
    assert_memory_equal(&vs->gateway_a, &gw, sizeof gw);
    assert_int_equal(vs->origin.index, 0);
    assert_int_equal(vs->origin.parent, 0);

    assert_int_equal(p.n_psubnets, 1);
    const struct policy_provider_subnet *ps = &p.psubnets[0];
    assert_string_equal(ps->footprint, "rack-1");
    assert_string_equal(ps->prefix, "10.0.1.0/24");
    assert_string_equal(ps->gateway, "10.0.1.1");

    assert_int_equal(p.n_records, 1);
    const struct policy_lookup_record *r = &p.records[0];
    assert_int_equal(r->vsid, 5001);
    assert_string_equal(r->ca, "192.168.10.1");
    assert_string_equal(r->mac, "02:00:c0:a8:0a:01");
    assert_string_equal(r->pa, "10.0.1.11");
    assert_string_equal(r->host, "hv1");
    assert_string_equal(r->vm, "web-1");
    struct eth_addr mac = ETH_ADDR_C(02, 00, c0, a8, 0a, 01);
    assert_true(eth_addr_equals(r->mac_e, mac));
    struct in6_addr ca = addr("192.168.10.1"), pa = addr("10.0.1.11");
    assert_memory_equal(&r->ca_a, &ca, sizeof ca);
    assert_memory_equal(&r->pa_a, &pa, sizeof pa);

    assert_int_equal(p.n_routes, 1);
    const struct policy_customer_route *cr = &p.routes[0];
    assert_string_equal(cr->routing_domain, "tenant-a");
    assert_string_equal(cr->prefix, "0.0.0.0/0");
    assert_string_equal(cr->next_hop, "192.168.10.254");
    assert_int_equal(cr->metric, 10);
    assert_int_equal(cr->prefix_p.plen, 96);

    assert_int_equal(policy_n_items(&p, POLICY_ROUTING_DOMAINS), 1);
    assert_int_equal(policy_n_items(&p, POLICY_LOOKUP_RECORDS), 1);
    assert_ptr_equal(policy_item(&p, POLICY_LOOKUP_RECORDS, 0), r);

    policy_destroy(&p);
}

static void
test_parse_canonicalizes_fields(void **state OVS_UNUSED)
{
    static const char text[] = POLICY(
        RD("tenant-a",
           "{\"vsid\":5001,\"prefix\":\"192.168.10.0/024\","
           "\"gateway\":\"192.168.10.254\"},"
           "{\"vsid\":5002,\"prefix\":\"2001:0DB8:000A:0000::/64\","
           "\"gateway\":\"2001:db8:a:0:0:0:0:FFFF\"}"),
        "{\"footprint\":\"rack-6\",\"prefix\":\"FD00:0:0:0::/48\"}",
        "{\"vsid\":5001,\"ca\":\"192.168.10.1\","
        "\"mac\":\"02:00:C0:A8:0A:01\",\"pa\":\"fd00:0:0:0:0:0:0:11\","
        "\"host\":\"hv1\"},"
        "{\"vsid\":5002,\"ca\":\"2001:DB8:A:0:0:0:0:1\","
        "\"mac\":\"2:0:c0:a8:a:2\",\"pa\":\"FD00::11\","
        "\"host\":\"hv1\"}",
        "{\"routing_domain\":\"tenant-a\",\"prefix\":\"0:0:0:0:0:0:0:0/0\","
        "\"next_hop\":\"2001:0db8:000a::ffff\"}");
    struct policy p;

    valid_ok(text, &p);

    assert_int_equal(p.n_vsubnets, 2);
    assert_string_equal(p.vsubnets[0].prefix, "192.168.10.0/24");
    assert_string_equal(p.vsubnets[1].prefix, "2001:db8:a::/64");
    assert_string_equal(p.vsubnets[1].gateway, "2001:db8:a::ffff");

    assert_string_equal(p.psubnets[0].prefix, "fd00::/48");
    assert_null(p.psubnets[0].gateway);

    assert_int_equal(p.n_records, 2);
    assert_string_equal(p.records[0].mac, "02:00:c0:a8:0a:01");
    assert_string_equal(p.records[0].pa, "fd00::11");
    assert_null(p.records[0].vm);
    assert_string_equal(p.records[1].ca, "2001:db8:a::1");
    assert_string_equal(p.records[1].mac, "02:00:c0:a8:0a:02");
    assert_string_equal(p.records[1].pa, "fd00::11");

    assert_string_equal(p.routes[0].prefix, "::/0");
    assert_string_equal(p.routes[0].next_hop, "2001:db8:a::ffff");
    assert_int_equal(p.routes[0].metric, 0);        /* Default. */

    policy_destroy(&p);
}

static void
test_parse_optional_and_empty(void **state OVS_UNUSED)
{
    struct policy p;

    /* Every top-level array is optional. */
    valid_ok("{}", &p);
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        assert_int_equal(policy_n_items(&p, t), 0);
    }
    policy_destroy(&p);

    valid_ok(POLICY("", "", "", ""), &p);
    assert_int_equal(p.n_rds, 0);
    policy_destroy(&p);

    /* A routing domain without virtual subnets, subnets without gateways. */
    valid_ok("{\"routing_domains\":[{\"name\":\"empty\"},"
             RD("b", VS(6001, "10.20.0.0/16")) "],"
             "\"provider_subnets\":[" PS("rack-1", "10.0.1.0/24") "]}", &p);
    assert_int_equal(p.n_rds, 2);
    assert_int_equal(p.n_vsubnets, 1);
    assert_null(p.vsubnets[0].gateway);
    assert_string_equal(p.vsubnets[0].routing_domain, "b");
    assert_int_equal(p.vsubnets[0].origin.parent, 1);
    assert_null(p.psubnets[0].gateway);
    policy_destroy(&p);

    /* VSID bounds are inclusive. */
    valid_ok(POLICY(RD("a", VS(4096, "10.0.0.0/24") ","
                        VS(16777214, "10.0.1.0/24")), "", "", ""), &p);
    assert_int_equal(p.n_vsubnets, 2);
    assert_int_equal(p.vsubnets[0].vsid, 4096);
    assert_int_equal(p.vsubnets[1].vsid, 16777214);
    policy_destroy(&p);
}

static void
test_parse_file(void **state OVS_UNUSED)
{
    char name[] = "/tmp/test-policy-XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(example_policy, f);
    fclose(f);

    struct policy p;
    struct svec errors = SVEC_EMPTY_INITIALIZER;
    policy_init(&p);
    assert_true(policy_parse_file(name, &p, &errors));
    assert_int_equal(errors.n, 0);
    assert_int_equal(p.n_records, 1);
    policy_destroy(&p);
    unlink(name);

    /* A missing file is an error, not a crash. */
    policy_init(&p);
    assert_false(policy_parse_file(name, &p, &errors));
    assert_int_equal(errors.n, 1);
    char *expected = xasprintf("%s: error opening \"%s\": "
                               "No such file or directory", name, name);
    assert_string_equal(errors.names[0], expected);
    free(expected);
    policy_destroy(&p);
    svec_destroy(&errors);
}

/* ------------------------------------------------------------------ */
/* Parser: errors.                                                    */
/* ------------------------------------------------------------------ */

static void
test_parse_syntax_errors(void **state OVS_UNUSED)
{
    /* The comma is on the third line, at column 23 (counting from 1). */
    ASSERT_PARSE_ERRORS("{\n"
                        "  \"provider_subnets\": [],\n"
                        "  \"routing_domains\": [,]\n"
                        "}\n",
                        "t.json: line 3, column 23: "
                        "syntax error expecting value");
    ASSERT_PARSE_ERRORS("{\"routing_domains\": []",
                        "t.json: line 1, column 23: unexpected end of input");
    ASSERT_PARSE_ERRORS("{} {}",
                        "t.json: line 1, column 4: "
                        "trailing garbage at end of input");
    ASSERT_PARSE_ERRORS("{\"a\n", "t.json: line 1, column 4: "
                        "U+000A must be escaped in quoted string");
    ASSERT_PARSE_ERRORS("", "t.json: line 1, column 1: empty input stream");
    ASSERT_PARSE_ERRORS("\n\n  @",
                        "t.json: line 3, column 3: invalid character '@'");
    /* JSON allows only an object or an array at the top. */
    ASSERT_PARSE_ERRORS("\"policy\"",
                        "t.json: line 1, column 8: "
                        "syntax error at beginning of input");
    ASSERT_PARSE_ERRORS("{\"lookup_records\": [{\"vsid\": 05001}]}",
                        "t.json: line 1, column 35: leading zeros not allowed");
}

static void
test_parse_top_level_errors(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS("[]",
                        "t.json: top level: expected an object, got an array");
    ASSERT_PARSE_ERRORS("{\"routing_domains\":[],\"tenants\":[]}",
                        "t.json: top level: unknown field \"tenants\" "
                        "(expected one of: routing_domains, provider_subnets, "
                        "lookup_records, customer_routes)");
    /* A top-level member of the wrong type. */
    ASSERT_PARSE_ERRORS("{\"routing_domains\":{}}",
                        "t.json: routing_domains: expected an array, "
                        "got an object");
    ASSERT_PARSE_ERRORS("{\"lookup_records\":null}",
                        "t.json: lookup_records: expected an array, "
                        "got null");
}

static void
test_parse_wrong_types(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY("\"tenant-a\"", "1", "[]", "true"),
                        "t.json: routing_domains[0]: expected an object, "
                        "got a string",
                        "t.json: provider_subnets[0]: expected an object, "
                        "got an integer",
                        "t.json: lookup_records[0]: expected an object, "
                        "got an array",
                        "t.json: customer_routes[0]: expected an object, "
                        "got a boolean");
    ASSERT_PARSE_ERRORS(POLICY("{\"name\":7}", "", "", ""),
                        "t.json: routing_domains[0].name: expected a string, "
                        "got an integer");
    ASSERT_PARSE_ERRORS(POLICY("{\"name\":\"a\",\"virtual_subnets\":{}}",
                               "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets: "
                        "expected an array, got an object");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "null"), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]: "
                        "expected an object, got null");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"vsid\":\"5001\","
                                  "\"prefix\":\"10.0.0.0/8\"}"), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "vsid: expected an integer, got a string");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"vsid\":5001.5,"
                                  "\"prefix\":\"10.0.0.0/8\"}"), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "vsid: expected an integer, got a number");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"vsid\":5001,"
                                  "\"prefix\":[\"10.0.0.0/8\"]}"), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "prefix: expected a string, got an array");
    ASSERT_PARSE_ERRORS(POLICY("", "{\"footprint\":\"r\",\"prefix\":"
                               "\"10.0.1.0/24\",\"gateway\":false}", "", ""),
                        "t.json: provider_subnets[0].gateway: expected a "
                        "string, got a boolean");
    ASSERT_PARSE_ERRORS(POLICY("", "", "{\"vsid\":5001,\"ca\":\"10.0.0.1\","
                               "\"mac\":\"02:00:00:00:00:01\","
                               "\"pa\":\"10.0.1.11\",\"host\":{},"
                               "\"vm\":null}", ""),
                        "t.json: lookup_records[0].host: expected a string, "
                        "got an object",
                        "t.json: lookup_records[0].vm: expected a string, "
                        "got null");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", "{\"routing_domain\":\"a\","
                               "\"prefix\":\"0.0.0.0/0\",\"next_hop\":"
                               "\"10.0.0.1\",\"metric\":\"10\"}"),
                        "t.json: customer_routes[0].metric: expected an "
                        "integer, got a string");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", "{\"routing_domain\":\"a\","
                               "\"prefix\":\"0.0.0.0/0\",\"next_hop\":"
                               "\"10.0.0.1\",\"metric\":1.5}"),
                        "t.json: customer_routes[0].metric: expected an "
                        "integer, got a number");
}

static void
test_parse_missing_fields(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY("{\"virtual_subnets\":[]}", "", "", ""),
                        "t.json: routing_domains[0]: missing required field "
                        "\"name\"");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"prefix\":\"10.0.0.0/8\"}"),
                               "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]: "
                        "missing required field \"vsid\"");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"vsid\":5001}"), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]: "
                        "missing required field \"prefix\"");
    ASSERT_PARSE_ERRORS(POLICY("", "{\"prefix\":\"10.0.1.0/24\"}", "", ""),
                        "t.json: provider_subnets[0]: missing required field "
                        "\"footprint\"");
    ASSERT_PARSE_ERRORS(POLICY("", "{\"footprint\":\"r\"}", "", ""),
                        "t.json: provider_subnets[0]: missing required field "
                        "\"prefix\"");
    /* An empty record lacks every required field; each is reported. */
    ASSERT_PARSE_ERRORS(POLICY("", "", "{}", ""),
                        "t.json: lookup_records[0]: missing required field "
                        "\"vsid\"",
                        "t.json: lookup_records[0]: missing required field "
                        "\"ca\"",
                        "t.json: lookup_records[0]: missing required field "
                        "\"mac\"",
                        "t.json: lookup_records[0]: missing required field "
                        "\"pa\"",
                        "t.json: lookup_records[0]: missing required field "
                        "\"host\"");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", "{\"metric\":1}"),
                        "t.json: customer_routes[0]: missing required field "
                        "\"routing_domain\"",
                        "t.json: customer_routes[0]: missing required field "
                        "\"prefix\"",
                        "t.json: customer_routes[0]: missing required field "
                        "\"next_hop\"");
    /* Empty strings count as missing values. */
    ASSERT_PARSE_ERRORS(POLICY("{\"name\":\"\"}", "", "", ""),
                        "t.json: routing_domains[0].name: must not be empty");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "", "02:00:00:00:00:01",
                                           "10.0.1.11", "hv1"), ""),
                        "t.json: lookup_records[0].ca: must not be empty");
}

static void
test_parse_unknown_fields(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY("{\"name\":\"a\",\"vsid\":5001}", "", "", ""),
                        "t.json: routing_domains[0]: unknown field \"vsid\" "
                        "(expected one of: name, virtual_subnets)");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"vsid\":5001,\"prefix\":"
                                  "\"10.0.0.0/8\",\"vlan\":7}"), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]: "
                        "unknown field \"vlan\" (expected one of: vsid, "
                        "prefix, gateway)");
    ASSERT_PARSE_ERRORS(POLICY("", "{\"footprint\":\"r\",\"prefix\":"
                               "\"10.0.1.0/24\",\"gw\":\"10.0.1.1\"}", "", ""),
                        "t.json: provider_subnets[0]: unknown field \"gw\" "
                        "(expected one of: footprint, prefix, gateway)");
    ASSERT_PARSE_ERRORS(POLICY("", "", "{\"vsid\":5001,\"ca\":\"10.0.0.1\","
                               "\"mac\":\"02:00:00:00:00:01\","
                               "\"pa\":\"10.0.1.11\",\"host\":\"hv1\","
                               "\"Host\":\"hv2\"}", ""),
                        "t.json: lookup_records[0]: unknown field \"Host\" "
                        "(expected one of: vsid, ca, mac, pa, host, vm)");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", "{\"routing_domain\":\"a\","
                               "\"prefix\":\"0.0.0.0/0\",\"next_hop\":"
                               "\"10.0.0.1\",\"weight\":1}"),
                        "t.json: customer_routes[0]: unknown field \"weight\" "
                        "(expected one of: routing_domain, prefix, next_hop, "
                        "metric)");
}

static void
test_parse_vsid_range(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY(RD("a", VS(4095, "10.0.0.0/8")), "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "vsid: 4095 is out of range (4096 to 16777214)");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", VS(16777215, "10.0.0.0/8")),
                               "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "vsid: 16777215 is out of range (4096 to 16777214)");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(4095, "10.0.0.1",
                                           "02:00:00:00:00:01", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].vsid: 4095 is out of "
                        "range (4096 to 16777214)");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(16777215, "10.0.0.1",
                                           "02:00:00:00:00:01", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].vsid: 16777215 is out of "
                        "range (4096 to 16777214)");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(-5001, "10.0.0.1",
                                           "02:00:00:00:00:01", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].vsid: -5001 is out of "
                        "range (4096 to 16777214)");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(0, "10.0.0.1",
                                           "02:00:00:00:00:01", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].vsid: 0 is out of "
                        "range (4096 to 16777214)");
}

static void
test_parse_bad_addresses(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.300",
                                           "02:00:00:00:00:01", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].ca: 192.168.10.300 is not "
                        "an IPv4 or IPv6 address");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "02:00:00:00:00:01",
                                           "::ffff:10.0.1.11", "hv1"), ""),
                        "t.json: lookup_records[0].pa: ::ffff:10.0.1.11: "
                        "write IPv4 addresses in dotted form");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "02:00:00:00:00:01",
                                           "hv1.example.com", "hv1"), ""),
                        "t.json: lookup_records[0].pa: hv1.example.com is "
                        "not an IPv4 or IPv6 address");
    ASSERT_PARSE_ERRORS(POLICY(RD("a", "{\"vsid\":5001,\"prefix\":"
                                  "\"10.0.0.0/8\",\"gateway\":\"10.0.0.x\"}"),
                               "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "gateway: 10.0.0.x is not an IPv4 or IPv6 address");
    ASSERT_PARSE_ERRORS(POLICY("", "{\"footprint\":\"r\",\"prefix\":"
                               "\"10.0.1.0/24\",\"gateway\":\"10.0.1\"}",
                               "", ""),
                        "t.json: provider_subnets[0].gateway: 10.0.1 is not "
                        "an IPv4 or IPv6 address");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", ROUTE("a", "0.0.0.0/0",
                                                 "2001:db8::g")),
                        "t.json: customer_routes[0].next_hop: 2001:db8::g "
                        "is not an IPv4 or IPv6 address");
}

static void
test_parse_bad_prefixes(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY(RD("tenant-a", VS(5001, "192.168.10.1/24")),
                               "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "prefix: 192.168.10.1/24 has host bits set "
                        "(did you mean 192.168.10.0/24?)");
    ASSERT_PARSE_ERRORS(POLICY(RD("tenant-a", VS(5001, "2001:db8:a::1/64")),
                               "", "", ""),
                        "t.json: routing_domains[0].virtual_subnets[0]."
                        "prefix: 2001:db8:a::1/64 has host bits set "
                        "(did you mean 2001:db8:a::/64?)");
    ASSERT_PARSE_ERRORS(POLICY("", PS("rack-1", "10.0.1.0"), "", ""),
                        "t.json: provider_subnets[0].prefix: 10.0.1.0 is not "
                        "a prefix (expected ADDRESS/LENGTH)");
    ASSERT_PARSE_ERRORS(POLICY("", PS("rack-1", "10.0.1.0/33"), "", ""),
                        "t.json: provider_subnets[0].prefix: 10.0.1.0/33: "
                        "prefix length must be 0 to 32");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", ROUTE("a", "::/129", "::1")),
                        "t.json: customer_routes[0].prefix: ::/129: "
                        "prefix length must be 0 to 128");
    ASSERT_PARSE_ERRORS(POLICY("", "", "", ROUTE("a", "default/0",
                                                 "10.0.0.1")),
                        "t.json: customer_routes[0].prefix: default/0: "
                        "bad address before the '/'");
}

static void
test_parse_bad_macs(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "01:00:5E:00:00:01", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].mac: 01:00:5E:00:00:01 "
                        "is a multicast MAC; a VM's MAC must be unicast");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "ff:ff:ff:ff:ff:ff", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].mac: ff:ff:ff:ff:ff:ff "
                        "is a multicast MAC; a VM's MAC must be unicast");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "00:00:00:00:00:00", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].mac: 00:00:00:00:00:00 "
                        "is not a usable MAC");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "02:00:c0:a8:0a:zz", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].mac: 02:00:c0:a8:0a:zz "
                        "is not a MAC address (expected xx:xx:xx:xx:xx:xx)");
    ASSERT_PARSE_ERRORS(POLICY("", "", REC(5001, "192.168.10.1",
                                           "02:00:c0:a8:0a:01 ", "10.0.1.11",
                                           "hv1"), ""),
                        "t.json: lookup_records[0].mac: 02:00:c0:a8:0a:01  "
                        "is not a MAC address (expected xx:xx:xx:xx:xx:xx)");
}

static void
test_parse_negative_metric(void **state OVS_UNUSED)
{
    ASSERT_PARSE_ERRORS(POLICY("", "", "",
                               "{\"routing_domain\":\"a\",\"prefix\":"
                               "\"0.0.0.0/0\",\"next_hop\":\"10.0.0.1\","
                               "\"metric\":-1}"),
                        "t.json: customer_routes[0].metric: -1 is negative");
}

/* Every bad item is reported, in file order, and left out of the policy;
 * good items around it are kept. */
static void
test_parse_all_errors_and_drops(void **state OVS_UNUSED)
{
    static const char text[] = POLICY(
        RD("tenant-a", VS(5001, "192.168.10.0/24") ","
           VS(99, "192.168.11.0/24") "," VS(5003, "192.168.12.1/24") ","
           VS(5004, "192.168.13.0/24")) ","
        "{\"name\":\"\"},"
        RD("tenant-b", VS(6001, "10.20.0.0/16")),
        PS("rack-1", "10.0.1.0/24") "," PS("rack-2", "10.0.2.0/33"),
        REC(5001, "192.168.10.1", "02:00:00:00:00:01", "10.0.1.11", "hv1") ","
        REC(5001, "192.168.10.2", "03:00:00:00:00:02", "10.0.1.11", "hv1") ","
        REC(5001, "192.168.10.3", "02:00:00:00:00:03", "10.0.1.11", "hv1"),
        ROUTE("tenant-a", "0.0.0.0/0", "192.168.10.254") ","
        ROUTE("tenant-a", "10.0.0.0/8", "nowhere"));
    struct policy p;
    struct svec errors = SVEC_EMPTY_INITIALIZER;

    policy_init(&p);
    assert_false(policy_parse_string(text, FILE_NAME, &p, &errors));
    ASSERT_ERRORS(&errors,
                  "t.json: routing_domains[0].virtual_subnets[1].vsid: 99 is "
                  "out of range (4096 to 16777214)",
                  "t.json: routing_domains[0].virtual_subnets[2].prefix: "
                  "192.168.12.1/24 has host bits set (did you mean "
                  "192.168.12.0/24?)",
                  "t.json: routing_domains[1].name: must not be empty",
                  "t.json: provider_subnets[1].prefix: 10.0.2.0/33: prefix "
                  "length must be 0 to 32",
                  "t.json: lookup_records[1].mac: 03:00:00:00:00:02 is a "
                  "multicast MAC; a VM's MAC must be unicast",
                  "t.json: customer_routes[1].next_hop: nowhere is not an "
                  "IPv4 or IPv6 address");

    assert_int_equal(p.n_rds, 2);
    assert_string_equal(p.rds[0].name, "tenant-a");
    assert_string_equal(p.rds[1].name, "tenant-b");
    assert_int_equal(p.rds[1].origin.index, 2);
    assert_int_equal(p.n_vsubnets, 3);
    assert_int_equal(p.vsubnets[0].vsid, 5001);
    assert_int_equal(p.vsubnets[1].vsid, 5004);
    assert_int_equal(p.vsubnets[1].origin.index, 3);
    assert_int_equal(p.vsubnets[1].origin.parent, 0);
    assert_int_equal(p.vsubnets[2].vsid, 6001);
    assert_string_equal(p.vsubnets[2].routing_domain, "tenant-b");
    assert_int_equal(p.vsubnets[2].origin.parent, 2);
    assert_int_equal(p.n_psubnets, 1);
    assert_int_equal(p.n_records, 2);
    assert_string_equal(p.records[0].ca, "192.168.10.1");
    assert_string_equal(p.records[1].ca, "192.168.10.3");
    assert_int_equal(p.records[1].origin.index, 2);
    assert_int_equal(p.n_routes, 1);

    /* Errors are appended to what is already there. */
    size_t n = errors.n;
    struct policy q;
    policy_init(&q);
    assert_false(policy_parse_string("[]", FILE_NAME, &q, &errors));
    assert_int_equal(errors.n, n + 1);
    policy_destroy(&q);
    policy_init(&q);
    assert_true(policy_parse_string("{}", FILE_NAME, &q, &errors));
    assert_int_equal(errors.n, n + 1);
    policy_destroy(&q);

    policy_destroy(&p);
    svec_destroy(&errors);
}

/* ------------------------------------------------------------------ */
/* Validator.                                                         */
/* ------------------------------------------------------------------ */

static void
test_validate_example_and_v6(void **state OVS_UNUSED)
{
    struct policy p;

    valid_ok(example_policy, &p);
    policy_destroy(&p);

    /* Dual stack, two tenants reusing the same customer space, records in
     * several provider subnets (below, between and above in address order),
     * the same PA for two VMs of one host. */
    valid_ok(POLICY(
                 RD("tenant-a", "{\"vsid\":5001,\"prefix\":\"192.168.10.0/24\","
                    "\"gateway\":\"192.168.10.254\"},"
                    "{\"vsid\":5002,\"prefix\":\"2001:db8:a::/64\","
                    "\"gateway\":\"2001:db8:a::1\"}") ","
                 RD("tenant-b", "{\"vsid\":6001,\"prefix\":\"192.168.10.0/24\","
                    "\"gateway\":\"192.168.10.254\"}"),
                 PS("rack-1", "10.0.1.0/24") "," PS("rack-3", "10.0.3.0/24") ","
                 PS("rack-2", "10.0.2.0/24") "," PS("rack-6", "fd00::/64") ","
                 "{\"footprint\":\"rack-9\",\"prefix\":\"172.16.0.0/12\","
                 "\"gateway\":\"172.16.0.1\"}",
                 REC(5001, "192.168.10.1", "02:00:00:00:00:01", "10.0.1.11",
                     "hv1") ","
                 REC(5001, "192.168.10.2", "02:00:00:00:00:02", "10.0.1.11",
                     "hv1") ","
                 REC(6001, "192.168.10.1", "02:00:00:00:00:01", "10.0.3.255",
                     "hv3") ","
                 REC(5002, "2001:db8:a::10", "02:00:00:00:00:03",
                     "fd00::12", "hv6") ","
                 REC(6001, "192.168.10.3", "02:00:00:00:00:04", "172.31.0.9",
                     "hv9") ","
                 REC(5001, "192.168.10.4", "02:00:00:00:00:05", "10.0.2.0",
                     "hv2"),
                 ROUTE("tenant-a", "0.0.0.0/0", "192.168.10.254") ","
                 ROUTE("tenant-a", "::/0", "2001:db8:a::1") ","
                 ROUTE("tenant-b", "0.0.0.0/0", "192.168.10.254") ","
                 ROUTE("tenant-a", "10.0.0.0/8", "192.168.10.1")),
             &p);
    policy_destroy(&p);
}

static void
test_validate_duplicate_routing_domain(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", VS(5001, "192.168.10.0/24")) ","
               RD("tenant-b", "") ","
               RD("tenant-a", VS(5002, "192.168.20.0/24")), "", "", ""),
        "t.json: routing_domains[2].name: routing domain tenant-a is declared "
        "twice (first at routing_domains[0])");
}

static void
test_validate_duplicate_vsid(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", VS(5001, "192.168.10.0/24")) ","
               RD("tenant-b", VS(6001, "10.0.0.0/24") ","
                  VS(5001, "192.168.20.0/24")), "", "", ""),
        "t.json: routing_domains[1].virtual_subnets[1].vsid: VSID 5001 is "
        "already declared in routing domain tenant-a "
        "(routing_domains[0].virtual_subnets[0])");
    /* Also within one routing domain. */
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", VS(5001, "192.168.10.0/24") ","
                  VS(5001, "192.168.20.0/24")), "", "", ""),
        "t.json: routing_domains[0].virtual_subnets[1].vsid: VSID 5001 is "
        "already declared in routing domain tenant-a "
        "(routing_domains[0].virtual_subnets[0])");
}

static void
test_validate_gateway_outside_prefix(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", "{\"vsid\":5001,\"prefix\":\"192.168.10.0/24\","
                  "\"gateway\":\"192.168.11.1\"}"), "", "", ""),
        "t.json: routing_domains[0].virtual_subnets[0].gateway: 192.168.11.1 "
        "is outside the subnet's prefix 192.168.10.0/24");
    /* An IPv6 gateway is never inside an IPv4 prefix. */
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", "{\"vsid\":5001,\"prefix\":\"0.0.0.0/0\","
                  "\"gateway\":\"::1\"}"), "", "", ""),
        "t.json: routing_domains[0].virtual_subnets[0].gateway: ::1 "
        "is outside the subnet's prefix 0.0.0.0/0");
    ASSERT_VALIDATE_ERRORS(
        POLICY("", PS("rack-1", "10.0.1.0/24") ","
               "{\"footprint\":\"rack-2\",\"prefix\":\"10.0.2.0/24\","
               "\"gateway\":\"10.0.1.1\"}", "", ""),
        "t.json: provider_subnets[1].gateway: 10.0.1.1 is outside the "
        "subnet's prefix 10.0.2.0/24");
}

static void
test_validate_overlapping_virtual_subnets(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", VS(5001, "192.168.10.0/24") ","
                  VS(5002, "192.168.0.0/16")), "", "", ""),
        "t.json: routing_domains[0].virtual_subnets[1].prefix: "
        "192.168.0.0/16 overlaps virtual subnet 5001 (192.168.10.0/24) of the "
        "same routing domain tenant-a");
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", VS(5001, "2001:db8::/32") ","
                  VS(5002, "10.0.0.0/8") "," VS(5003, "2001:db8:5::/48")),
               "", "", ""),
        "t.json: routing_domains[0].virtual_subnets[2].prefix: "
        "2001:db8:5::/48 overlaps virtual subnet 5001 (2001:db8::/32) of the "
        "same routing domain tenant-a");

    /* The same or overlapping customer space in different routing domains is
     * fine, and so are the IPv4 and IPv6 default prefixes side by side. */
    struct policy p;
    valid_ok(POLICY(RD("tenant-a", VS(5001, "192.168.10.0/24") ","
                       VS(5002, "::/0") "," VS(5003, "0.0.0.0/1")) ","
                    RD("tenant-b", VS(6001, "192.168.10.0/24")) ","
                    RD("tenant-c", VS(7001, "192.168.0.0/16")),
                    "", "", ""), &p);
    policy_destroy(&p);
}

static void
test_validate_overlapping_provider_subnets(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY("", PS("rack-1", "10.0.1.0/24") "," PS("rack-2", "10.0.2.0/24")
               "," PS("pod-1", "10.0.0.0/16"), "", ""),
        "t.json: provider_subnets[2].prefix: 10.0.0.0/16 overlaps provider "
        "subnet 10.0.1.0/24 (provider_subnets[0])",
        "t.json: provider_subnets[2].prefix: 10.0.0.0/16 overlaps provider "
        "subnet 10.0.2.0/24 (provider_subnets[1])");
    ASSERT_VALIDATE_ERRORS(
        POLICY("", PS("rack-1", "10.0.1.0/24") "," PS("rack-1b",
                                                      "10.0.1.0/24"), "", ""),
        "t.json: provider_subnets[1].prefix: 10.0.1.0/24 overlaps provider "
        "subnet 10.0.1.0/24 (provider_subnets[0])");
}

static void
test_validate_record_vsid_undeclared(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1 ","
               REC(5002, "192.168.10.2", "02:00:00:00:00:02", "10.0.1.11",
                   "hv1"), ""),
        "t.json: lookup_records[1].vsid: VSID 5002 is not declared in any "
        "routing domain");
}

static void
test_validate_ca_outside_subnet(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1 ","
               REC(5001, "192.168.11.5", "02:00:00:00:00:02", "10.0.1.11",
                   "hv1"), ""),
        "t.json: lookup_records[1].ca: 192.168.11.5 is outside virtual subnet "
        "5001 (192.168.10.0/24)");
    /* The other family. */
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC(5001, "2001:db8::5", "02:00:00:00:00:02",
                               "10.0.1.11", "hv1"), ""),
        "t.json: lookup_records[0].ca: 2001:db8::5 is outside virtual subnet "
        "5001 (192.168.10.0/24)");
}

static void
test_validate_ca_is_gateway(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC(5001, "192.168.10.254", "02:00:00:00:00:02",
                               "10.0.1.11", "hv1"), ""),
        "t.json: lookup_records[0].ca: 192.168.10.254 is the gateway of "
        "virtual subnet 5001");
    /* Compared in canonical form. */
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD("tenant-a", "{\"vsid\":5002,\"prefix\":\"2001:db8:a::/64\","
                  "\"gateway\":\"2001:DB8:A:0:0:0:0:1\"}"), PS_1,
               REC(5002, "2001:db8:a:0::1", "02:00:00:00:00:02",
                   "10.0.1.11", "hv1"), ""),
        "t.json: lookup_records[0].ca: 2001:db8:a::1 is the gateway of "
        "virtual subnet 5002");
}

static void
test_validate_duplicate_ca(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1 ","
               REC(5001, "192.168.10.1", "02:00:00:00:00:02", "10.0.1.12",
                   "hv2"), ""),
        "t.json: lookup_records[1].ca: 192.168.10.1 is already used in VSID "
        "5001 by lookup_records[0]");

    /* The same CA in another VSID is fine. */
    struct policy p;
    valid_ok(POLICY(RD_A "," RD("tenant-b", VS(6001, "192.168.10.0/24")),
                    PS_1, REC_1 ","
                    REC(6001, "192.168.10.1", "02:00:00:00:00:02",
                        "10.0.1.12", "hv2"), ""), &p);
    policy_destroy(&p);
}

static void
test_validate_duplicate_mac(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1 ","
               REC(5001, "192.168.10.2", "02:00:C0:A8:0A:01", "10.0.1.11",
                   "hv1"), ""),
        "t.json: lookup_records[1].mac: 02:00:c0:a8:0a:01 is already used in "
        "VSID 5001 by lookup_records[0]");

    /* The same MAC in another VSID is fine. */
    struct policy p;
    valid_ok(POLICY(RD_A "," RD("tenant-b", VS(6001, "192.168.20.0/24")),
                    PS_1, REC_1 ","
                    REC(6001, "192.168.20.1", "02:00:c0:a8:0a:01",
                        "10.0.1.11", "hv1"), ""), &p);
    policy_destroy(&p);
}

static void
test_validate_pa_outside_provider_subnets(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC(5001, "192.168.10.1", "02:00:00:00:00:01",
                               "10.0.2.11", "hv1") ","
               REC(5001, "192.168.10.2", "02:00:00:00:00:02",
                   "10.0.0.255", "hv2") ","
               REC(5001, "192.168.10.3", "02:00:00:00:00:03",
                   "fd00::11", "hv3"), ""),
        "t.json: lookup_records[0].pa: 10.0.2.11 is not inside any provider "
        "subnet",
        "t.json: lookup_records[1].pa: 10.0.0.255 is not inside any provider "
        "subnet",
        "t.json: lookup_records[2].pa: fd00::11 is not inside any provider "
        "subnet");
    /* No provider subnets at all. */
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, "", REC_1, ""),
        "t.json: lookup_records[0].pa: 10.0.1.11 is not inside any provider "
        "subnet");
}

/* An IPv6 provider prefix such as ::/0 or ::/64 spans the ::ffff:a.b.c.d
 * range where IPv4 subnets are kept without "overlapping" them; the search
 * for a PA's subnet must still find it. */
static void
test_validate_pa_in_ipv6_subnet_spanning_ipv4(void **state OVS_UNUSED)
{
    struct policy p;
    valid_ok(POLICY(RD_A, PS_1 "," PS("rack-6", "::/0"), REC_1 ","
                    REC(5001, "192.168.10.2", "02:00:00:00:00:02",
                        "2001:db8::5", "hv6"), ""), &p);
    policy_destroy(&p);
    valid_ok(POLICY(RD_A, PS("rack-6", "::/64") "," PS_1, REC_1 ","
                    REC(5001, "192.168.10.2", "02:00:00:00:00:02",
                        "::1:0:0:5", "hv6"), ""), &p);
    policy_destroy(&p);
}

static void
test_validate_pa_is_gateway(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC(5001, "192.168.10.1", "02:00:00:00:00:01",
                               "10.0.1.1", "hv1"), ""),
        "t.json: lookup_records[0].pa: 10.0.1.1 is the gateway of provider "
        "subnet 10.0.1.0/24");
}

static void
test_validate_pa_on_two_hosts(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1 ","
               REC(5001, "192.168.10.2", "02:00:00:00:00:02", "10.0.1.12",
                   "hv2") ","
               REC(5001, "192.168.10.3", "02:00:00:00:00:03", "10.0.1.11",
                   "hv2"), ""),
        "t.json: lookup_records[2].pa: 10.0.1.11 belongs to host hv1 "
        "(lookup_records[0]), not hv2");
}

static void
test_validate_route_unknown_domain(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1, ROUTE_1 ","
               ROUTE("tenant-x", "0.0.0.0/0", "192.168.10.254")),
        "t.json: customer_routes[1].routing_domain: no routing domain is "
        "named tenant-x");
}

static void
test_validate_route_family_mismatch(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1, ROUTE("tenant-a", "::/0",
                                        "192.168.10.254")),
        "t.json: customer_routes[0].next_hop: 192.168.10.254 is not of the "
        "same IP version as prefix ::/0");
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1, ROUTE("tenant-a", "0.0.0.0/0",
                                        "2001:db8::1")),
        "t.json: customer_routes[0].next_hop: 2001:db8::1 is not of the "
        "same IP version as prefix 0.0.0.0/0");
}

static void
test_validate_route_next_hop_outside(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1, ROUTE("tenant-a", "0.0.0.0/0",
                                        "192.168.20.1")),
        "t.json: customer_routes[0].next_hop: 192.168.20.1 is not inside any "
        "virtual subnet of routing domain tenant-a");
    /* Inside a subnet, but of another routing domain. */
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A "," RD("tenant-b", VS(6001, "192.168.20.0/24")), PS_1,
               REC_1, ROUTE("tenant-a", "0.0.0.0/0", "192.168.20.1")),
        "t.json: customer_routes[0].next_hop: 192.168.20.1 is not inside any "
        "virtual subnet of routing domain tenant-a");
}

static void
test_validate_duplicate_route(void **state OVS_UNUSED)
{
    ASSERT_VALIDATE_ERRORS(
        POLICY(RD_A, PS_1, REC_1, ROUTE_1 ","
               ROUTE("tenant-a", "10.0.0.0/8", "192.168.10.1") ","
               ROUTE("tenant-a", "0.0.0.0/00", "192.168.10.1")),
        "t.json: customer_routes[2].prefix: routing domain tenant-a already "
        "has a route to 0.0.0.0/0 (customer_routes[0])");

    /* The same prefix in two routing domains is fine. */
    struct policy p;
    valid_ok(POLICY(RD_A "," RD("tenant-b", VS(6001, "192.168.10.0/24")),
                    PS_1, REC_1, ROUTE_1 ","
                    ROUTE("tenant-b", "0.0.0.0/0", "192.168.10.254")), &p);
    policy_destroy(&p);
}

/* Validation reports every problem, not just the first. */
static void
test_validate_reports_all(void **state OVS_UNUSED)
{
    static const char text[] = POLICY(
        RD("tenant-a", "{\"vsid\":5001,\"prefix\":\"192.168.10.0/24\","
           "\"gateway\":\"192.168.10.254\"},"
           VS(5002, "192.168.10.128/25")) ","
        RD("tenant-a", "") ","
        RD("tenant-b", VS(5001, "172.16.0.0/16")),
        PS("rack-1", "10.0.1.0/24") ","
        "{\"footprint\":\"rack-2\",\"prefix\":\"10.0.1.128/25\","
        "\"gateway\":\"10.0.2.1\"}",
        REC(5001, "192.168.10.1", "02:00:00:00:00:01", "10.0.1.11", "hv1") ","
        REC(5001, "192.168.10.254", "02:00:00:00:00:02", "10.0.1.12", "hv1")
        "," REC(5009, "192.168.10.3", "02:00:00:00:00:03", "10.0.1.13", "hv1")
        "," REC(5001, "192.168.10.1", "02:00:00:00:00:01", "10.0.1.11", "hv2")
        "," REC(5001, "192.168.10.5", "02:00:00:00:00:05", "10.9.9.9", "hv1"),
        ROUTE("tenant-a", "0.0.0.0/0", "192.168.10.254") ","
        ROUTE("tenant-a", "0.0.0.0/0", "192.168.10.1") ","
        ROUTE("nobody", "0.0.0.0/0", "192.168.10.1") ","
        ROUTE("tenant-b", "::/0", "172.16.0.1") ","
        ROUTE("tenant-b", "10.0.0.0/8", "192.168.10.1"));
    struct svec errors;

    validate_errors(text, &errors);
    assert_int_equal(errors.n, 15);
    ASSERT_ERRORS(&errors,
        "t.json: routing_domains[1].name: routing domain tenant-a is declared "
        "twice (first at routing_domains[0])",
        "t.json: routing_domains[0].virtual_subnets[1].prefix: "
        "192.168.10.128/25 overlaps virtual subnet 5001 (192.168.10.0/24) of "
        "the same routing domain tenant-a",
        "t.json: routing_domains[2].virtual_subnets[0].vsid: VSID 5001 is "
        "already declared in routing domain tenant-a "
        "(routing_domains[0].virtual_subnets[0])",
        "t.json: provider_subnets[1].gateway: 10.0.2.1 is outside the "
        "subnet's prefix 10.0.1.128/25",
        "t.json: provider_subnets[1].prefix: 10.0.1.128/25 overlaps provider "
        "subnet 10.0.1.0/24 (provider_subnets[0])",
        "t.json: lookup_records[1].ca: 192.168.10.254 is the gateway of "
        "virtual subnet 5001",
        "t.json: lookup_records[2].vsid: VSID 5009 is not declared in any "
        "routing domain",
        "t.json: lookup_records[3].ca: 192.168.10.1 is already used in VSID "
        "5001 by lookup_records[0]",
        "t.json: lookup_records[3].mac: 02:00:00:00:00:01 is already used in "
        "VSID 5001 by lookup_records[0]",
        "t.json: lookup_records[3].pa: 10.0.1.11 belongs to host hv1 "
        "(lookup_records[0]), not hv2",
        "t.json: lookup_records[4].pa: 10.9.9.9 is not inside any provider "
        "subnet",
        "t.json: customer_routes[1].prefix: routing domain tenant-a already "
        "has a route to 0.0.0.0/0 (customer_routes[0])",
        "t.json: customer_routes[2].routing_domain: no routing domain is "
        "named nobody",
        "t.json: customer_routes[3].next_hop: 172.16.0.1 is not of the same "
        "IP version as prefix ::/0",
        "t.json: customer_routes[4].next_hop: 192.168.10.1 is not inside any "
        "virtual subnet of routing domain tenant-b");
    svec_destroy(&errors);
}

/* ------------------------------------------------------------------ */
/* Canonical form.                                                    */
/* ------------------------------------------------------------------ */

/* The example policy, extended, in one order and spelling... */
static const char canon_a[] = POLICY(
    RD("tenant-a", "{\"vsid\":5001,\"prefix\":\"192.168.10.0/24\","
       "\"gateway\":\"192.168.10.254\"},"
       "{\"vsid\":5002,\"prefix\":\"2001:db8:a::/64\"}") ","
    RD("tenant-b", VS(6001, "192.168.10.0/24")),
    "{\"footprint\":\"rack-1\",\"prefix\":\"10.0.1.0/24\","
    "\"gateway\":\"10.0.1.1\"},"
    PS("rack-2", "10.0.2.0/24") "," PS("rack-6", "fd00::/64"),
    "{\"vsid\":5001,\"ca\":\"192.168.10.1\",\"mac\":\"02:00:c0:a8:0a:01\","
    "\"pa\":\"10.0.1.11\",\"host\":\"hv1\",\"vm\":\"web-1\"},"
    REC(5001, "192.168.10.2", "02:00:c0:a8:0a:02", "10.0.2.11", "hv2") ","
    REC(5002, "2001:db8:a::2", "02:00:00:00:00:a2", "fd00::11", "hv6") ","
    REC(6001, "192.168.10.1", "02:00:c0:a8:0a:01", "10.0.1.11", "hv1"),
    ROUTE_1 ","
    ROUTE("tenant-a", "10.0.0.0/8", "192.168.10.1") ","
    ROUTE("tenant-b", "0.0.0.0/0", "192.168.10.254"));

/* ...and the same policy in another order and spelling. */
static const char canon_b[] =
    "{\n"
    "  \"customer_routes\": [\n"
    "    {\"next_hop\": \"192.168.10.254\", \"prefix\": \"0.0.0.0/00\",\n"
    "     \"routing_domain\": \"tenant-b\"},\n"
    "    {\"metric\": 0, \"routing_domain\": \"tenant-a\",\n"
    "     \"prefix\": \"10.0.0.0/8\", \"next_hop\": \"192.168.10.1\"},\n"
    "    {\"metric\": 10, \"routing_domain\": \"tenant-a\",\n"
    "     \"prefix\": \"0.0.0.0/0\", \"next_hop\": \"192.168.10.254\"}\n"
    "  ],\n"
    "  \"lookup_records\": [\n"
    "    {\"host\": \"hv1\", \"pa\": \"10.0.1.11\", \"mac\": "
    "\"02:00:C0:A8:0A:01\",\n"
    "     \"ca\": \"192.168.10.1\", \"vsid\": 6001},\n"
    "    {\"vsid\": 5002, \"ca\": \"2001:0DB8:000A:0:0:0:0:2\",\n"
    "     \"mac\": \"2:0:0:0:0:A2\", \"pa\": \"FD00:0::11\", "
    "\"host\": \"hv6\"},\n"
    "    {\"vm\": \"web-1\", \"vsid\": 5001, \"ca\": \"192.168.10.1\",\n"
    "     \"mac\": \"02:00:c0:a8:0a:01\", \"pa\": \"10.0.1.11\", "
    "\"host\": \"hv1\"},\n"
    "    {\"vsid\": 5001, \"ca\": \"192.168.10.2\", \"mac\": "
    "\"02:00:c0:a8:0a:02\",\n"
    "     \"pa\": \"10.0.2.11\", \"host\": \"hv2\"}\n"
    "  ],\n"
    "  \"provider_subnets\": [\n"
    "    {\"prefix\": \"FD00::/64\", \"footprint\": \"rack-6\"},\n"
    "    {\"prefix\": \"10.0.2.0/24\", \"footprint\": \"rack-2\"},\n"
    "    {\"gateway\": \"10.0.1.1\", \"prefix\": \"10.0.1.0/024\",\n"
    "     \"footprint\": \"rack-1\"}\n"
    "  ],\n"
    "  \"routing_domains\": [\n"
    "    {\"virtual_subnets\": [{\"prefix\": \"192.168.10.0/24\", "
    "\"vsid\": 6001}],\n"
    "     \"name\": \"tenant-b\"},\n"
    "    {\"name\": \"tenant-a\", \"virtual_subnets\": [\n"
    "      {\"vsid\": 5002, \"prefix\": \"2001:DB8:A:0::/64\"},\n"
    "      {\"gateway\": \"192.168.10.254\", \"vsid\": 5001,\n"
    "       \"prefix\": \"192.168.10.0/24\"}]}\n"
    "  ]\n"
    "}\n";

static void
test_canonical_equivalent_inputs(void **state OVS_UNUSED)
{
    char *a = canonical_of(canon_a);
    char *b = canonical_of(canon_b);

    assert_string_equal(a, b);

    /* Spot checks on the canonical text itself: sorted keys, sorted items,
     * canonical spellings, virtual subnets nested without their
     * routing_domain, optional members absent, metric always present. */
    assert_non_null(strstr(a, "\"routing_domains\":[{\"name\":\"tenant-a\","
                           "\"virtual_subnets\":[{\"gateway\":"
                           "\"192.168.10.254\",\"prefix\":\"192.168.10.0/24\","
                           "\"vsid\":5001},{\"prefix\":\"2001:db8:a::/64\","
                           "\"vsid\":5002}]},{\"name\":\"tenant-b\","
                           "\"virtual_subnets\":[{\"prefix\":"
                           "\"192.168.10.0/24\",\"vsid\":6001}]}]"));
    assert_null(strstr(a, "\"routing_domain\":\"tenant-a\",\"vsid\""));
    assert_non_null(strstr(a, "\"provider_subnets\":[{\"footprint\":"
                           "\"rack-1\",\"gateway\":\"10.0.1.1\",\"prefix\":"
                           "\"10.0.1.0/24\"},{\"footprint\":\"rack-2\","
                           "\"prefix\":\"10.0.2.0/24\"},{\"footprint\":"
                           "\"rack-6\",\"prefix\":\"fd00::/64\"}]"));
    assert_non_null(strstr(a, "{\"ca\":\"2001:db8:a::2\",\"host\":\"hv6\","
                           "\"mac\":\"02:00:00:00:00:a2\",\"pa\":\"fd00::11\","
                           "\"vsid\":5002}"));
    assert_non_null(strstr(a, "\"customer_routes\":[{\"metric\":10,"
                           "\"next_hop\":\"192.168.10.254\",\"prefix\":"
                           "\"0.0.0.0/0\",\"routing_domain\":\"tenant-a\"},"
                           "{\"metric\":0,\"next_hop\":\"192.168.10.1\","
                           "\"prefix\":\"10.0.0.0/8\",\"routing_domain\":"
                           "\"tenant-a\"},{\"metric\":0,\"next_hop\":"
                           "\"192.168.10.254\",\"prefix\":\"0.0.0.0/0\","
                           "\"routing_domain\":\"tenant-b\"}]"));
    /* Records by VSID, then CA. */
    const char *r1 = strstr(a, "\"vm\":\"web-1\"");
    const char *r2 = strstr(a, "\"ca\":\"192.168.10.2\"");
    const char *r3 = strstr(a, "\"vsid\":5002}");
    const char *r4 = strstr(a, "\"pa\":\"10.0.1.11\",\"vsid\":6001}");
    assert_true(r1 && r2 && r3 && r4);
    assert_true(r1 < r2 && r2 < r3 && r3 < r4);

    free(a);
    free(b);
}

static void
test_canonical_example_exact(void **state OVS_UNUSED)
{
    char *s = canonical_of(example_policy);
    assert_string_equal(
        s,
        "{\"customer_routes\":[{\"metric\":10,\"next_hop\":\"192.168.10.254\","
        "\"prefix\":\"0.0.0.0/0\",\"routing_domain\":\"tenant-a\"}],"
        "\"lookup_records\":[{\"ca\":\"192.168.10.1\",\"host\":\"hv1\","
        "\"mac\":\"02:00:c0:a8:0a:01\",\"pa\":\"10.0.1.11\",\"vm\":\"web-1\","
        "\"vsid\":5001}],"
        "\"provider_subnets\":[{\"footprint\":\"rack-1\",\"gateway\":"
        "\"10.0.1.1\",\"prefix\":\"10.0.1.0/24\"}],"
        "\"routing_domains\":[{\"name\":\"tenant-a\",\"virtual_subnets\":"
        "[{\"gateway\":\"192.168.10.254\",\"prefix\":\"192.168.10.0/24\","
        "\"vsid\":5001}]}]}");
    free(s);

    s = canonical_of("{}");
    assert_string_equal(s, "{\"customer_routes\":[],\"lookup_records\":[],"
                        "\"provider_subnets\":[],\"routing_domains\":[]}");
    free(s);
}

static void
test_canonical_fixed_point(void **state OVS_UNUSED)
{
    const char *inputs[] = { canon_a, canon_b, example_policy, "{}" };

    for (size_t i = 0; i < ARRAY_SIZE(inputs); i++) {
        char *first = canonical_of(inputs[i]);
        char *second = canonical_of(first);
        assert_string_equal(first, second);

        /* The canonical policy diffs empty against the original. */
        struct policy p, q;
        valid_ok(inputs[i], &p);
        valid_ok(second, &q);
        policy_canonicalize(&p);
        policy_canonicalize(&q);
        struct policy_diff d;
        policy_diff(&p, &q, &d);
        assert_true(policy_diff_is_empty(&d));
        policy_diff_destroy(&d);
        policy_destroy(&p);
        policy_destroy(&q);

        /* Pretty printing changes nothing either. */
        struct json *json = json_from_string(second);
        char *pretty = json_to_string(json, JSSF_PRETTY | JSSF_SORT);
        char *third = canonical_of(pretty);
        assert_string_equal(first, third);
        json_destroy(json);
        free(pretty);
        free(third);

        free(first);
        free(second);
    }
}

/* policy_to_json() of a policy that is not canonicalized keeps its order;
 * canonicalizing sorts each table by its key. */
static void
test_canonicalize_sorts(void **state OVS_UNUSED)
{
    struct policy p;

    valid_ok(canon_b, &p);
    assert_string_equal(p.rds[0].name, "tenant-b");
    assert_int_equal(p.vsubnets[0].vsid, 6001);
    assert_string_equal(p.psubnets[0].prefix, "fd00::/64");
    assert_int_equal(p.records[0].vsid, 6001);

    policy_canonicalize(&p);
    assert_string_equal(p.rds[0].name, "tenant-a");
    assert_string_equal(p.rds[1].name, "tenant-b");
    assert_int_equal(p.vsubnets[0].vsid, 5001);
    assert_int_equal(p.vsubnets[1].vsid, 5002);
    assert_int_equal(p.vsubnets[2].vsid, 6001);
    /* Provider subnets by prefix: IPv4 (::ffff:...) before fd00::. */
    assert_string_equal(p.psubnets[0].prefix, "10.0.1.0/24");
    assert_string_equal(p.psubnets[1].prefix, "10.0.2.0/24");
    assert_string_equal(p.psubnets[2].prefix, "fd00::/64");
    assert_int_equal(p.records[0].vsid, 5001);
    assert_string_equal(p.records[0].ca, "192.168.10.1");
    assert_string_equal(p.records[1].ca, "192.168.10.2");
    assert_int_equal(p.records[2].vsid, 5002);
    assert_int_equal(p.records[3].vsid, 6001);
    assert_string_equal(p.routes[0].routing_domain, "tenant-a");
    assert_string_equal(p.routes[0].prefix, "0.0.0.0/0");
    assert_string_equal(p.routes[1].prefix, "10.0.0.0/8");
    assert_string_equal(p.routes[2].routing_domain, "tenant-b");
    policy_destroy(&p);
}

/* ------------------------------------------------------------------ */
/* Diff.                                                              */
/* ------------------------------------------------------------------ */

static void
diff_texts(const char *old_text, const char *new_text,
           struct policy *old, struct policy *new, struct policy_diff *d)
{
    valid_ok(old_text, old);
    valid_ok(new_text, new);
    policy_canonicalize(old);
    policy_canonicalize(new);
    policy_diff(old, new, d);
}

static void
test_diff_identical(void **state OVS_UNUSED)
{
    struct policy old, new;
    struct policy_diff d;

    diff_texts(canon_a, canon_b, &old, &new, &d);
    assert_true(policy_diff_is_empty(&d));
    assert_int_equal(policy_diff_count(&d), 0);
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        assert_int_equal(d.tables[t].n, 0);
        assert_int_equal(d.tables[t].n_added, 0);
        assert_int_equal(d.tables[t].n_changed, 0);
        assert_int_equal(d.tables[t].n_removed, 0);
    }

    /* Tables without changes are not shown, so an empty diff prints
     * nothing. */
    struct ds s = DS_EMPTY_INITIALIZER;
    policy_diff_format(&d, 10, &s);
    assert_string_equal(ds_cstr(&s), "");
    ds_destroy(&s);

    policy_diff_destroy(&d);
    policy_destroy(&old);
    policy_destroy(&new);

    /* Empty against empty. */
    diff_texts("{}", "{}", &old, &new, &d);
    assert_true(policy_diff_is_empty(&d));
    policy_diff_destroy(&d);
    policy_destroy(&old);
    policy_destroy(&new);
}

/* 'canon_a' with: tenant-b removed (with 6001, its record and route),
 * tenant-c added (with 7001, a record and a route), 5001's gateway changed,
 * 5002 moved to... no: 5002 kept; rack-2 removed, rack-3 added, rack-1's
 * gateway dropped; one record moved to another host, one added; the default
 * route's metric changed. */
static const char diff_new[] = POLICY(
    RD("tenant-a", "{\"vsid\":5001,\"prefix\":\"192.168.10.0/24\","
       "\"gateway\":\"192.168.10.253\"},"
       "{\"vsid\":5002,\"prefix\":\"2001:db8:a::/64\"}") ","
    RD("tenant-c", VS(7001, "172.16.0.0/16")),
    PS("rack-1", "10.0.1.0/24") "," PS("rack-3", "10.0.3.0/24") ","
    PS("rack-6", "fd00::/64"),
    "{\"vsid\":5001,\"ca\":\"192.168.10.1\",\"mac\":\"02:00:c0:a8:0a:01\","
    "\"pa\":\"10.0.1.11\",\"host\":\"hv1\",\"vm\":\"web-1\"},"
    REC(5001, "192.168.10.2", "02:00:c0:a8:0a:02", "10.0.3.11", "hv3") ","
    REC(5001, "192.168.10.3", "02:00:c0:a8:0a:03", "10.0.1.11", "hv1") ","
    REC(5002, "2001:db8:a::2", "02:00:00:00:00:a2", "fd00::11", "hv6") ","
    REC(7001, "172.16.0.5", "02:00:00:00:00:c5", "10.0.3.12", "hv3"),
    "{\"routing_domain\":\"tenant-a\",\"prefix\":\"0.0.0.0/0\","
    "\"next_hop\":\"192.168.10.253\",\"metric\":20},"
    ROUTE("tenant-a", "10.0.0.0/8", "192.168.10.1") ","
    ROUTE("tenant-c", "0.0.0.0/0", "172.16.0.1"));

static void
assert_diff_table(const struct policy_diff *d, enum policy_table t,
                  size_t added, size_t changed, size_t removed)
{
    const struct policy_diff_table *dt = &d->tables[t];
    if (dt->n_added != added || dt->n_changed != changed
        || dt->n_removed != removed) {
        print_message("%s: expected %zu/%zu/%zu, got %zu/%zu/%zu\n",
                      policy_tables[t].name, added, changed, removed,
                      dt->n_added, dt->n_changed, dt->n_removed);
        fail();
    }
    assert_int_equal(dt->n, added + changed + removed);
}

static void
assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle)) {
        print_message("missing \"%s\" in:\n%s\n", needle, haystack);
        fail();
    }
}

static void
test_diff_changes(void **state OVS_UNUSED)
{
    struct policy old, new;
    struct policy_diff d;

    diff_texts(canon_a, diff_new, &old, &new, &d);
    assert_false(policy_diff_is_empty(&d));

    assert_diff_table(&d, POLICY_ROUTING_DOMAINS, 1, 0, 1);
    assert_diff_table(&d, POLICY_VIRTUAL_SUBNETS, 1, 1, 1);
    assert_diff_table(&d, POLICY_PROVIDER_SUBNETS, 1, 1, 1);
    assert_diff_table(&d, POLICY_LOOKUP_RECORDS, 2, 1, 1);
    assert_diff_table(&d, POLICY_CUSTOMER_ROUTES, 1, 1, 1);
    assert_int_equal(policy_diff_count(&d), 15);

    /* Changes point into the two policies, in key order. */
    const struct policy_diff_table *rd = &d.tables[POLICY_ROUTING_DOMAINS];
    assert_null(rd->changes[0].new);
    assert_ptr_equal(rd->changes[0].old, &old.rds[1]);          /* tenant-b */
    assert_null(rd->changes[1].old);
    assert_ptr_equal(rd->changes[1].new, &new.rds[1]);          /* tenant-c */

    const struct policy_diff_table *vs = &d.tables[POLICY_VIRTUAL_SUBNETS];
    assert_ptr_equal(vs->changes[0].old, &old.vsubnets[0]);     /* 5001 */
    assert_ptr_equal(vs->changes[0].new, &new.vsubnets[0]);

    struct ds s = DS_EMPTY_INITIALIZER;
    policy_diff_format(&d, 100, &s);
    const char *out = ds_cstr(&s);
    assert_contains(out, "Routing_Domain   1 added, 0 changed, 1 removed\n"
                    "  - tenant-b\n"
                    "  + tenant-c\n"
                    "Virtual_Subnet   1 added, 1 changed, 1 removed\n");
    assert_contains(out, "  ~ vsid 5001 192.168.10.0/24 in tenant-a gateway "
                    "192.168.10.253  (was: vsid 5001 192.168.10.0/24 in "
                    "tenant-a gateway 192.168.10.254)\n");
    assert_contains(out, "  - vsid 6001 192.168.10.0/24 in tenant-b\n");
    assert_contains(out, "  + vsid 7001 172.16.0.0/16 in tenant-c\n");
    assert_contains(out, "Provider_Subnet  1 added, 1 changed, 1 removed\n");
    assert_contains(out, "  ~ 10.0.1.0/24 footprint rack-1  (was: "
                    "10.0.1.0/24 footprint rack-1 gateway 10.0.1.1)\n");
    assert_contains(out, "  - 10.0.2.0/24 footprint rack-2\n");
    assert_contains(out, "  + 10.0.3.0/24 footprint rack-3\n");
    assert_contains(out, "Lookup_Record    2 added, 1 changed, 1 removed\n");
    assert_contains(out, "  ~ vsid 5001 192.168.10.2 02:00:c0:a8:0a:02 -> "
                    "10.0.3.11 on hv3  (was: vsid 5001 192.168.10.2 "
                    "02:00:c0:a8:0a:02 -> 10.0.2.11 on hv2)\n");
    assert_contains(out, "  + vsid 5001 192.168.10.3 02:00:c0:a8:0a:03 -> "
                    "10.0.1.11 on hv1\n");
    assert_contains(out, "  - vsid 6001 192.168.10.1 02:00:c0:a8:0a:01 -> "
                    "10.0.1.11 on hv1\n");
    assert_contains(out, "  + vsid 7001 172.16.0.5 02:00:00:00:00:c5 -> "
                    "10.0.3.12 on hv3\n");
    assert_contains(out, "Customer_Route   1 added, 1 changed, 1 removed\n"
                    "  ~ tenant-a 0.0.0.0/0 via 192.168.10.253 metric 20  "
                    "(was: tenant-a 0.0.0.0/0 via 192.168.10.254 metric 10)\n"
                    "  - tenant-b 0.0.0.0/0 via 192.168.10.254 metric 0\n"
                    "  + tenant-c 0.0.0.0/0 via 172.16.0.1 metric 0\n");
    /* Unchanged items are not listed. */
    assert_null(strstr(out, "web-1"));
    assert_null(strstr(out, "fd00::"));
    assert_null(strstr(out, "10.0.0.0/8"));
    ds_clear(&s);

    /* At most 'max_per_table' changes per table, then a count. */
    policy_diff_format(&d, 1, &s);
    out = ds_cstr(&s);
    assert_contains(out, "Routing_Domain   1 added, 0 changed, 1 removed\n"
                    "  - tenant-b\n"
                    "  ... and 1 more\n"
                    "Virtual_Subnet");
    assert_contains(out, "Lookup_Record    2 added, 1 changed, 1 removed\n"
                    "  ~ vsid 5001 192.168.10.2");
    assert_contains(out, "  ... and 3 more\n");
    ds_clear(&s);

    policy_diff_format(&d, 0, &s);
    assert_contains(ds_cstr(&s), "Routing_Domain   1 added, 0 changed, "
                    "1 removed\n  ... and 2 more\nVirtual_Subnet");
    assert_null(strstr(ds_cstr(&s), "tenant-b"));
    ds_destroy(&s);

    policy_diff_destroy(&d);
    for (enum policy_table t = 0; t < POLICY_N_TABLES; t++) {
        assert_null(d.tables[t].changes);
        assert_int_equal(d.tables[t].n, 0);
    }

    /* The reverse diff swaps added and removed. */
    policy_diff(&new, &old, &d);
    assert_diff_table(&d, POLICY_ROUTING_DOMAINS, 1, 0, 1);
    assert_diff_table(&d, POLICY_VIRTUAL_SUBNETS, 1, 1, 1);
    assert_diff_table(&d, POLICY_PROVIDER_SUBNETS, 1, 1, 1);
    assert_diff_table(&d, POLICY_LOOKUP_RECORDS, 1, 1, 2);
    assert_diff_table(&d, POLICY_CUSTOMER_ROUTES, 1, 1, 1);
    policy_diff_destroy(&d);

    policy_destroy(&old);
    policy_destroy(&new);
}

static void
test_diff_from_and_to_empty(void **state OVS_UNUSED)
{
    struct policy old, new;
    struct policy_diff d;

    diff_texts("{}", canon_a, &old, &new, &d);
    assert_diff_table(&d, POLICY_ROUTING_DOMAINS, 2, 0, 0);
    assert_diff_table(&d, POLICY_VIRTUAL_SUBNETS, 3, 0, 0);
    assert_diff_table(&d, POLICY_PROVIDER_SUBNETS, 3, 0, 0);
    assert_diff_table(&d, POLICY_LOOKUP_RECORDS, 4, 0, 0);
    assert_diff_table(&d, POLICY_CUSTOMER_ROUTES, 3, 0, 0);
    assert_int_equal(policy_diff_count(&d), 15);
    policy_diff_destroy(&d);

    policy_diff(&new, &old, &d);
    assert_diff_table(&d, POLICY_ROUTING_DOMAINS, 0, 0, 2);
    assert_diff_table(&d, POLICY_LOOKUP_RECORDS, 0, 0, 4);
    assert_int_equal(policy_diff_count(&d), 15);
    struct ds s = DS_EMPTY_INITIALIZER;
    policy_diff_format(&d, 100, &s);
    assert_contains(ds_cstr(&s), "Routing_Domain   0 added, 0 changed, "
                    "2 removed\n  - tenant-a\n  - tenant-b\n");
    assert_null(strstr(ds_cstr(&s), "  + "));
    assert_null(strstr(ds_cstr(&s), "  ~ "));
    ds_destroy(&s);
    policy_diff_destroy(&d);

    policy_destroy(&old);
    policy_destroy(&new);
}

/* A virtual subnet that moves to another routing domain, and a record whose
 * only change is its optional VM name, are changes, not add+remove. */
static void
test_diff_value_changes(void **state OVS_UNUSED)
{
    struct policy old, new;
    struct policy_diff d;

    diff_texts(POLICY(RD("a", VS(5001, "10.0.0.0/24")) "," RD("b", ""),
                      PS_1, REC(5001, "10.0.0.1", "02:00:00:00:00:01",
                                "10.0.1.11", "hv1"), ""),
               POLICY(RD("a", "") "," RD("b", VS(5001, "10.0.0.0/24")),
                      PS_1, "{\"vsid\":5001,\"ca\":\"10.0.0.1\",\"mac\":"
                      "\"02:00:00:00:00:01\",\"pa\":\"10.0.1.11\",\"host\":"
                      "\"hv1\",\"vm\":\"db-1\"}", ""),
               &old, &new, &d);
    assert_diff_table(&d, POLICY_ROUTING_DOMAINS, 0, 0, 0);
    assert_diff_table(&d, POLICY_VIRTUAL_SUBNETS, 0, 1, 0);
    assert_diff_table(&d, POLICY_PROVIDER_SUBNETS, 0, 0, 0);
    assert_diff_table(&d, POLICY_LOOKUP_RECORDS, 0, 1, 0);
    assert_diff_table(&d, POLICY_CUSTOMER_ROUTES, 0, 0, 0);

    struct ds s = DS_EMPTY_INITIALIZER;
    policy_diff_format(&d, 10, &s);
    assert_contains(ds_cstr(&s), "  ~ vsid 5001 10.0.0.0/24 in b  "
                    "(was: vsid 5001 10.0.0.0/24 in a)\n");
    assert_contains(ds_cstr(&s), "  ~ vsid 5001 10.0.0.1 02:00:00:00:00:01 "
                    "-> 10.0.1.11 on hv1 vm db-1  (was: vsid 5001 10.0.0.1 "
                    "02:00:00:00:00:01 -> 10.0.1.11 on hv1)\n");
    ds_destroy(&s);

    policy_diff_destroy(&d);
    policy_destroy(&old);
    policy_destroy(&new);
}

/* ------------------------------------------------------------------ */

int
main(void)
{
    const struct CMUnitTest tests[] = {
        /* Prefix helpers. */
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_addr_cmp),
        cmocka_unit_test(test_prefix_parse),
        cmocka_unit_test(test_prefix_parse_errors),
        cmocka_unit_test(test_prefix_contains),
        cmocka_unit_test(test_prefix_overlaps),
        cmocka_unit_test(test_prefix_cmp),
        cmocka_unit_test(test_parse_field_helpers),

        /* Parser. */
        cmocka_unit_test(test_parse_example),
        cmocka_unit_test(test_parse_canonicalizes_fields),
        cmocka_unit_test(test_parse_optional_and_empty),
        cmocka_unit_test(test_parse_file),
        cmocka_unit_test(test_parse_syntax_errors),
        cmocka_unit_test(test_parse_top_level_errors),
        cmocka_unit_test(test_parse_wrong_types),
        cmocka_unit_test(test_parse_missing_fields),
        cmocka_unit_test(test_parse_unknown_fields),
        cmocka_unit_test(test_parse_vsid_range),
        cmocka_unit_test(test_parse_bad_addresses),
        cmocka_unit_test(test_parse_bad_prefixes),
        cmocka_unit_test(test_parse_bad_macs),
        cmocka_unit_test(test_parse_negative_metric),
        cmocka_unit_test(test_parse_all_errors_and_drops),

        /* Validator. */
        cmocka_unit_test(test_validate_example_and_v6),
        cmocka_unit_test(test_validate_duplicate_routing_domain),
        cmocka_unit_test(test_validate_duplicate_vsid),
        cmocka_unit_test(test_validate_gateway_outside_prefix),
        cmocka_unit_test(test_validate_overlapping_virtual_subnets),
        cmocka_unit_test(test_validate_overlapping_provider_subnets),
        cmocka_unit_test(test_validate_record_vsid_undeclared),
        cmocka_unit_test(test_validate_ca_outside_subnet),
        cmocka_unit_test(test_validate_ca_is_gateway),
        cmocka_unit_test(test_validate_duplicate_ca),
        cmocka_unit_test(test_validate_duplicate_mac),
        cmocka_unit_test(test_validate_pa_outside_provider_subnets),
        cmocka_unit_test(test_validate_pa_is_gateway),
        cmocka_unit_test(test_validate_pa_in_ipv6_subnet_spanning_ipv4),
        cmocka_unit_test(test_validate_pa_on_two_hosts),
        cmocka_unit_test(test_validate_route_unknown_domain),
        cmocka_unit_test(test_validate_route_family_mismatch),
        cmocka_unit_test(test_validate_route_next_hop_outside),
        cmocka_unit_test(test_validate_duplicate_route),
        cmocka_unit_test(test_validate_reports_all),

        /* Canonical form. */
        cmocka_unit_test(test_canonical_equivalent_inputs),
        cmocka_unit_test(test_canonical_example_exact),
        cmocka_unit_test(test_canonical_fixed_point),
        cmocka_unit_test(test_canonicalize_sorts),

        /* Diff. */
        cmocka_unit_test(test_diff_identical),
        cmocka_unit_test(test_diff_changes),
        cmocka_unit_test(test_diff_from_and_to_empty),
        cmocka_unit_test(test_diff_value_changes),
    };

    return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
