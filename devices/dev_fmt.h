/* What the payload template renderers share: splitting a template into
 * literal bytes and {fields}, the FORMAT of a number field, and writing
 * into the caller's buffer the way snprintf does, with JSON escaping.
 *
 * It exists so that the two template languages, devices/dev_payload.h
 * (what a device sends) and sim/rr_payload.h (what the cloud sends), keep
 * one set of brace rules, number formats and escapes instead of copies
 * that drift apart. It lives in devices, the lower of the two libraries:
 * sim depends on devices, never the other way round. It knows nothing of
 * field names; each renderer owns its fields, their errors and its docs.
 * A change here changes both payload formats.
 *
 * Nothing here allocates; the caller owns every buffer. */
#ifndef DEV_FMT_H
#define DEV_FMT_H

#include <stddef.h>
#include <stdint.h>

/* Splitting. "{{" is a literal '{'; "}}" is one '}' only where it closes
 * a "{{", so JSON's own nested objects ("}}") come out as written. JSON
 * puts a quote or a space after '{', never a letter, so only '{' and a
 * letter start a field, and the template's JSON braces need no escaping.
 * A field ends at the first '}'; a '{', '"', newline or the end before it
 * leaves it unclosed. */
struct dev_fmt_scan {
	const char *src;        /* NUL-terminated */
	size_t len;             /* strlen(src) */
	size_t pos;             /* where the next token starts; 0 to begin */
	size_t escaped;         /* "{{" not yet closed by a "}}" */
	/* The last token: */
	char c;                 /* DEV_FMT_CHAR: the byte */
	size_t open, close;     /* DEV_FMT_FIELD: src[open..close], braces
	                         * included; DEV_FMT_UNCLOSED: the field
	                         * starts at open and stops before close */
};

enum dev_fmt_tok {
	DEV_FMT_END,
	DEV_FMT_CHAR,
	DEV_FMT_FIELD,
	DEV_FMT_UNCLOSED,       /* an error; calling again gives it again */
};

enum dev_fmt_tok dev_fmt_next(struct dev_fmt_scan *sc);

/* What a message about an unclosed field says was expected. */
#define DEV_FMT_EXPECTED_CLOSE "expected '}' (write {{ for a literal brace)"

/* A number field's FORMAT, the text after ':' in {NAME:FORMAT}. */
enum dev_fmt_kind {
	DEV_FMT_DEFAULT,        /* none: %.6g, or an integer exactly */
	DEV_FMT_FIXED,          /* .Nf: %.Nf */
	DEV_FMT_EXP,            /* .Ne: %.Ne */
	DEV_FMT_ROUND,          /* d: rounded half away from zero, never -0 */
};

struct dev_fmt_spec {
	uint8_t kind;           /* enum dev_fmt_kind */
	uint8_t prec;           /* N, 0 to 9 */
};


/* What a message about a bad FORMAT says was expected. */
#define DEV_FMT_EXPECTED_FORMAT "expected .Nf or .Ne with N from 0 to 9, or d"

/* Parses s[0..n) into *f: 0, or -1 when it is no FORMAT (*f may then be
 * changed). */
int dev_fmt_parse(struct dev_fmt_spec *f, const char *s, size_t n);

/* Output, like snprintf: what fits in buf[0..cap-1) is written, len
 * counts everything. Start with { .buf = buf, .cap = cap }; buf may be
 * NULL when cap is 0. */
struct dev_fmt_out {
	char *buf;
	size_t cap;
	size_t len;
};

void dev_fmt_put(struct dev_fmt_out *o, const char *s, size_t n);
/* A double in format f; a non-finite one, a sensor dropout, is null. */
void dev_fmt_put_num(struct dev_fmt_out *o, double v, const struct dev_fmt_spec *f);
/* An integer: exact by default, else as the double in format f. */
void dev_fmt_put_int(struct dev_fmt_out *o, int64_t v, const struct dev_fmt_spec *f);
void dev_fmt_put_uint(struct dev_fmt_out *o, uint64_t v, const struct dev_fmt_spec *f);
/* s[0..n) escaped for the inside of a JSON string, without the quotes:
 * '"' and '\\' get a backslash, newline is \n, other control characters
 * \u00XX. Other bytes, UTF-8 included, go as they are. */
void dev_fmt_put_escaped(struct dev_fmt_out *o, const char *s, size_t n);
/* The same for a NUL-terminated s; NULL writes nothing. */
void dev_fmt_put_str(struct dev_fmt_out *o, const char *s);
/* NUL-terminates the buffer (when cap > 0) and returns the full length,
 * as snprintf does: a return >= cap means it was cut. */
size_t dev_fmt_end(struct dev_fmt_out *o);

#endif
