/* fleetsim over TLS against a real Mosquitto with a throwaway CA: the
 * broker's certificate is verified (CA and host name) unless verify is off,
 * a failed verification is an infrastructure failure (exit 3) that names
 * OpenSSL's reason, and client certificates work when the broker demands
 * them. Certificates are made with the openssl CLI, every call under
 * timeout(1) so a stuck openssl cannot hang the test. */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "broker.h"
#include "harness.h"

/* Holds every key, certificate and scenario file; scenarios name the TLS
 * files relative to themselves, as users would. */
static char certs[512];
static bool have_certs;

/* 25 devices per MQTT version, 6 messages each (3 s at 500 ms). */
#define DEVICES 50
#define SENT (DEVICES * 6)

/* A self-signed CA: NAME.pem and NAME.key. */
static int
make_ca(const char *name)
{
	return th_sh("exec 2>>'%s/openssl.log'; cd '%s' && "
	    "timeout 30 openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -days 1 -subj /CN=%s -keyout %s.key -out %s.pem",
	    certs, certs, name, name, name);
}

/* A certificate NAME.pem/.key for common name CN and subjectAltName SAN,
 * signed by the CA called CA. */
static int
make_leaf(const char *ca, const char *name, const char *cn, const char *san)
{
	return th_sh("exec 2>>'%s/openssl.log'; cd '%s' && "
	    "printf 'subjectAltName=%s\\n' > %s.ext && "
	    "timeout 30 openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	    "-nodes -subj /CN=%s -keyout %s.key -out %s.csr && "
	    "timeout 30 openssl x509 -req -in %s.csr -CA %s.pem -CAkey %s.key "
	    "-CAcreateserial -days 1 -extfile %s.ext -out %s.pem",
	    certs, certs, san, name, cn, name, name, name, ca, ca, name, name);
}

static void
setup_certs(void)
{
	const char *d;

	if (have_certs)
		return;
	d = th_tmpdir();
	CU_ASSERT_FATAL(d != NULL);
	snprintf(certs, sizeof(certs), "%s", d);
	CU_ASSERT_EQUAL_FATAL(make_ca("ca"), 0);
	CU_ASSERT_EQUAL_FATAL(make_leaf("ca", "server", "localhost",
	    "DNS:localhost,IP:127.0.0.1"), 0);
	CU_ASSERT_EQUAL_FATAL(make_leaf("ca", "client", "device-1", "DNS:device-1"), 0);
	/* Signed by the right CA but for another host: only the host name
	 * check can reject it. */
	CU_ASSERT_EQUAL_FATAL(make_leaf("ca", "elsewhere", "elsewhere.invalid",
	    "DNS:elsewhere.invalid"), 0);
	/* A CA that signed nothing the broker presents. */
	CU_ASSERT_EQUAL_FATAL(make_ca("otherca"), 0);
	have_certs = true;
}

static void
start_broker(const char *leaf, bool require_client, struct sim_broker **b)
{
	char cert[600], key[600], ca[600];
	struct sim_broker_opts o = { 0 };
	struct sim_diag d = { "" };

	snprintf(cert, sizeof(cert), "%s/%s.pem", certs, leaf);
	snprintf(key, sizeof(key), "%s/%s.key", certs, leaf);
	snprintf(ca, sizeof(ca), "%s/ca.pem", certs);
	o.tls_cert = cert;
	o.tls_key = key;
	if (require_client) {
		o.tls_ca = ca;
		o.tls_require_client_cert = true;
	}
	*b = NULL;
	if (sim_broker_start(&o, b, &d) != SIM_OK)
		fprintf(stderr, "broker: %s\n", d.msg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*b);
	CU_ASSERT_EQUAL(strncmp(sim_broker_url(*b), "mqtts://localhost:", 18), 0);
}

/* Runs a scenario whose target is b with the given `tls:` mapping; the
 * scenario lives beside the certificates, output and report go to a fresh
 * folder returned in out. Returns the exit code. */
static int
run_tls(struct sim_broker *b, const char *name, const char *tls, const char **out)
{
	char text[2048], scen[600], file[128];
	const char *dir = th_tmpdir();

	CU_ASSERT_FATAL(dir != NULL);
	*out = dir;
	snprintf(text, sizeof(text),
	    "name: %s\n"
	    "duration: 3s\n"
	    "drain: 5s\n"
	    "target:\n"
	    "  url: %s\n"
	    "  tls: %s\n"
	    "fleet:\n"
	    "  - group: old\n"
	    "    count: %d\n"
	    "    mqtt: { version: \"3.1.1\" }\n"
	    "    connect: { ramp: 500ms }\n"
	    "    telemetry: { every: 500ms, qos: 1 }\n"
	    "  - group: new\n"
	    "    count: %d\n"
	    "    mqtt: { version: \"5\" }\n"
	    "    connect: { ramp: 500ms }\n"
	    "    telemetry: { every: 500ms, qos: 1 }\n",
	    name, sim_broker_url(b), tls, DEVICES / 2, DEVICES / 2);
	snprintf(file, sizeof(file), "%s.yaml", name);
	snprintf(scen, sizeof(scen), "%s", th_write(certs, file, text));
	const char *argv[] = { "run", scen, "--report-dir", dir, "--quiet", NULL };
	return th_fleetsim(dir, 60, argv);
}

/* A passing run: every device connected over TLS, nothing lost. */
static void
assert_clean_run(const char *dir)
{
	struct rpt_json *r = th_report(dir);

	if (r == NULL)
		return;
	CU_ASSERT_STRING_EQUAL(rpt_json_str(rpt_json_path(r, "verdict")), "pass");
	CU_ASSERT_EQUAL(strncmp(rpt_json_str(rpt_json_path(r, "broker.url")), "mqtts://", 8), 0);
	CU_ASSERT_EQUAL(th_num(r, "devices.connected"), DEVICES);
	CU_ASSERT_EQUAL(th_num(r, "devices.connect_failures"), 0);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.sent"), SENT);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.received"), SENT);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.lost"), 0);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.old.received"), SENT / 2);
	CU_ASSERT_EQUAL(th_num(r, "patterns.telemetry.by_group.new.received"), SENT / 2);
	rpt_json_free(r);
}

static bool
mentions(const char *dir, const char *a, const char *b)
{
	const char *out = th_output(dir);

	if (strstr(out, a) != NULL || (b != NULL && strstr(out, b) != NULL))
		return true;
	fprintf(stderr, "expected '%s'%s%s%s in fleetsim's output:\n%s\n", a,
	    b ? " or '" : "", b ? b : "", b ? "'" : "", out);
	return false;
}

static void
test_verified(void)
{
	struct sim_broker *b;
	const char *dir;

	setup_certs();
	start_broker("server", false, &b);
	CU_ASSERT_EQUAL(run_tls(b, "tls-ok", "{ ca: ca.pem }", &dir), 0);
	assert_clean_run(dir);
	sim_broker_free(b);
}

static void
test_wrong_ca(void)
{
	struct sim_broker *b;
	const char *dir;

	setup_certs();
	start_broker("server", false, &b);
	CU_ASSERT_EQUAL(run_tls(b, "tls-wrong-ca", "{ ca: otherca.pem }", &dir), 3);
	/* OpenSSL's reason, not just "could not connect". */
	CU_ASSERT(mentions(dir, "certificate verify failed", "unable to get local issuer certificate"));
	/* The control: verification off accepts the same untrusted broker. */
	CU_ASSERT_EQUAL(run_tls(b, "tls-noverify", "{ ca: otherca.pem, verify: false }", &dir), 0);
	assert_clean_run(dir);
	sim_broker_free(b);
}

static void
test_wrong_host(void)
{
	struct sim_broker *b;
	const char *dir;

	setup_certs();
	start_broker("elsewhere", false, &b);
	CU_ASSERT_EQUAL(run_tls(b, "tls-wrong-host", "{ ca: ca.pem }", &dir), 3);
	CU_ASSERT(mentions(dir, "certificate verify failed", "hostname mismatch"));
	sim_broker_free(b);
}

static void
test_client_cert(void)
{
	struct sim_broker *b;
	const char *dir;

	setup_certs();
	start_broker("server", true, &b);
	CU_ASSERT_EQUAL(run_tls(b, "tls-client",
	    "{ ca: ca.pem, cert: client.pem, key: client.key }", &dir), 0);
	assert_clean_run(dir);
	/* The broker refuses the handshake of a client without a certificate.
	 * Under TLS 1.3 the client has finished its side of the handshake
	 * when the server's alert comes, and the alert can be lost to the
	 * connection's reset, so the reason shown is either OpenSSL's
	 * ("alert certificate required") or "connection closed by peer":
	 * only the broker's address is certain. */
	CU_ASSERT_EQUAL(run_tls(b, "tls-no-client", "{ ca: ca.pem }", &dir), 3);
	CU_ASSERT(mentions(dir, sim_broker_url(b), NULL));
	sim_broker_free(b);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "verified TLS: exit 0, nothing lost", test_verified },
		{ "untrusted CA exits 3 with OpenSSL's reason; verify: false passes", test_wrong_ca },
		{ "certificate for another host exits 3", test_wrong_host },
		{ "client certificate required: with one 0, without 3", test_client_cert },
		{ NULL, NULL },
	};

	return th_main("tls", tests);
}
