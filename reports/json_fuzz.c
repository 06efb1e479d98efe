/* libFuzzer target: whatever the parser accepts must print as JSON that
 * parses back to the same document, compact and pretty alike. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rpt_json *
reparse(const char *text)
{
	struct rpt_json *j = NULL;
	char err[256];

	if (rpt_json_parse(text, strlen(text), &j, err, sizeof(err)) != RPT_OK) {
		fprintf(stderr, "our own output does not parse: %s\n%s\n", err, text);
		abort();
	}
	return j;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpt_json *j = NULL, *back = NULL, *pretty_back = NULL;
	char *compact = NULL, *again = NULL, *pretty = NULL, *pretty_again = NULL;
	char err[256];
	enum rpt_err rc;

	rc = rpt_json_parse((const char *)data, size, &j, err, sizeof(err));
	if (rc != RPT_OK) {
		/* Every rejection says where, as LINE:COLUMN. */
		if (rc != RPT_ERR_PARSE || j != NULL || strchr(err, ':') == NULL)
			abort();
		return 0;
	}
	if (rpt_json_dump(j, 0, &compact) != RPT_OK || rpt_json_dump(j, 3, &pretty) != RPT_OK)
		goto out;
	back = reparse(compact);
	pretty_back = reparse(pretty);
	if (rpt_json_dump(back, 0, &again) != RPT_OK ||
	    rpt_json_dump(pretty_back, 0, &pretty_again) != RPT_OK)
		goto out;
	if (strcmp(compact, again) != 0 || strcmp(compact, pretty_again) != 0) {
		fprintf(stderr, "round trip differs:\n%s\n%s\n%s\n", compact, again, pretty_again);
		abort();
	}
out:
	free(compact);
	free(again);
	free(pretty);
	free(pretty_again);
	rpt_json_free(j);
	rpt_json_free(back);
	rpt_json_free(pretty_back);
	return 0;
}
