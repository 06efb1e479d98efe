/* Memory per device and payload rendering speed, for docs and regressions.
 * Prints Markdown table rows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev_device.h"
#include "dev_model.h"
#include "dev_payload.h"

#define S 1000000000ll
#define NDEV 10000
#define NRENDER 1000000

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

/* Resident pages of the process. */
static long
rss_pages(void)
{
	long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return res;
}

/* The docs' one-sensor temperature device. */
static int
model(struct dev_model *m)
{
	struct dev_problem p;
	struct dev_sensor_spec *s;

	*m = (struct dev_model){ .qos = -1 };
	m->name = strdup("bench");
	m->sensors = calloc(1, sizeof(*m->sensors));
	if (m->name == NULL || m->sensors == NULL)
		return -1;
	m->nsensors = 1;
	s = &m->sensors[0];
	s->name = strdup("temp");
	s->cfg.name = s->name;
	s->cfg.gen = HAL_GEN_SINE;
	s->cfg.sine.mean = 19;
	s->cfg.sine.amplitude = 1.5;
	s->cfg.sine.period = 24 * 3600 * S;
	s->cfg.noise = 0.1;
	m->power.capacity_j = 2400 * 3.6 * 3.6;
	m->power.drain_w = 0.5 * 3.6 / 1000;
	m->payload_src = strdup(
	    "{\"temp\": {sensor.temp:.2f}, \"ts\": \"{clock.iso}\", \"battery\": {power.pct:.0f}}");
	if (dev_model_check(m, &p) != HAL_OK) {
		fprintf(stderr, "dev_bench: %s\n", p.msg);
		return -1;
	}
	return 0;
}

int
main(void)
{
	static struct dev_device *devs[NDEV];
	struct dev_model m;
	struct hal_timebase tb;
	char buf[256];
	size_t foot = 0, bytes = 0;
	long rss0, rss1, page = sysconf(_SC_PAGESIZE);
	int64_t t0, t1;

	if (model(&m) != 0)
		return 1;
	hal_timebase_init(&tb, 0, 1767225600ll * S, 1, NULL, 0);
	rss0 = rss_pages();
	for (uint32_t i = 0; i < NDEV; i++) {
		if (dev_device_new(&m, 1, "bench", i, 0, &devs[i]) != HAL_OK) {
			fprintf(stderr, "dev_bench: dev_device_new failed\n");
			return 1;
		}
		foot += dev_device_footprint(devs[i]);
	}
	rss1 = rss_pages();

	t0 = now_ns();
	for (int k = 0; k < NRENDER; k++) {
		struct dev_render_ctx ctx = { .tb = &tb, .t = (int64_t)(k / NDEV) * 10 * S,
		    .seq = (uint32_t)(k / NDEV), .id = "bench" };

		bytes += dev_device_telemetry(devs[k % NDEV], &ctx, (uint8_t *)buf, sizeof(buf));
	}
	t1 = now_ns();

	printf("| metric | value |\n|---|---|\n");
	printf("| devices | %d |\n", NDEV);
	printf("| footprint per device (dev_device_footprint) | %zu B |\n", foot / NDEV);
	printf("| RSS per device (/proc/self/statm) | %ld B |\n", (rss1 - rss0) * page / NDEV);
	printf("| payloads rendered | %d |\n", NRENDER);
	printf("| payload size | %zu B |\n", bytes / NRENDER);
	printf("| render time per payload | %.0f ns |\n", (double)(t1 - t0) / NRENDER);
	printf("| sample payload | `%s` |\n", buf);

	for (int i = 0; i < NDEV; i++)
		dev_device_free(devs[i], 0);
	dev_model_fini(&m);
	return 0;
}
