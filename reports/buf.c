#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void
rpt_buf_add(struct rpt_buf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->nomem)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap == 0 ? 1024 : b->cap;
		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL) {
			b->nomem = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
rpt_buf_str(struct rpt_buf *b, const char *s)
{
	rpt_buf_add(b, s, strlen(s));
}

void
rpt_buf_printf(struct rpt_buf *b, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->nomem = true;
		return;
	}
	rpt_buf_add(b, s, (size_t)n);
	free(s);
}

enum rpt_err
rpt_write_atomic(const char *path, const char *data, size_t len)
{
	enum rpt_err rc = RPT_OK;
	char *tmp = NULL;
	FILE *f = NULL;
	size_t n;

	if (path == NULL || (data == NULL && len > 0))
		return RPT_ERR_INVAL;
	n = strlen(path) + sizeof(".tmp");
	if ((tmp = malloc(n)) == NULL)
		return RPT_ERR_NOMEM;
	snprintf(tmp, n, "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL) {
		rc = RPT_ERR_IO;
		goto out;
	}
	if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fsync(fileno(f)) != 0) {
		rc = RPT_ERR_IO;
		goto out;
	}
	if (fclose(f) != 0) {
		f = NULL;
		rc = RPT_ERR_IO;
		goto out;
	}
	f = NULL;
	if (rename(tmp, path) != 0)
		rc = RPT_ERR_IO;
out:
	if (f != NULL)
		fclose(f);
	if (rc != RPT_OK)
		unlink(tmp);
	free(tmp);
	return rc;
}
