#include <config.h>

#include "policy/ops.h"

#include <stdarg.h>
#include <string.h>

#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"
#include "uuid.h"

/* An empty transaction on the vmroam database: its name, to which to
 * append operations. */
struct json *
policy_ops_create(void)
{
    return json_array_create_1(json_string_create("vmroam"));
}

/* Operation 'op' on the rows of 'table' that 'where' selects. */
struct json *
policy_op(const char *op, const char *table, struct json *where)
{
    struct json *o = json_object_create();
    json_object_put_string(o, "op", op);
    json_object_put_string(o, "table", table);
    json_object_put(o, "where", where);
    return o;
}

/* The 'columns' of the rows of 'table' that 'where' selects. */
struct json *
policy_op_select(const char *table, struct json *where, struct json *columns)
{
    struct json *o = policy_op("select", table, where);
    json_object_put(o, "columns", columns);
    return o;
}

/* A check that makes the transaction fail unless the rows of 'table' that
 * 'where' selects hold exactly 'rows' (of 'columns'). */
struct json *
policy_op_wait(const char *table, struct json *where, struct json *columns,
               struct json *rows)
{
    struct json *o = policy_op("wait", table, where);
    json_object_put(o, "columns", columns);
    json_object_put_string(o, "until", "==");
    json_object_put(o, "rows", rows);
    json_object_put(o, "timeout", json_integer_create(0));
    return o;
}

/* The insertion of 'row' into 'table', with the UUID 'uuid' if nonnull. */
struct json *
policy_op_insert(const char *table, const struct uuid *uuid,
                 struct json *row)
{
    struct json *o = json_object_create();
    json_object_put_string(o, "op", "insert");
    json_object_put_string(o, "table", table);
    if (uuid) {
        json_object_put(o, "uuid", json_string_create_nocopy(
                            xasprintf(UUID_FMT, UUID_ARGS(uuid))));
    }
    json_object_put(o, "row", row);
    return o;
}

/* The clause "'column' 'function' 'arg'" of a condition. */
struct json *
policy_op_clause(const char *column, const char *function, struct json *arg)
{
    return json_array_create_3(json_string_create(column),
                               json_string_create(function), arg);
}

/* The condition that selects the row whose UUID is 'uuid'. */
struct json *
policy_op_where_uuid(const struct uuid *uuid)
{
    return json_array_create_1(policy_op_clause(
        "_uuid", "==",
        json_array_create_2(json_string_create("uuid"),
                            json_string_create_nocopy(
                                xasprintf(UUID_FMT, UUID_ARGS(uuid))))));
}

/* The column names given, up to a null one. */
struct json *
policy_op_columns(const char *name, ...)
{
    struct json *c = json_array_create_empty();
    va_list args;
    va_start(args, name);
    for (; name; name = va_arg(args, const char *)) {
        json_array_add(c, json_string_create(name));
    }
    va_end(args);
    return c;
}

struct json *
policy_op_empty_set(void)
{
    return json_array_create_2(json_string_create("set"),
                               json_array_create_empty());
}

/* An optional string column's value: 's', or none if 's' is null. */
struct json *
policy_op_optional_string(const char *s)
{
    return s ? json_string_create(s) : policy_op_empty_set();
}

/* The rows the result of operation 'i' holds, or NULL if it has none (it
 * failed, or was no select). */
const struct json_array *
policy_op_rows(const struct json *results, size_t i)
{
    const struct json *r = (results->type == JSON_ARRAY
                            && i < json_array(results)->n
                            ? json_array(results)->elems[i] : NULL);
    const struct json *rows = (r && r->type == JSON_OBJECT
                               ? shash_find_data(json_object(r), "rows")
                               : NULL);
    return rows && rows->type == JSON_ARRAY ? json_array(rows) : NULL;
}

/* The error that an operation of 'results', or the commit, reports, as
 * "ERROR: DETAILS" (malloc'd), or NULL if none failed. */
char *
policy_op_error(const struct json *results)
{
    for (size_t i = 0; i < json_array(results)->n; i++) {
        const struct json *r = json_array(results)->elems[i];
        const struct json *e = (r->type == JSON_OBJECT
                                ? shash_find_data(json_object(r), "error")
                                : NULL);
        if (e) {
            const struct json *d = shash_find_data(json_object(r),
                                                   "details");
            return xasprintf("%s%s%s",
                             e->type == JSON_STRING ? json_string(e) : "?",
                             d && d->type == JSON_STRING ? ": " : "",
                             d && d->type == JSON_STRING ? json_string(d)
                             : "");
        }
    }
    return NULL;
}

/* True if 'error' (from policy_op_error()) is a wait operation's: the rows
 * it checked changed since they were read. */
bool
policy_op_wait_failed(const char *error)
{
    return error && !strncmp(error, "timed out", 9);
}

/* "'what' failed: " and why, from 'results' (malloc'd). */
char *
policy_op_failure(const struct json *results, const char *what)
{
    char *why = policy_op_error(results);
    char *msg = xasprintf("%s failed: %s", what,
                          why ? why : "unexpected reply");
    free(why);
    return msg;
}
