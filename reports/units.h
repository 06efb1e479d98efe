/* Parsing of the quantities users write: durations, sizes, rates. One place
 * for them, used by the scenario loader and by assertions. */
#ifndef RPT_UNITS_H
#define RPT_UNITS_H

#include <stdint.h>

#include "rpt_err.h"

/* "250ms", "1.5s", "2m", "1h", "500us", "0" (plain 0 only; any other number
 * needs a unit). Whitespace around is not accepted. Negative values and
 * results beyond 2^63 ns are RPT_ERR_RANGE; anything else malformed is
 * RPT_ERR_PARSE. */
enum rpt_err rpt_parse_duration(const char *s, uint64_t *ns);

/* "128", "128B", "4KB", "1.5MB" (KB = 1024 bytes, MB = 1024*1024). */
enum rpt_err rpt_parse_size(const char *s, uint64_t *bytes);

/* Writes a duration readably ("250ms", "1.5s", "2m") into buf. */
void rpt_format_duration(uint64_t ns, char *buf, unsigned long len);

#endif
