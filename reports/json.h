/* A small JSON document tree: built by the report code, written to files,
 * parsed back for merge and compare, and walked by assertions. */
#ifndef RPT_JSON_H
#define RPT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rpt_err.h"

enum rpt_json_type {
	RPT_JSON_NULL, RPT_JSON_BOOL, RPT_JSON_NUMBER, RPT_JSON_STRING,
	RPT_JSON_ARRAY, RPT_JSON_OBJECT,
};

/* A node. A tree is owned by its root: rpt_json_free(root) frees all of it.
 * Adding a node to an array or object passes ownership to the container. */
struct rpt_json;

/* Constructors return NULL only when out of memory. Strings are copied. */
struct rpt_json *rpt_json_null(void);
struct rpt_json *rpt_json_bool(bool b);
struct rpt_json *rpt_json_number(double v);
struct rpt_json *rpt_json_string(const char *s);
struct rpt_json *rpt_json_stringn(const char *s, size_t len);
struct rpt_json *rpt_json_array(void);
struct rpt_json *rpt_json_object(void);
void rpt_json_free(struct rpt_json *j);

/* Object members keep insertion order; setting an existing key replaces
 * (and frees) its value. On failure, v is freed, so
 * rpt_json_set(o, "k", rpt_json_number(1)) needs no NULL check in between. */
enum rpt_err rpt_json_set(struct rpt_json *obj, const char *key, struct rpt_json *v);
enum rpt_err rpt_json_push(struct rpt_json *arr, struct rpt_json *v);
/* Shorthands for rpt_json_set with a new number / string / bool. */
enum rpt_err rpt_json_set_num(struct rpt_json *obj, const char *key, double v);
enum rpt_err rpt_json_set_str(struct rpt_json *obj, const char *key, const char *s);
enum rpt_err rpt_json_set_bool(struct rpt_json *obj, const char *key, bool b);

enum rpt_json_type rpt_json_type(const struct rpt_json *j);
double rpt_json_num(const struct rpt_json *j);        /* 0 unless a number */
bool rpt_json_truthy(const struct rpt_json *j);       /* bool value; false unless a bool */
const char *rpt_json_str(const struct rpt_json *j);   /* NULL unless a string */
size_t rpt_json_len(const struct rpt_json *j);        /* array or object size, else 0 */
struct rpt_json *rpt_json_at(const struct rpt_json *j, size_t i); /* array item or object value */
const char *rpt_json_key_at(const struct rpt_json *j, size_t i);  /* object key, else NULL */
struct rpt_json *rpt_json_get(const struct rpt_json *obj, const char *key);

/* Looks up a dot path ("patterns.telemetry.latency_ms.p99"); a segment that
 * is all digits indexes an array. NULL when absent. */
struct rpt_json *rpt_json_path(const struct rpt_json *root, const char *path);

/* Writes j as JSON: indent > 0 pretty-prints with that many spaces, 0 is
 * compact. Integral numbers print without a fraction (up to 2^53); NaN and
 * infinities print as null. */
enum rpt_err rpt_json_write(FILE *f, const struct rpt_json *j, int indent);
/* The same into a malloc'd NUL-terminated string the caller frees. */
enum rpt_err rpt_json_dump(const struct rpt_json *j, int indent, char **out);
/* Writes to path atomically (temp file + rename). */
enum rpt_err rpt_json_write_file(const char *path, const struct rpt_json *j, int indent);

/* Parses RFC 8259 JSON. On RPT_ERR_PARSE, err (if not NULL) receives
 * "LINE:COLUMN: what was expected". Nesting deeper than 256 is an error. */
enum rpt_err rpt_json_parse(const char *text, size_t len, struct rpt_json **out,
    char *err, size_t errlen);
enum rpt_err rpt_json_parse_file(const char *path, struct rpt_json **out, char *err, size_t errlen);

/* Decodes one UTF-8 sequence from s (at most n bytes) into *cp. Returns
 * its length, or 0 when it is not well-formed (overlong, surrogate,
 * beyond U+10FFFF, truncated; RFC 3629): for parsers that must accept
 * exactly the JSON this one does. */
size_t rpt_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

#endif
