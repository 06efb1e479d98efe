/* Error codes of the reports library. */
#ifndef RPT_ERR_H
#define RPT_ERR_H

/* Every fallible rpt_ function returns one of these; 0 is success. */
enum rpt_err {
	RPT_OK = 0,
	RPT_ERR_NOMEM,
	RPT_ERR_INVAL,     /* bad argument (a bug in the caller) */
	RPT_ERR_PARSE,     /* malformed input text; an error message says where */
	RPT_ERR_NOTFOUND,  /* a path or key does not exist */
	RPT_ERR_TYPE,      /* the value exists but has the wrong type */
	RPT_ERR_IO,
	RPT_ERR_RANGE,     /* a number is out of the accepted range */
};

#endif
