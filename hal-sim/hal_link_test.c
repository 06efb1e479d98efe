#include <math.h>

#include <CUnit/Basic.h>

#include "fs_test.h"

#include "hal_link.h"

#define MS 1000000ull
#define S 1000000000ull

/* Mean and sd of n latency draws, sent far apart so nothing queues. */
static void
sample(const struct hal_link_config *cfg, int n, double *mean, double *sd, double *lo)
{
	struct hal_link l;
	double sum = 0, sq = 0;
	uint64_t at;

	*lo = INFINITY;
	CU_ASSERT_EQUAL_FATAL(hal_link_init(&l, cfg, 1, "g", 3, 0), HAL_OK);
	for (int i = 0; i < n; i++) {
		uint64_t t = (uint64_t)i * S;
		double d;

		CU_ASSERT_EQUAL_FATAL(hal_link_send(&l, t, 100, &at), HAL_OK);
		d = (double)(at - t);
		sum += d;
		sq += d * d;
		if (d < *lo)
			*lo = d;
	}
	*mean = sum / n;
	*sd = sqrt(sq / n - *mean * *mean);
	hal_link_fini(&l);
}

static void
test_latency(void)
{
	enum { N = 100000 };
	struct hal_link_config c = { .latency = { .dist = HAL_LINK_FIXED, .mean = 50 * MS } };
	double mean, sd, lo;

	sample(&c, 1000, &mean, &sd, &lo);
	CU_ASSERT_DOUBLE_EQUAL(mean, 50.0 * MS, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(sd, 0, 1e-3);

	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_UNIFORM, .min = 10 * MS,
	    .max = 30 * MS };
	sample(&c, N, &mean, &sd, &lo);
	CU_ASSERT(fabs(mean - 20.0 * MS) < 0.1 * MS);
	CU_ASSERT(fabs(sd - 20.0 * MS / sqrt(12)) < 0.1 * MS);
	CU_ASSERT(lo >= 10.0 * MS);

	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_NORMAL, .mean = 40 * MS,
	    .sd = 10 * MS };
	sample(&c, N, &mean, &sd, &lo);
	CU_ASSERT(fabs(mean - 40.0 * MS) < 0.15 * MS);
	CU_ASSERT(fabs(sd - 10.0 * MS) < 0.15 * MS);

	/* Clamped at 0: half the draws of N(0, sd) become 0, so the mean is
	 * sd / sqrt(2 pi) and nothing is negative. */
	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_NORMAL, .mean = 0, .sd = 10 * MS };
	sample(&c, N, &mean, &sd, &lo);
	CU_ASSERT(lo >= 0);
	CU_ASSERT(fabs(mean - 10.0 * MS / sqrt(2 * M_PI)) < 0.1 * MS);

	/* Lognormal given as mean and sd comes out with that mean and sd. */
	CU_ASSERT_EQUAL(hal_link_lognormal_from_mean_sd(&c.latency, 80.0 * MS, 40.0 * MS), HAL_OK);
	sample(&c, N, &mean, &sd, &lo);
	CU_ASSERT(fabs(mean - 80.0 * MS) < 1.0 * MS);
	CU_ASSERT(fabs(sd - 40.0 * MS) < 2.0 * MS);
	CU_ASSERT(lo > 0);

	/* Given as median: half the draws fall below it. */
	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_LOGNORMAL, .median = 30 * MS,
	    .sigma = 0.5 };
	{
		struct hal_link l;
		int below = 0;
		uint64_t at;

		hal_link_init(&l, &c, 9, "g", 0, 0);
		for (int i = 0; i < N; i++) {
			hal_link_recv(&l, (uint64_t)i * S, 10, &at);
			below += at - (uint64_t)i * S < 30 * MS;
		}
		CU_ASSERT(fabs((double)below / N - 0.5) < 0.01);
	}
}

static void
test_bandwidth(void)
{
	struct hal_link_config c = { .latency = { .dist = HAL_LINK_FIXED, .mean = 5 * MS },
	    .bandwidth = 1000 };
	struct hal_link l;
	uint64_t at;

	CU_ASSERT_EQUAL_FATAL(hal_link_init(&l, &c, 1, "g", 0, 0), HAL_OK);
	/* 500 bytes at 1000 B/s take 0.5 s, then 5 ms of latency. */
	CU_ASSERT_EQUAL(hal_link_send(&l, 0, 500, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 505 * MS);
	/* Handed over at 0.1 s, it waits for the first until 0.5 s. */
	CU_ASSERT_EQUAL(hal_link_send(&l, 100 * MS, 1000, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 1505 * MS);
	/* The down direction has its own queue. */
	CU_ASSERT_EQUAL(hal_link_recv(&l, 200 * MS, 1000, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 1205 * MS);
	/* Once the queue drains, a message starts when handed over. */
	CU_ASSERT_EQUAL(hal_link_send(&l, 3 * S, 1, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 3 * S + 1 * MS + 5 * MS);
	/* Flush forgets what is queued. */
	CU_ASSERT_EQUAL(hal_link_send(&l, 4 * S, 2000, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 6 * S + 5 * MS);
	hal_link_flush(&l);
	CU_ASSERT_EQUAL(hal_link_send(&l, 4 * S + 1, 1000, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 5 * S + 1 + 5 * MS);
	hal_link_fini(&l);

	/* Transmission times round up to the next nanosecond. */
	c.bandwidth = 3;
	c.latency.mean = 0;
	hal_link_init(&l, &c, 1, "g", 0, 0);
	CU_ASSERT_EQUAL(hal_link_send(&l, 0, 1, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 333333334u);
	CU_ASSERT_EQUAL(hal_link_send(&l, 0, 2, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 333333334u + 666666667u);
}

/* Walks the link from one change to the next over a long time and
 * measures the mean length of up and down periods. */
static void
test_disconnect(void)
{
	struct hal_link_config c = { .disconnect_mtbf = 60 * S, .disconnect_mttr = 2 * S };
	struct hal_link l, fine;
	uint64_t t = 0, end = 2000000 * S, up = 0, down = 0;
	int ups = 0, downs = 0;
	enum hal_link_state st;

	CU_ASSERT_EQUAL_FATAL(hal_link_init(&l, &c, 5, "rooms", 7, 0), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_link_init(&fine, &c, 5, "rooms", 7, 0), HAL_OK);
	st = hal_link_state(&l, 0);
	CU_ASSERT_EQUAL(st, HAL_LINK_UP);
	while (t < end) {
		uint64_t next = hal_link_next_change(&l, t);
		enum hal_link_state ns;

		CU_ASSERT_FATAL(next > t && next != HAL_LINK_NEVER);
		ns = hal_link_state(&l, next);
		/* Nothing else is configured, so every change is real. */
		CU_ASSERT_NOT_EQUAL(ns, st);
		/* The same device asked at other moments agrees. */
		CU_ASSERT_EQUAL(hal_link_state(&fine, next - 1), st);
		CU_ASSERT_EQUAL(hal_link_state(&fine, next), ns);
		if (st == HAL_LINK_UP) {
			up += next - t;
			ups++;
		} else {
			down += next - t;
			downs++;
		}
		st = ns;
		t = next;
	}
	CU_ASSERT(ups > 30000);
	CU_ASSERT(fabs((double)up / ups / S - 60.0) < 60.0 * 0.03);
	CU_ASSERT(fabs((double)down / downs / S - 2.0) < 2.0 * 0.03);

	/* Another device of the group has its own schedule. */
	hal_link_init(&fine, &c, 5, "rooms", 8, 0);
	hal_link_init(&l, &c, 5, "rooms", 7, 0);
	CU_ASSERT_NOT_EQUAL(hal_link_next_change(&fine, 0), hal_link_next_change(&l, 0));
}

/* Messages do not shift the disconnect schedule. */
static void
test_schedule_independent_of_traffic(void)
{
	struct hal_link_config c = { .latency = { .dist = HAL_LINK_NORMAL, .mean = 40 * MS,
	    .sd = 10 * MS }, .disconnect_mtbf = 10 * S, .disconnect_mttr = 1 * S };
	struct hal_link a, b;
	uint64_t at;

	hal_link_init(&a, &c, 77, "g", 1, 0);
	hal_link_init(&b, &c, 77, "g", 1, 0);
	for (uint64_t t = 0; t < 1000 * S; t += 100 * MS) {
		if (hal_link_up(&a, t)) {
			hal_link_send(&a, t, 100, &at);
			hal_link_recv(&a, t, 100, &at);
		}
		if (t % (7 * S) == 0)
			CU_ASSERT_EQUAL(hal_link_next_change(&a, t), hal_link_next_change(&b, t));
	}
}

static void
test_partitions(void)
{
	static const struct hal_link_window part[] = { { 10 * S, 20 * S }, { 30 * S, 31 * S } };
	static const struct hal_link_window ho[] = { { 15 * S, 40 * S } };
	struct hal_link_config c = { .latency = { .mean = 1 * MS }, .partitions = part,
	    .n_partitions = 2 };
	struct hal_link l;
	uint64_t at;

	CU_ASSERT_EQUAL_FATAL(hal_link_init(&l, &c, 1, "g", 0, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 0), 10 * S);
	CU_ASSERT_EQUAL(hal_link_state(&l, 10 * S - 1), HAL_LINK_UP);
	CU_ASSERT_EQUAL(hal_link_send(&l, 10 * S - 1, 10, &at), HAL_OK);
	CU_ASSERT_EQUAL(at, 10 * S - 1 + 1 * MS);
	CU_ASSERT_EQUAL(hal_link_state(&l, 10 * S), HAL_LINK_PARTITIONED);
	CU_ASSERT_EQUAL(hal_link_send(&l, 10 * S, 10, &at), HAL_ERR_DOWN);
	CU_ASSERT_EQUAL(at, HAL_LINK_NEVER);
	CU_ASSERT_EQUAL(hal_link_recv(&l, 10 * S, 10, &at), HAL_ERR_DOWN);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 10 * S), 20 * S);
	CU_ASSERT_EQUAL(hal_link_state(&l, 20 * S - 1), HAL_LINK_PARTITIONED);
	CU_ASSERT_EQUAL(hal_link_state(&l, 20 * S), HAL_LINK_UP);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 20 * S), 30 * S);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 30 * S + 5), 31 * S);
	CU_ASSERT_EQUAL(hal_link_state(&l, 31 * S), HAL_LINK_UP);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 31 * S), HAL_LINK_NEVER);

	/* Half-open windows; a partition wins where they overlap. */
	c.half_open = ho;
	c.n_half_open = 1;
	hal_link_init(&l, &c, 1, "g", 0, 0);
	CU_ASSERT_EQUAL(hal_link_state(&l, 12 * S), HAL_LINK_PARTITIONED);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 12 * S), 15 * S);
	CU_ASSERT_EQUAL(hal_link_state(&l, 15 * S), HAL_LINK_PARTITIONED);
	CU_ASSERT_EQUAL(hal_link_state(&l, 20 * S), HAL_LINK_HALF_OPEN);
	CU_ASSERT_EQUAL(hal_link_send(&l, 20 * S, 10, &at), HAL_ERR_DOWN);
	CU_ASSERT_EQUAL(hal_link_state(&l, 30 * S), HAL_LINK_PARTITIONED);
	CU_ASSERT_EQUAL(hal_link_state(&l, 31 * S), HAL_LINK_HALF_OPEN);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 31 * S), 40 * S);
	CU_ASSERT_EQUAL(hal_link_state(&l, 40 * S - 1), HAL_LINK_HALF_OPEN);
	CU_ASSERT_EQUAL(hal_link_state(&l, 40 * S), HAL_LINK_UP);
	CU_ASSERT_EQUAL(hal_link_next_change(&l, 40 * S), HAL_LINK_NEVER);
}

static void
test_half_open_random(void)
{
	struct hal_link_config c = { .half_open_mtbf = 100 * S, .half_open_duration = 30 * S };
	struct hal_link l;
	uint64_t t = 0, gaps = 0;
	int n = 0;

	CU_ASSERT_EQUAL_FATAL(hal_link_init(&l, &c, 2, "g", 0, 0), HAL_OK);
	while (n < 20000) {
		uint64_t start = hal_link_next_change(&l, t), end;

		CU_ASSERT_EQUAL(hal_link_state(&l, start - 1), HAL_LINK_UP);
		CU_ASSERT_EQUAL(hal_link_state(&l, start), HAL_LINK_HALF_OPEN);
		end = hal_link_next_change(&l, start);
		/* Each episode lasts exactly the configured duration. */
		CU_ASSERT_EQUAL(end - start, 30 * S);
		CU_ASSERT_EQUAL(hal_link_state(&l, end), HAL_LINK_UP);
		gaps += start - t;
		t = end;
		n++;
	}
	CU_ASSERT(fabs((double)gaps / n / S - 100.0) < 3.0);
}

static void
test_config_check(void)
{
	static const struct hal_link_window unsorted[] = { { 5, 10 }, { 1, 2 } };
	static const struct hal_link_window overlap[] = { { 1, 10 }, { 9, 12 } };
	static const struct hal_link_window empty[] = { { 5, 5 } };
	struct hal_link_config c = { 0 };
	struct hal_link l;

	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_OK);
	CU_ASSERT_EQUAL(hal_link_config_check(NULL), HAL_ERR_INVAL);
	c.partitions = unsorted;
	c.n_partitions = 2;
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	/* A failed init leaves a link that is safe to use and fini. */
	CU_ASSERT_EQUAL(hal_link_init(&l, &c, 1, "g", 0, 0), HAL_ERR_INVAL);
	CU_ASSERT_FALSE(hal_link_up(&l, 0));
	hal_link_fini(&l);
	c.partitions = overlap;
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	c.partitions = empty;
	c.n_partitions = 1;
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	c.n_partitions = 0;
	c.disconnect_mtbf = S;
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	c.disconnect_mttr = S;
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_OK);
	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_UNIFORM, .min = 5, .max = 4 };
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_NORMAL, .mean = 5, .sd = -1 };
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	c.latency = (struct hal_link_latency){ .dist = HAL_LINK_LOGNORMAL, .median = 0 };
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	c.latency = (struct hal_link_latency){ .dist = 42 };
	CU_ASSERT_EQUAL(hal_link_config_check(&c), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(hal_link_lognormal_from_mean_sd(&c.latency, 0, 1), HAL_ERR_INVAL);
	/* The per-device budget. */
	CU_ASSERT(sizeof(struct hal_link) <= 88);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "latency distributions", test_latency },
		{ "bandwidth queueing", test_bandwidth },
		{ "disconnect mtbf and mttr", test_disconnect },
		{ "schedule independent of traffic", test_schedule_independent_of_traffic },
		{ "partitions and half-open windows", test_partitions },
		{ "random half-open episodes", test_half_open_random },
		{ "config check", test_config_check },
		{ NULL, NULL },
	};

	return fs_test_main("hal_link", tests);
}
