/* A growable text buffer and atomic file writes: what every report writer
 * (JSON, JUnit XML, ...) builds its output with. */
#ifndef RPT_BUF_H
#define RPT_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "rpt_err.h"

/* Zero-initialize to use; p is NUL-terminated once anything was added.
 * Appending never fails on its own: the first allocation failure sticks in
 * nomem, further appends are ignored, and the writer reports it once at
 * the end. The owner frees p. */
struct rpt_buf {
	char *p;
	size_t len, cap;
	bool nomem;
};

void rpt_buf_add(struct rpt_buf *b, const char *s, size_t n);
void rpt_buf_str(struct rpt_buf *b, const char *s);
void rpt_buf_printf(struct rpt_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes len bytes to path through path.tmp, flushed to disk and renamed,
 * so a reader (a CI job collecting artifacts) never sees half a file. */
enum rpt_err rpt_write_atomic(const char *path, const char *data, size_t len);

#endif
