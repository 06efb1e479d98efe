/* libFuzzer target for the MQTT codec: decodes arbitrary bytes as a stream
 * of packets under 3.1.1 and 5, and requires every packet that decodes to
 * re-encode, decode again to the same content, and re-encode to the same
 * bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mqtt_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok, const char *what, const struct sim_mqtt_pkt *p, int version)
{
	if (ok)
		return;
	fprintf(stderr, "codec inconsistency: %s (%s, version %d)\n", what,
	    sim_mqtt_type_name(p->type), version);
	abort();
}

static void
recheck(const struct sim_mqtt_pkt *d, int version)
{
	struct sim_mqtt_pkt d2;
	uint8_t *b1 = NULL, *b2 = NULL;
	size_t len = 0, len1 = 0, len2 = 0, used = 0;
	enum sim_err err;

	/* A CONNECT carries its own protocol level. */
	if (d->type == SIM_MQTT_CONNECT)
		version = d->connect.version;
	err = sim_mqtt_encoded_len(d, version, &len);
	check(err == SIM_OK, "decoded packet does not encode", d, version);
	b1 = malloc(len);
	b2 = malloc(len);
	if (b1 == NULL || b2 == NULL)
		goto out;
	check(sim_mqtt_encode(d, version, b1, len, &len1) == SIM_OK && len1 == len,
	    "encode disagrees with encoded_len", d, version);
	err = sim_mqtt_decode(b1, len1, version, 0, &d2, &used);
	check(err == SIM_OK && used == len1, "re-encoded packet does not decode", d, version);
	check(sim_mqtt_pkt_equal(d, &d2, version) && sim_mqtt_pkt_equal(&d2, d, version),
	    "content changed by re-encoding", d, version);
	check(sim_mqtt_encode(&d2, version, b2, len, &len2) == SIM_OK && len2 == len1 &&
	    memcmp(b1, b2, len1) == 0, "encoding is not stable", d, version);
out:
	free(b1);
	free(b2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int versions[] = { SIM_MQTT_PROTO_V311, SIM_MQTT_PROTO_V5 };

	for (size_t v = 0; v < 2; v++) {
		size_t off = 0;

		/* Bounded: each round consumes at least two bytes. */
		while (off < size) {
			struct sim_mqtt_pkt d;
			size_t used = 0, total = 0;
			enum sim_err err = sim_mqtt_decode(data + off, size - off, versions[v], 0, &d,
			    &used);
			enum sim_err perr = sim_mqtt_peek(data + off, size - off, 0, &total);

			if (err != SIM_OK) {
				if (err == SIM_ERR_AGAIN && used != 0 && used <= size - off)
					abort();        /* AGAIN although the packet is all there */
				break;
			}
			if (perr != SIM_OK || total != used || used < 2)
				abort();
			recheck(&d, versions[v]);
			off += used;
		}
		/* A small limit must only ever add TOOBIG, never a crash. */
		{
			struct sim_mqtt_pkt d;
			size_t used;

			(void)sim_mqtt_decode(data, size, versions[v], 16, &d, &used);
		}
	}
	return 0;
}
