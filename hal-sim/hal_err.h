/* Error codes shared by every hal-sim module. Functions that can fail
 * return one of these; HAL_OK is 0 so callers can test for non-zero.
 * New codes go at the end so that existing values never change. */
#ifndef HAL_ERR_H
#define HAL_ERR_H

enum hal_err {
	HAL_OK = 0,
	HAL_ERR_NOMEM,	/* An allocation failed. */
	HAL_ERR_INVAL,	/* A configuration or argument is not valid. */
	HAL_ERR_IO,	/* A file could not be opened, read or written. */
	HAL_ERR_PARSE,	/* A file's content is not what was expected. */
	HAL_ERR_RANGE,	/* A value or time is out of the supported range. */
	HAL_ERR_FULL,	/* A store has no room left (flash capacity). */
	HAL_ERR_NOTFOUND,	/* A key, file or name does not exist. */
	HAL_ERR_DOWN,	/* The link is not up: nothing is sent or received. */
};

#include <stddef.h>

/* Formats a message for the user into err (printf-style). A NULL err or a
 * zero len is allowed and ignored, so callers need not check. */
void hal_seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
