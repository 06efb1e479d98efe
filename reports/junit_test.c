#include <CUnit/Basic.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs_test.h"
#include "rpt_test.h"
#include "json.h"
#include "junit.h"

/* A judged report as sim/report.c leaves it: four built-in checks (one
 * failed) and three assertions (one failed, one whose path was missing,
 * which the judge stores as NaN and report.json writes as null). */
static const char REPORT[] =
    "{\"schema_version\":1,\"fleetsim_version\":\"0.1.0\","
    "\"scenario\":{\"name\":\"smoke\",\"file\":\"scenarios/smoke.yaml\",\"seed\":42,"
    "\"duration_s\":10,\"drain_s\":2},"
    "\"started_at\":\"2024-05-01T12:34:56Z\",\"duration_s\":12.3456,\"partial\":false,"
    "\"verdict\":\"fail\","
    "\"checks\":["
    "{\"name\":\"telemetry.no_loss_qos1_qos2\",\"pass\":false,"
    "\"detail\":\"expected 0 QoS 1/2 messages lost, got 3\"},"
    "{\"name\":\"telemetry.exactly_once_qos2\",\"pass\":true,"
    "\"detail\":\"expected 0 QoS 2 duplicates, got 0\"},"
    "{\"name\":\"telemetry.integrity\",\"pass\":true,"
    "\"detail\":\"expected 0 malformed telemetry payloads, got 0\"},"
    "{\"name\":\"mqtt.no_decode_errors\",\"pass\":true,"
    "\"detail\":\"expected 0 malformed MQTT packets, got 0\"}],"
    "\"assertions\":["
    "{\"expr\":\"patterns.telemetry.latency_ms.p99 < 50ms\",\"actual\":72.5,\"pass\":false},"
    "{\"expr\":\"patterns.telemetry.lost <= 10\",\"actual\":3,\"pass\":true},"
    "{\"expr\":\"patterns.nope.p99 < 1\",\"actual\":null,\"pass\":false}]}";

static char tmpdir[] = "/tmp/rpt_junit_testXXXXXX";

static char *
dump(const struct rpt_json *r)
{
	char *s = NULL;

	CU_ASSERT_EQUAL_FATAL(rpt_junit_dump(r, &s), RPT_OK);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

/* The source tree: ctest says where, and a direct build has this file's
 * own path to go by. */
static void
source_path(const char *rel, char *out, size_t len)
{
	const char *dir = getenv("FLEETSIM_SOURCE_DIR");
	const char *slash = strrchr(__FILE__, '/');

	if (dir != NULL && dir[0] != '\0')
		snprintf(out, len, "%s/%s", dir, rel);
	else if (slash != NULL)
		snprintf(out, len, "%.*s/../%s", (int)(slash - __FILE__), __FILE__, rel);
	else
		snprintf(out, len, "../%s", rel);
}

/* Runs xmllint on file against tests/junit/junit.xsd and returns its exit
 * status (0 valid, 3 invalid, 127 not installed), its messages in out. */
static int
xmllint(const char *file, char *out, size_t outlen)
{
	char xsd[1024];
	int fds[2], status;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	source_path("tests/junit/junit.xsd", xsd, sizeof(xsd));
	out[0] = '\0';
	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp("xmllint", "xmllint", "--noout", "--schema", xsd, file, (char *)NULL);
		fprintf(stderr, "cannot run xmllint (Debian: apt-get install libxml2-utils): %s\n",
		    strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + got, outlen - 1 - got)) > 0 ||
	    (n < 0 && errno == EINTR)) {
		if (n > 0)
			got += (size_t)n;
		if (got == outlen - 1) {
			/* Keep draining so the child never blocks on a full pipe. */
			char sink[256];

			while (read(fds[0], sink, sizeof(sink)) > 0)
				;
			break;
		}
	}
	out[got] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

/* Asserts that xml passes the schema. */
static void
check_valid(const char *xml)
{
	char path[256], msg[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/valid.xml", tmpdir);
	write_text(path, xml);
	rc = xmllint(path, msg, sizeof(msg));
	if (rc != 0)
		fprintf(stderr, "\n  xmllint exit %d:\n%s\nfor:\n%s\n", rc, msg, xml);
	CU_ASSERT_EQUAL(rc, 0);
	unlink(path);
}

/* Asserts that xml fails the schema itself: xmllint ran, read the schema
 * and the document, and rejected the document's content. */
static void
check_invalid(const char *xml, const char *why)
{
	char path[256], msg[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/invalid.xml", tmpdir);
	write_text(path, xml);
	rc = xmllint(path, msg, sizeof(msg));
	if (rc != 3 || strstr(msg, "fails to validate") == NULL || strstr(msg, why) == NULL)
		fprintf(stderr, "\n  xmllint exit %d (want 3, \"%s\"):\n%s\nfor:\n%s\n", rc, why, msg, xml);
	CU_ASSERT_EQUAL(rc, 3);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "fails to validate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, why));
	unlink(path);
}

static int
setup(void)
{
	return mkdtemp(tmpdir) == NULL;
}

static int
teardown(void)
{
	return rmdir(tmpdir);
}

static void
test_counts_and_names(void)
{
	struct rpt_json *r = rt_parse(REPORT);
	char *xml = dump(r);

	CU_ASSERT_EQUAL(strncmp(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 50), 0);
	rt_check_has(xml, "<testsuites name=\"fleetsim\" tests=\"7\" failures=\"3\" errors=\"0\" "
	    "time=\"12.346\">", 1);
	rt_check_has(xml, "<testsuite name=\"smoke\" tests=\"7\" failures=\"3\" errors=\"0\" skipped=\"0\" "
	    "time=\"12.346\" timestamp=\"2024-05-01T12:34:56Z\">", 1);
	rt_check_has(xml, "<testcase ", 7);
	rt_check_has(xml, " classname=\"fleetsim.smoke\" time=\"0\"", 7);
	rt_check_has(xml, "<failure ", 3);
	rt_check_has(xml, "</testsuite>\n</testsuites>\n", 1);
	rt_check_has(xml, "<testcase name=\"telemetry.no_loss_qos1_qos2\"", 1);
	rt_check_has(xml, "<testcase name=\"telemetry.exactly_once_qos2\" classname=\"fleetsim.smoke\" "
	    "time=\"0\"/>", 1);
	rt_check_has(xml, "<testcase name=\"telemetry.integrity\"", 1);
	rt_check_has(xml, "<testcase name=\"mqtt.no_decode_errors\"", 1);
	rt_check_has(xml, "<testcase name=\"patterns.telemetry.lost &lt;= 10\" "
	    "classname=\"fleetsim.smoke\" time=\"0\"/>", 1);
	rt_check_has(xml, "<property name=\"scenario.file\" value=\"scenarios/smoke.yaml\"/>", 1);
	rt_check_has(xml, "<property name=\"scenario.seed\" value=\"42\"/>", 1);
	rt_check_has(xml, "<property name=\"verdict\" value=\"fail\"/>", 1);
	/* Only an interrupted run says so. */
	rt_check_has(xml, "partial", 0);
	rt_check_has(xml, "<system-out>", 0);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);
}

static void
test_failure_messages(void)
{
	struct rpt_json *r = rt_parse(REPORT), *a;
	char *xml = dump(r);

	rt_check_has(xml, "<testcase name=\"telemetry.no_loss_qos1_qos2\" classname=\"fleetsim.smoke\" "
	    "time=\"0\">\n      <failure message=\"expected 0 QoS 1/2 messages lost, got 3\" "
	    "type=\"fleetsim.check\">expected 0 QoS 1/2 messages lost, got 3</failure>\n"
	    "    </testcase>\n", 1);
	rt_check_has(xml, "<failure message=\"expected patterns.telemetry.latency_ms.p99 &lt; 50ms, "
	    "actual 72.5\" type=\"fleetsim.assertion\">expected "
	    "patterns.telemetry.latency_ms.p99 &lt; 50ms, actual 72.5</failure>", 1);
	rt_check_has(xml, "<failure message=\"expected patterns.nope.p99 &lt; 1, path not found in "
	    "report\" type=\"fleetsim.assertion\">", 1);
	free(xml);

	/* Fresh from the judge, a missing path is NaN rather than null. */
	a = rpt_json_at(rpt_json_get(r, "assertions"), 2);
	CU_ASSERT_EQUAL(rpt_json_set(a, "actual", rpt_json_number(NAN)), RPT_OK);
	/* Bools compare as 0/1 but read better as themselves. */
	a = rpt_json_at(rpt_json_get(r, "assertions"), 1);
	CU_ASSERT_EQUAL(rpt_json_set(a, "actual", rpt_json_bool(true)), RPT_OK);
	CU_ASSERT_EQUAL(rpt_json_set_bool(a, "pass", false), RPT_OK);
	xml = dump(r);
	rt_check_has(xml, "<failure message=\"expected patterns.nope.p99 &lt; 1, path not found in "
	    "report\"", 1);
	rt_check_has(xml, "<failure message=\"expected patterns.telemetry.lost &lt;= 10, actual true\"", 1);
	rt_check_has(xml, "tests=\"7\" failures=\"4\"", 2);
	check_valid(xml);
	free(xml);

	/* A failed check without detail still explains itself, and one
	 * without a pass flag counts as failed. */
	rpt_json_free(r);
	r = rt_parse("{\"scenario\":{\"name\":\"x\"},\"checks\":[{\"name\":\"a\",\"pass\":false},"
	    "{\"name\":\"b\",\"detail\":\"expected 1, got 2\"}]}");
	xml = dump(r);
	rt_check_has(xml, "<failure message=\"check failed\" type=\"fleetsim.check\">check failed</failure>", 1);
	rt_check_has(xml, "<failure message=\"expected 1, got 2\"", 1);
	rt_check_has(xml, "tests=\"2\" failures=\"2\"", 2);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);
}

static void
test_partial(void)
{
	struct rpt_json *r = rt_parse(REPORT);
	char *xml;

	CU_ASSERT_EQUAL(rpt_json_set_bool(r, "partial", true), RPT_OK);
	xml = dump(r);
	rt_check_has(xml, "<property name=\"partial\" value=\"true\"/>\n    </properties>\n", 1);
	rt_check_has(xml, "    <system-out>fleetsim: partial run: a signal ended it early, so the counts "
	    "cover only the part that ran\n</system-out>\n  </testsuite>\n", 1);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);
}

static void
test_escaping(void)
{
	/* Every character XML treats specially, in every place text goes: a
	 * name (attribute), a check detail (attribute and text) and an
	 * assertion expression. JSON escapes bring in the control characters
	 * XML 1.0 cannot carry at all. */
	struct rpt_json *r = rt_parse(
	    "{\"scenario\":{\"name\":\"a\\\"b'c<d>e&f\\u0001g\",\"file\":\"x&y.yaml\"},"
	    "\"started_at\":\"2024-05-01T12:34:56Z\",\"duration_s\":1,"
	    "\"checks\":[{\"name\":\"tab\\there\",\"pass\":false,"
	    "\"detail\":\"line1\\nline2\\r\\u001f]]>\\t<![CDATA[&amp;\"}],"
	    "\"assertions\":[{\"expr\":\"caf\\u00e9 \\u6f22 \\ud83d\\ude00 < 1\",\"actual\":2,"
	    "\"pass\":false}]}");
	struct rpt_json *a;
	char *xml = dump(r);

	rt_check_has(xml, "<testsuite name=\"a&quot;b&apos;c&lt;d&gt;e&amp;f\xEF\xBF\xBDg\"", 1);
	rt_check_has(xml, " classname=\"fleetsim.a&quot;b&apos;c&lt;d&gt;e&amp;f\xEF\xBF\xBDg\"", 2);
	rt_check_has(xml, "<property name=\"scenario.file\" value=\"x&amp;y.yaml\"/>", 1);
	rt_check_has(xml, "<testcase name=\"tab&#9;here\"", 1);
	/* In attributes, tabs and newlines are references, or a parser would
	 * hand them back as spaces; CR is one everywhere. */
	rt_check_has(xml, "message=\"line1&#10;line2&#13;\xEF\xBF\xBD]]&gt;&#9;&lt;![CDATA[&amp;amp;\"", 1);
	rt_check_has(xml, ">line1\nline2&#13;\xEF\xBF\xBD]]&gt;\t&lt;![CDATA[&amp;amp;</failure>", 1);
	/* UTF-8 passes through untouched. */
	rt_check_has(xml, "<testcase name=\"caf\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80 &lt; 1\"", 1);
	rt_check_has(xml, "message=\"expected caf\xC3\xA9 \xE6\xBC\xA2 \xF0\x9F\x98\x80 &lt; 1, actual 2\"", 1);
	check_valid(xml);
	free(xml);

	/* Bytes that are not UTF-8, or are UTF-8 for what XML forbids
	 * (surrogates, U+FFFE, U+FFFF), each become U+FFFD instead of making
	 * the whole file unreadable. */
	a = rpt_json_at(rpt_json_get(r, "checks"), 0);
	CU_ASSERT_EQUAL(rpt_json_set_str(a, "name",
	    "[\xFF|\xC0\x80|\xED\xA0\x80|\xEF\xBF\xBE|\xEF\xBF\xBF|\xF4\x90\x80\x80|\xE6\xBC|\x7F]"), RPT_OK);
	xml = dump(r);
	rt_check_has(xml, "<testcase name=\"[\xEF\xBF\xBD|"
	    "\xEF\xBF\xBD\xEF\xBF\xBD|"
	    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
	    "\xEF\xBF\xBD|"
	    "\xEF\xBF\xBD|"
	    "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD|"
	    "\xEF\xBF\xBD\xEF\xBF\xBD|"
	    "\x7F]\"", 1);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);
}

static void
test_sparse_reports(void)
{
	struct rpt_json *r = rt_parse("{}");
	char *xml = dump(r), *s = NULL;

	/* Nothing to report is still a document a viewer accepts. */
	rt_check_has(xml, "<testsuite name=\"unnamed\" tests=\"0\" failures=\"0\" errors=\"0\" "
	    "skipped=\"0\" time=\"0.000\">", 1);
	rt_check_has(xml, "timestamp", 0);
	rt_check_has(xml, "<properties>\n    </properties>\n", 1);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);

	/* Unnamed entries get names, since viewers key on them; entries of
	 * the wrong shape count as failed rather than vanish. */
	r = rt_parse("{\"scenario\":{\"name\":\"\"},\"duration_s\":\"soon\",\"started_at\":\"\","
	    "\"checks\":[{\"pass\":true},{\"name\":\"\",\"pass\":true},7],"
	    "\"assertions\":[{\"actual\":1,\"pass\":false},null]}");
	xml = dump(r);
	rt_check_has(xml, "<testcase name=\"check 1\" classname=\"fleetsim.unnamed\"", 1);
	rt_check_has(xml, "<testcase name=\"check 2\"", 1);
	rt_check_has(xml, "<testcase name=\"check 3\"", 1);
	rt_check_has(xml, "<testcase name=\"assertion 1\"", 1);
	rt_check_has(xml, "<failure message=\"expected assertion 1, actual 1\"", 1);
	rt_check_has(xml, "<failure message=\"expected assertion 2, path not found in report\"", 1);
	rt_check_has(xml, "tests=\"5\" failures=\"3\"", 2);
	rt_check_has(xml, "timestamp", 0);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);

	/* checks that is not an array has no entries; a time no run takes
	 * is no time. */
	r = rt_parse("{\"checks\":{\"name\":\"a\"},\"duration_s\":1e300}");
	xml = dump(r);
	rt_check_has(xml, "tests=\"0\"", 2);
	rt_check_has(xml, " time=\"0.000\"", 2);
	check_valid(xml);
	free(xml);
	rpt_json_free(r);

	r = rt_parse("[]");
	CU_ASSERT_EQUAL(rpt_junit_dump(r, &s), RPT_ERR_INVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(rpt_junit_dump(NULL, &s), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_junit_dump(r, NULL), RPT_ERR_INVAL);
	CU_ASSERT_EQUAL(rpt_junit_write(NULL, r), RPT_ERR_INVAL);
	rpt_json_free(r);
}

static void
test_write_file(void)
{
	struct rpt_json *r = rt_parse(REPORT);
	char path[256], tmp[300], msg[4096], buf[8192];
	char *xml = dump(r);
	size_t n;
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/junit.xml", tmpdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	write_text(path, "old");
	CU_ASSERT_EQUAL(rpt_junit_write(path, r), RPT_OK);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	CU_ASSERT_STRING_EQUAL(buf, xml);
	rc = xmllint(path, msg, sizeof(msg));
	if (rc != 0)
		fprintf(stderr, "\n  xmllint exit %d:\n%s\n", rc, msg);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(unlink(path), 0);

	/* An unwritable place fails without leaving anything behind. */
	snprintf(path, sizeof(path), "%s/missing/junit.xml", tmpdir);
	CU_ASSERT_EQUAL(rpt_junit_write(path, r), RPT_ERR_IO);
	CU_ASSERT_EQUAL(rpt_junit_write(tmpdir, r), RPT_ERR_IO);
	snprintf(tmp, sizeof(tmp), "%s.tmp", tmpdir);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	free(xml);
	rpt_json_free(r);
}

/* The checked-in sample is what the writer makes of the sample report, and
 * both stay valid: a change to the format shows up in review as a diff. */
static void
test_sample_fixture(void)
{
	char json[1024], want_path[1024], msg[4096], err[256];
	struct rpt_json *r = NULL;
	char *xml, *want;
	long len;
	FILE *f;
	int rc;

	source_path("tests/junit/sample-report.json", json, sizeof(json));
	source_path("tests/junit/sample.xml", want_path, sizeof(want_path));
	rc = rpt_json_parse_file(json, &r, err, sizeof(err));
	if (rc != RPT_OK)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(rc, RPT_OK);
	xml = dump(r);
	f = fopen(want_path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	want = calloc(1, (size_t)len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	CU_ASSERT_EQUAL(fread(want, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	CU_ASSERT_STRING_EQUAL(xml, want);
	if (strcmp(xml, want) != 0)
		fprintf(stderr, "\n  %s differs; the writer now says:\n%s\n", want_path, xml);
	rc = xmllint(want_path, msg, sizeof(msg));
	if (rc != 0)
		fprintf(stderr, "\n  xmllint exit %d:\n%s\n", rc, msg);
	CU_ASSERT_EQUAL(rc, 0);
	free(want);
	free(xml);
	rpt_json_free(r);
}

/* The schema is only worth something if it can say no. */
static void
test_schema_rejects(void)
{
	check_valid("<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/>"
	    "</testsuite></testsuites>");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"1\"><testcase classname=\"c\"/>"
	    "</testsuite></testsuites>", "'name' is required");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"\"/>"
	    "</testsuite></testsuites>", "name");
	check_invalid("<testsuites><testsuite tests=\"1\"><testcase name=\"t\"/>"
	    "</testsuite></testsuites>", "'name' is required");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"many\"/></testsuites>", "tests");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"1\" time=\"NaN\"/></testsuites>", "time");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"1\" timestamp=\"yesterday\"/>"
	    "</testsuites>", "timestamp");
	/* Order matters: properties first, suite output last. */
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\"/>"
	    "<properties/></testsuite></testsuites>", "properties");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"1\"><testcase name=\"t\">"
	    "<failure/><skipped/></testcase></testsuite></testsuites>", "skipped");
	check_invalid("<testsuites><testsuite name=\"s\" tests=\"0\"><property name=\"a\" value=\"b\"/>"
	    "</testsuite></testsuites>", "property");
	check_invalid("<testsuite name=\"s\" tests=\"0\"/>", "testsuite");
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "counts, names and attributes", test_counts_and_names },
		{ "failure messages", test_failure_messages },
		{ "partial runs", test_partial },
		{ "XML escaping and UTF-8", test_escaping },
		{ "sparse and odd reports", test_sparse_reports },
		{ "atomic file write", test_write_file },
		{ "sample fixture", test_sample_fixture },
		{ "schema rejects invalid documents", test_schema_rejects },
		{ NULL, NULL },
	};

	return fs_test_main_fixture("junit", setup, teardown, tests);
}
