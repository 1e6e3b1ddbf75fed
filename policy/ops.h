/* OVSDB operations as JSON, for the transactions that vmroam runs outside
 * the IDL (policy_db_execute()): the writes and keyed reads of tables too
 * large to replicate (policy/key.h), and the answers to them.  Builders
 * return new JSON and take the JSON they are given. */

#ifndef POLICY_OPS_H
#define POLICY_OPS_H 1

#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/compiler.h"

struct json;
struct json_array;
struct uuid;

struct json *policy_ops_create(void);

struct json *policy_op(const char *op, const char *table, struct json *where);
struct json *policy_op_select(const char *table, struct json *where,
                              struct json *columns);
struct json *policy_op_wait(const char *table, struct json *where,
                            struct json *columns, struct json *rows);
struct json *policy_op_insert(const char *table, const struct uuid *,
                              struct json *row);
struct json *policy_op_clause(const char *column, const char *function,
                              struct json *arg);
struct json *policy_op_where_uuid(const struct uuid *);
struct json *policy_op_columns(const char *name, ...)
    __attribute__((sentinel));
struct json *policy_op_empty_set(void);
struct json *policy_op_optional_string(const char *);

const struct json_array *policy_op_rows(const struct json *results, size_t);
char *policy_op_error(const struct json *results);
bool policy_op_wait_failed(const char *error);
char *policy_op_failure(const struct json *results, const char *what);

#endif /* policy/ops.h */
