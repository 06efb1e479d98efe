#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "fs_test.h"
#include "hal_sensor.h"

#define S 1000000000ll
#define MIN (60 * S)
#define H (3600 * S)

/* Mean and standard deviation of a sample. */
struct stats {
	double n, sum, sq;
};

static void
add(struct stats *st, double v)
{
	st->n++;
	st->sum += v;
	st->sq += v * v;
}

static double
mean(const struct stats *st)
{
	return st->sum / st->n;
}

static double
sd(const struct stats *st)
{
	double m = mean(st);

	return sqrt(st->sq / st->n - m * m);
}

/* A sensor for device index of group "g" with seed 42; asserts that
 * the configuration is valid. */
static void
mk(struct hal_sensor *s, const struct hal_sensor_config *c, uint32_t index)
{
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(hal_sensor_config_check(c, err, sizeof(err)), HAL_OK);
	CU_ASSERT_EQUAL_FATAL(hal_sensor_init(s, c, 42, "g", index), HAL_OK);
}

static int
within(double got, double want, double rel)
{
	int ok = fabs(got - want) <= fabs(want) * rel;

	if (!ok || getenv("HAL_TEST_VERBOSE") != NULL)
		fprintf(stderr, "\n      got %g, want %g +-%g%%\n", got, want, rel * 100);
	return ok;
}

static void
test_size(void)
{
	/* The budget is 512 bytes for a whole simple device. */
	CU_ASSERT(sizeof(struct hal_sensor) < 96);
	CU_ASSERT(sizeof(struct hal_sensor) <= 80);
}

static void
test_constant(void)
{
	struct hal_sensor_config c = { .name = "c", .gen = HAL_GEN_CONSTANT, .constant = { 21.5 } };
	struct hal_sensor s;

	mk(&s, &c, 0);
	for (int i = 0; i < 100; i++)
		CU_ASSERT_EQUAL(hal_sensor_read(&s, i * S), 21.5);
	hal_sensor_fini(&s);
}

static void
test_uniform(void)
{
	struct hal_sensor_config c = { .name = "u", .gen = HAL_GEN_UNIFORM, .uniform = { -2, 6 } };
	struct hal_sensor s;
	struct stats st = { 0 };
	double lo = 1e9, hi = -1e9;

	mk(&s, &c, 0);
	for (int i = 0; i < 100000; i++) {
		double v = hal_sensor_read(&s, i * S);

		add(&st, v);
		lo = fmin(lo, v);
		hi = fmax(hi, v);
	}
	CU_ASSERT(fabs(mean(&st) - 2.0) < 0.03);
	CU_ASSERT(within(sd(&st), 8 / sqrt(12), 0.01));
	CU_ASSERT(lo >= -2 && lo < -1.99);
	CU_ASSERT(hi < 6 && hi > 5.99);
}

static void
test_normal(void)
{
	struct hal_sensor_config c = { .name = "n", .gen = HAL_GEN_NORMAL, .normal = { 50, 4 } };
	struct hal_sensor s;
	struct stats st = { 0 };
	int beyond3 = 0;

	mk(&s, &c, 0);
	for (int i = 0; i < 200000; i++) {
		double v = hal_sensor_read(&s, i * S);

		add(&st, v);
		beyond3 += fabs(v - 50) > 12;
	}
	CU_ASSERT(fabs(mean(&st) - 50) < 0.05);
	CU_ASSERT(within(sd(&st), 4, 0.01));
	/* A normal tail, not a uniform one: 0.27% beyond 3 sd. */
	CU_ASSERT(beyond3 > 400 && beyond3 < 700);
}

static void
test_noise(void)
{
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_CONSTANT, .constant = { 10 }, .noise = 0.5,
	};
	struct hal_sensor_config w = {
		.name = "t", .gen = HAL_GEN_SINE, .noise = 0.25,
		.sine = { .mean = 20, .amplitude = 3, .period = 24 * H },
	};
	struct hal_sensor s;
	struct stats st = { 0 }, sw = { 0 };

	mk(&s, &c, 0);
	for (int i = 0; i < 100000; i++)
		add(&st, hal_sensor_read(&s, i * S));
	CU_ASSERT(fabs(mean(&st) - 10) < 0.01);
	CU_ASSERT(within(sd(&st), 0.5, 0.02));

	/* On a sine: the residual against the noiseless curve. */
	mk(&s, &w, 0);
	for (int i = 0; i < 100000; i++) {
		int64_t t = i * 10 * S;
		double clean = 20 + 3 * sin(2 * M_PI * (double)(t % (24 * H)) / (double)(24 * H));

		add(&sw, hal_sensor_read(&s, t) - clean);
	}
	CU_ASSERT(fabs(mean(&sw)) < 0.005);
	CU_ASSERT(within(sd(&sw), 0.25, 0.02));
}

static void
test_sine(void)
{
	const int64_t p = 24 * H;
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_SINE, .sine = { .mean = 20, .amplitude = 5, .period = p },
	};
	struct hal_sensor s;
	struct stats st = { 0 };

	mk(&s, &c, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 0), 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, p / 12), 22.5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, p / 4), 25, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, p / 2), 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 3 * p / 4), 15, 1e-9);
	/* A year in, still exact: time is reduced as an integer. */
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 365 * p + p / 4), 25, 1e-9);

	/* A phase of a quarter period starts at the peak; a negative one
	 * shifts the other way. */
	c.sine.phase = p / 4;
	mk(&s, &c, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 0), 25, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, p / 4), 20, 1e-9);
	c.sine.phase = -p / 4;
	mk(&s, &c, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 0), 15, 1e-9);
	c.sine.phase = 9 * p + p / 2;
	mk(&s, &c, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, p / 4), 15, 1e-9);

	/* Over whole periods: mean 20, sd amplitude / sqrt(2). */
	c.sine.phase = 0;
	mk(&s, &c, 0);
	for (int i = 0; i < 24 * 60 * 10; i++)
		add(&st, hal_sensor_read(&s, i * MIN));
	CU_ASSERT(fabs(mean(&st) - 20) < 1e-6);
	CU_ASSERT(within(sd(&st), 5 / sqrt(2), 1e-4));
}

static void
test_random_walk_bounds(void)
{
	struct hal_sensor_config c = {
		.name = "rh", .gen = HAL_GEN_RANDOM_WALK,
		.random_walk = { .start = 0.5, .step_sd = 0.2, .lower = 0, .upper = 1, .step_time = S },
	};
	struct hal_sensor s;
	double lo = 1, hi = 0, prev = 0.5;
	int moved = 0;

	mk(&s, &c, 0);
	for (int i = 1; i <= 100000; i++) {
		double v = hal_sensor_read(&s, i * S);

		CU_ASSERT(v >= 0 && v <= 1);
		moved += v != prev;
		prev = v;
		lo = fmin(lo, v);
		hi = fmax(hi, v);
	}
	CU_ASSERT(moved > 99000);
	/* It reaches both ends rather than piling up against one. */
	CU_ASSERT(lo < 0.01);
	CU_ASSERT(hi > 0.99);

	/* Huge steps still land inside. */
	c.random_walk.step_sd = 1000;
	mk(&s, &c, 0);
	for (int i = 1; i <= 10000; i++) {
		double v = hal_sensor_read(&s, i * S);

		CU_ASSERT(v >= 0 && v <= 1);
	}
}

/* The step scales with the time between reads, so the spread over an
 * hour does not depend on how often the walk is read. */
static void
test_random_walk_spread(void)
{
	struct hal_sensor_config c = {
		.name = "w", .gen = HAL_GEN_RANDOM_WALK,
		.random_walk = { .start = 0, .step_sd = 1, .lower = -1e12, .upper = 1e12,
		    .step_time = S },
	};
	struct hal_sensor s;
	struct stats st = { 0 };
	double prev;

	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 0);
	prev = 0;
	for (int i = 1; i <= 100000; i++) {
		double v = hal_sensor_read(&s, 4 * i * S);

		add(&st, v - prev);
		prev = v;
		/* Reading again at the same time does not move it. */
		CU_ASSERT_EQUAL(hal_sensor_read(&s, 4 * i * S), v);
	}
	CU_ASSERT(fabs(mean(&st)) < 0.02);
	CU_ASSERT(within(sd(&st), 2, 0.01));
}

static void
test_steps(void)
{
	static const struct hal_point pts[] = { { 5 * S, 1 }, { 10 * S, 2 }, { 20 * S, 3 } };
	struct hal_sensor_config c = {
		.name = "sp", .gen = HAL_GEN_STEPS, .steps = { pts, 3, 0 },
	};
	struct hal_sensor s;

	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 5 * S), 1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 10 * S - 1), 1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 10 * S), 2);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 19 * S), 2);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 20 * S), 3);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 1000 * H), 3);

	/* Repeating every 30 s: before 5 s in a cycle it is still the last
	 * value of the previous one. */
	c.steps.period = 30 * S;
	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 3);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 7 * S), 1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 25 * S), 3);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 32 * S), 3);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 35 * S), 1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 41 * S), 2);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 30000 * S + 12 * S), 2);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 30000 * S + 29 * S), 3);
}

/* Many rows, read densely, sparsely and across cycles: the cursor's
 * shortcuts must agree with the plain definition. */
static void
test_steps_long(void)
{
	enum { N = 1000 };
	static struct hal_point pts[N];
	struct hal_sensor_config c = { .name = "sp", .gen = HAL_GEN_STEPS };
	struct hal_sensor s;
	struct hal_rng r;
	int64_t t = 0;
	int bad = 0;

	for (int i = 0; i < N; i++) {
		pts[i].t = i * S;
		pts[i].v = i;
	}
	c.steps.points = pts;
	c.steps.npoints = N;
	c.steps.period = N * S;
	mk(&s, &c, 0);
	hal_rng_init(&r, 9, "test", 0, "steps");
	for (int i = 0; i < 20000; i++) {
		switch (hal_rng_below(&r, 4)) {
		case 0:
			t += (int64_t)hal_rng_below(&r, S);
			break;
		case 1:
			t += (int64_t)hal_rng_below(&r, 20 * S);
			break;
		case 2:
			t += (int64_t)hal_rng_below(&r, 700 * S);
			break;
		default:
			t += (int64_t)hal_rng_below(&r, 5000 * S);
			break;
		}
		bad += hal_sensor_read(&s, t) != (double)(t % (N * S) / S);
	}
	CU_ASSERT_EQUAL(bad, 0);
}

static const char csv[] =
    "# outdoor temperature, one row a minute\n"
    "time , value\r\n"
    "0,10\r\n"
    "\n"
    "  60 ,\t20  \n"
    "120,30\n";

static void
test_replay(void)
{
	struct hal_table *tb = NULL;
	struct hal_sensor_config c = { .name = "out", .gen = HAL_GEN_REPLAY };
	struct hal_sensor s;
	const struct hal_point *p;
	char err[256] = "";
	size_t n;

	CU_ASSERT_EQUAL_FATAL(hal_table_parse("t.csv", csv, strlen(csv), &tb, err, sizeof(err)),
	    HAL_OK);
	p = hal_table_points(tb, &n);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT_EQUAL(p[1].t, 60 * S);
	CU_ASSERT_EQUAL(p[1].v, 20);
	CU_ASSERT_EQUAL(hal_table_period(tb), 180 * S);

	c.replay.table = tb;
	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 10);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 59 * S), 10);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 60 * S), 20);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 179 * S), 30);
	/* Loops. */
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 180 * S), 10);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 250 * S), 20);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 180 * 1000 * S + 130 * S), 30);

	/* Interpolated, including from the last row back to the first. */
	c.replay.linear = 1;
	mk(&s, &c, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 30 * S), 15, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 90 * S), 25, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 150 * S), 20, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 180 * S + 45 * S), 17.5, 1e-9);

	/* A longer loop set by the configuration. */
	c.replay.linear = 0;
	c.replay.period = 300 * S;
	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 250 * S), 30);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 300 * S), 10);
	c.replay.period = 120 * S;
	CU_ASSERT_EQUAL(hal_sensor_config_check(&c, err, sizeof(err)), HAL_ERR_INVAL);
	CU_ASSERT(strstr(err, "replay: period") != NULL);
	hal_table_free(tb);

	/* A first row after 0: the start of each cycle interpolates from
	 * the previous cycle's last row. */
	CU_ASSERT_EQUAL_FATAL(hal_table_parse("u.csv", "30,10\n90,20\n", 12, &tb, err,
	    sizeof(err)), HAL_OK);
	CU_ASSERT_EQUAL(hal_table_period(tb), 150 * S);
	c = (struct hal_sensor_config){ .name = "out", .gen = HAL_GEN_REPLAY,
		.replay = { .table = tb, .linear = 1 } };
	mk(&s, &c, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 0), 20 - 10 * (60.0 / 90), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 60 * S), 15, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 150 * S + 15 * S), 20 - 10 * (75.0 / 90), 1e-9);
	c.replay.linear = 0;
	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 20);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 30 * S), 10);
	hal_table_free(tb);
}

static void
parse_fails(const char *text, const char *want)
{
	struct hal_table *tb = (struct hal_table *)1;
	char err[256] = "";

	CU_ASSERT_EQUAL(hal_table_parse("x.csv", text, strlen(text), &tb, err, sizeof(err)),
	    HAL_ERR_PARSE);
	CU_ASSERT_PTR_NULL(tb);
	if (strncmp(err, want, strlen(want)) != 0) {
		fprintf(stderr, "\n      got \"%s\", want \"%s...\"\n", err, want);
		CU_FAIL("wrong message");
	}
}

static void
test_replay_errors(void)
{
	parse_fails("", "x.csv:1: expected at least one row of time,value");
	parse_fails("time,value\n# nothing\n", "x.csv:2: expected at least one row");
	parse_fails("0,1\n1,2\n5\n", "x.csv:3: expected two columns, time,value");
	parse_fails("0,1\n1,2,3\n", "x.csv:2: expected two columns");
	parse_fails("0,1\nabc,2\n", "x.csv:2: expected a time in seconds (0 to 1e9) in the first column, got 'abc'");
	parse_fails("-1,2\n", "x.csv:1: expected a time in seconds");
	parse_fails("#\n0,1\n1.5,x\n", "x.csv:3: expected a number in the second column, got 'x'");
	parse_fails("0,1\n1,inf\n", "x.csv:2: expected a number in the second column, got 'inf'");
	parse_fails("0,1\n1,\n", "x.csv:2: expected a number in the second column, got ''");
	parse_fails("0,1\n2,1\n2,5\n", "x.csv:3: expected a time after the previous row's 2 s, got '2'");
	parse_fails("0,1\n2 3,1\n", "x.csv:2: expected a time in seconds");
	/* Only the first row may be a header. */
	parse_fails("0,1\ntime,value\n", "x.csv:2: expected a time in seconds");
}

static void
test_replay_file(void)
{
	char path[] = "/tmp/hal_sensor_test.XXXXXX";
	char err[512] = "";
	struct hal_table *tb = NULL;
	const struct hal_point *p;
	size_t n;
	FILE *f;
	int fd;

	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	CU_ASSERT_FATAL(f != NULL);
	/* Enough rows to make the reader grow its buffers. */
	fprintf(f, "time,kw\n");
	for (int i = 0; i < 10000; i++)
		fprintf(f, "%d.5,%d\n", i, i * 2);
	fprintf(f, "10000.5,oops\n");
	fclose(f);
	CU_ASSERT_EQUAL(hal_table_load(path, &tb, err, sizeof(err)), HAL_ERR_PARSE);
	CU_ASSERT_PTR_NULL(tb);
	CU_ASSERT(strncmp(err, path, strlen(path)) == 0);
	CU_ASSERT(strstr(err, ":10002: expected a number") != NULL);

	f = fopen(path, "a");
	CU_ASSERT_FATAL(f != NULL);
	fclose(f);
	f = fopen(path, "w");
	CU_ASSERT_FATAL(f != NULL);
	for (int i = 0; i < 10000; i++)
		fprintf(f, "%d.5,%d\n", i, i * 2);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(hal_table_load(path, &tb, err, sizeof(err)), HAL_OK);
	p = hal_table_points(tb, &n);
	CU_ASSERT_EQUAL(n, 10000);
	CU_ASSERT_EQUAL(p[9999].t, 9999 * S + S / 2);
	CU_ASSERT_EQUAL(p[9999].v, 19998);
	hal_table_free(tb);
	unlink(path);

	CU_ASSERT_EQUAL(hal_table_load(path, &tb, err, sizeof(err)), HAL_ERR_IO);
	CU_ASSERT_PTR_NULL(tb);
	CU_ASSERT(strncmp(err, path, strlen(path)) == 0);
	hal_table_free(NULL);
}

static void
test_counter(void)
{
	struct hal_sensor_config c = {
		.name = "kwh", .gen = HAL_GEN_COUNTER, .counter = { .start = 100, .rate = 2.5 },
	};
	struct hal_sensor s;
	struct hal_rng r;
	double prev = 100, v = 0;
	int64_t t = 0;
	int down = 0;

	/* Without noise it is exactly start + rate * hours. */
	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 100);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 15 * MIN), 100.625, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 10 * H), 125, 1e-9);

	/* With a noisy rate, read at irregular intervals for 1000 h. */
	c.counter.rate_sd = 2;
	mk(&s, &c, 0);
	hal_rng_init(&r, 5, "test", 0, "counter");
	while (t < 1000 * H) {
		t += (int64_t)hal_rng_below(&r, 4 * MIN);
		v = hal_sensor_read(&s, t);
		down += v < prev;
		prev = v;
	}
	CU_ASSERT_EQUAL(down, 0);
	/* The floor at 0 adds a little: E[max(0, N(2.5, 2))] = 2.601. */
	CU_ASSERT(within(v - 100, 2.601 * 1000, 0.02));

	/* Noise on a counter is refused: it would go down. */
	c.noise = 0.1;
	CU_ASSERT_EQUAL(hal_sensor_config_check(&c, NULL, 0), HAL_ERR_INVAL);
}

static void
test_input(void)
{
	struct hal_sensor_config c = { .name = "room", .gen = HAL_GEN_CONSTANT, .constant = { 18 } };
	struct hal_sensor s;

	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_input(&s), 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 0), 18);
	hal_sensor_set_input(&s, 2.5);
	CU_ASSERT_EQUAL(hal_sensor_input(&s), 2.5);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, S), 20.5);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 2 * S), 20.5);
	hal_sensor_set_input(&s, -1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 3 * S), 17);
}

/* Reads every step for hours; counts reads that are NaN and reads
 * equal to the previous one. */
static void
run(struct hal_sensor *s, int64_t hours, int64_t step, int *nan, int *same)
{
	double prev = NAN;

	*nan = *same = 0;
	for (int64_t t = 0; t < hours * H; t += step) {
		double v = hal_sensor_read(s, t);

		*nan += isnan(v);
		*same += v == prev;
		prev = v;
	}
}

static void
test_dropout_rate(void)
{
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_CONSTANT,
		.fault[HAL_FAULT_DROPOUT] = { .rate = 60 },
	};
	struct hal_sensor s;
	int nan, same;

	/* 60 an hour over 100 hours, each losing one read. */
	mk(&s, &c, 0);
	run(&s, 100, S, &nan, &same);
	CU_ASSERT(within(nan, 6000, 0.1));

	/* Lasting a minute, 6 an hour: missing 1 - e^-0.1 of the time. */
	c.fault[HAL_FAULT_DROPOUT].rate = 6;
	c.fault[HAL_FAULT_DROPOUT].duration = MIN;
	mk(&s, &c, 1);
	run(&s, 1000, 10 * S, &nan, &same);
	CU_ASSERT(within(nan / (1000.0 * 360), 1 - exp(-0.1), 0.05));

	/* Off: never. */
	c.fault[HAL_FAULT_DROPOUT].rate = 0;
	mk(&s, &c, 1);
	run(&s, 10, S, &nan, &same);
	CU_ASSERT_EQUAL(nan, 0);
}

static void
test_dropout_schedule(void)
{
	static const struct hal_window w[] = { { 10 * S, 20 * S }, { 30 * S, 31 * S } };
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_CONSTANT, .constant = { 1 },
		.fault[HAL_FAULT_DROPOUT] = { .schedule = w, .nschedule = 2 },
	};
	struct hal_sensor s;

	mk(&s, &c, 0);
	for (int64_t t = 0; t < 60 * S; t += S / 2) {
		int in = (t >= 10 * S && t < 20 * S) || (t >= 30 * S && t < 31 * S);

		CU_ASSERT_EQUAL(isnan(hal_sensor_read(&s, t)), in);
		CU_ASSERT_EQUAL(hal_sensor_fault_active(&s, HAL_FAULT_DROPOUT, t), in);
	}
}

static void
test_stuck(void)
{
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_NORMAL, .normal = { 20, 1 },
		.fault[HAL_FAULT_STUCK] = { .rate = 6, .duration = 100 * S },
	};
	struct hal_sensor s;
	int nan, same, agree = 0, n = 0;
	double prev = NAN;

	/* Stuck 1 - e^(-6 * 100/3600) of the time. */
	mk(&s, &c, 0);
	run(&s, 1000, 5 * S, &nan, &same);
	CU_ASSERT_EQUAL(nan, 0);
	CU_ASSERT(within(same / (1000.0 * 720), 1 - exp(-1.0 / 6), 0.05));

	/* And exactly when the fault says so. */
	mk(&s, &c, 3);
	for (int64_t t = 0; t < 10 * H; t += 10 * S, n++) {
		int stuck = hal_sensor_fault_active(&s, HAL_FAULT_STUCK, t);
		double v = hal_sensor_read(&s, t);

		agree += stuck == (v == prev);
		prev = v;
	}
	CU_ASSERT_EQUAL(agree, n);
}

static void
test_stuck_schedule(void)
{
	static const struct hal_window w[] = { { 100 * S, 200 * S } };
	static const struct hal_window w0[] = { { 0, 100 * S } };
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_SINE,
		.sine = { .mean = 0, .amplitude = 10, .period = 1000 * S },
		.fault[HAL_FAULT_STUCK] = { .schedule = w, .nschedule = 1 },
	};
	struct hal_sensor s;
	double before = 0;

	mk(&s, &c, 0);
	for (int64_t t = 0; t < 300 * S; t += S) {
		double v = hal_sensor_read(&s, t);

		if (t == 99 * S)
			before = v;
		if (t >= 100 * S && t < 200 * S)
			CU_ASSERT_EQUAL(v, before);
		if (t >= 200 * S)
			CU_ASSERT_DOUBLE_EQUAL(v, 10 * sin(2 * M_PI * (double)t / (1000.0 * S)), 1e-9);
	}
	CU_ASSERT_DOUBLE_EQUAL(before, 10 * sin(2 * M_PI * 0.099), 1e-9);

	/* Stuck from the very first read: it freezes that read's value. */
	c.gen = HAL_GEN_NORMAL;
	c.normal.mean = 5;
	c.normal.sd = 1;
	c.fault[HAL_FAULT_STUCK].schedule = w0;
	mk(&s, &c, 0);
	before = hal_sensor_read(&s, 0);
	CU_ASSERT(isfinite(before) && before != 5);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 50 * S), before);
	CU_ASSERT_NOT_EQUAL(hal_sensor_read(&s, 100 * S), before);
}

static void
test_drift(void)
{
	static const struct hal_window w[] = { { H, 2 * H } };
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_CONSTANT, .constant = { 0 },
		.fault[HAL_FAULT_DRIFT] = { .schedule = w, .nschedule = 1, .slope = 10 },
	};
	struct hal_sensor s;
	int on = 0, n = 0, bad = 0;

	mk(&s, &c, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 30 * MIN), 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, H), 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, H + 30 * MIN), 5, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, H + 59 * MIN), 59.0 / 6, 1e-9);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 2 * H), 0);

	/* At random: 10/h for 3 min at 40/h, so never beyond 2 and on
	 * 1 - e^-0.5 of the time. */
	c.fault[HAL_FAULT_DRIFT] = (struct hal_fault_config){ .rate = 10, .duration = 3 * MIN,
		.slope = 40 };
	mk(&s, &c, 0);
	for (int64_t t = 0; t < 500 * H; t += 10 * S, n++) {
		double v = hal_sensor_read(&s, t);

		bad += v < 0 || v > 2;
		on += v > 0;
	}
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT(within((double)on / n, 1 - exp(-0.5), 0.07));
}

static void
test_spike(void)
{
	static const struct hal_window w[] = {
		{ 10 * S, 20 * S }, { 30 * S, 31 * S }, { 50 * S, 60 * S }, { 70 * S, 71 * S },
	};
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_CONSTANT, .constant = { 0 },
		.fault[HAL_FAULT_SPIKE] = { .rate = 10, .magnitude = 100 },
	};
	struct hal_sensor s;
	int up = 0, down = 0, other = 0;

	mk(&s, &c, 0);
	for (int64_t t = 0; t < 100 * H; t += S) {
		double v = hal_sensor_read(&s, t);

		up += v == 100;
		down += v == -100;
		other += v != 0 && fabs(v) != 100;
	}
	CU_ASSERT(within(up + down, 1000, 0.1));
	CU_ASSERT(within(up, (up + down) / 2.0, 0.15));
	CU_ASSERT_EQUAL(other, 0);

	/* On a schedule: the first read in each window, once. */
	c.fault[HAL_FAULT_SPIKE] = (struct hal_fault_config){ .schedule = w, .nschedule = 4,
		.magnitude = 5 };
	mk(&s, &c, 0);
	for (int64_t t = 0; t < 100 * S; t += S) {
		int want = t == 10 * S || t == 30 * S || t == 50 * S || t == 70 * S;

		CU_ASSERT_EQUAL(fabs(hal_sensor_read(&s, t)) == 5, want);
	}
	/* Read every 7 s: 14, 56 and 70 fall in windows; 30..31 is missed. */
	mk(&s, &c, 0);
	for (int64_t t = 0; t < 100 * S; t += 7 * S) {
		int want = t == 14 * S || t == 56 * S || t == 70 * S;

		CU_ASSERT_EQUAL(fabs(hal_sensor_read(&s, t)) == 5, want);
	}
}

/* Whether a fault is on at t does not depend on how often the device
 * was read before. */
static void
test_faults_ignore_read_pattern(void)
{
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_NORMAL, .normal = { 0, 1 },
		.fault[HAL_FAULT_DROPOUT] = { .rate = 30, .duration = 20 * S },
		.fault[HAL_FAULT_STUCK] = { .rate = 3, .duration = 2 * MIN },
	};
	struct hal_sensor a, b;
	int differ = 0, drops = 0;

	mk(&a, &c, 7);
	mk(&b, &c, 7);
	for (int64_t t = 0; t < 20 * H; t += S) {
		int da = isnan(hal_sensor_read(&a, t));

		if (t % (7 * S) == 0) {
			differ += da != isnan(hal_sensor_read(&b, t));
			differ += hal_sensor_fault_active(&a, HAL_FAULT_STUCK, t) !=
			    hal_sensor_fault_active(&b, HAL_FAULT_STUCK, t);
		}
		drops += da;
	}
	CU_ASSERT_EQUAL(differ, 0);
	CU_ASSERT(drops > 1000);
}

/* Each mode and each device has its own fault times. */
static void
test_faults_independent(void)
{
	struct hal_sensor_config c = {
		.name = "t", .gen = HAL_GEN_CONSTANT, .constant = { 0 },
		.fault[HAL_FAULT_SPIKE] = { .rate = 60, .magnitude = 1 },
		.fault[HAL_FAULT_DROPOUT] = { .rate = 60 },
	};
	struct hal_sensor a, b;
	int spikes = 0, drops = 0, both = 0, same = 0, on = 0;

	/* Were they drawn alike, every spike would hide under a dropout. */
	mk(&a, &c, 7);
	for (int64_t t = 0; t < 50 * H; t += S) {
		int sp = hal_sensor_fault_active(&a, HAL_FAULT_SPIKE, t);
		double v = hal_sensor_read(&a, t);

		spikes += fabs(v) == 1;
		drops += isnan(v);
		both += sp && isnan(v);
	}
	CU_ASSERT(within(spikes, 3000, 0.1));
	CU_ASSERT(within(drops, 3000, 0.1));
	/* About 3000 / 3600 of the dropouts fall on a spike by chance. */
	CU_ASSERT(both < 100);

	c.fault[HAL_FAULT_SPIKE].rate = 0;
	c.fault[HAL_FAULT_DROPOUT].duration = 30 * S;
	mk(&a, &c, 7);
	mk(&b, &c, 8);
	for (int64_t t = 0; t < 50 * H; t += S) {
		int da = isnan(hal_sensor_read(&a, t)), db = isnan(hal_sensor_read(&b, t));

		on += da;
		same += da && db;
	}
	/* Each is off 1 - e^-0.5 of the time; together about its square. */
	CU_ASSERT(within((double)on / (50 * 3600), 1 - exp(-0.5), 0.1));
	CU_ASSERT(within((double)same / on, 1 - exp(-0.5), 0.2));
}

static const struct hal_sensor_config busy = {
	.name = "temp", .gen = HAL_GEN_RANDOM_WALK, .noise = 0.1,
	.random_walk = { .start = 20, .step_sd = 0.05, .lower = 10, .upper = 30, .step_time = S },
	.fault[HAL_FAULT_SPIKE] = { .rate = 20, .magnitude = 8 },
	.fault[HAL_FAULT_DROPOUT] = { .rate = 30, .duration = 10 * S },
	.fault[HAL_FAULT_STUCK] = { .rate = 2, .duration = MIN },
	.fault[HAL_FAULT_DRIFT] = { .rate = 1, .duration = 10 * MIN, .slope = 3 },
};

/* Device 7's first 1000 reads in a fleet of n, with every other device
 * read in between. */
static void
fleet(uint32_t n, double *out)
{
	struct hal_sensor *s = calloc(n, sizeof(*s));

	CU_ASSERT_FATAL(s != NULL);
	for (uint32_t i = 0; i < n; i++)
		mk(&s[i], &busy, i);
	for (int k = 0; k < 1000; k++) {
		for (uint32_t i = 0; i < n; i++) {
			double v = hal_sensor_read(&s[i], k * 5 * S);

			if (i == 7)
				out[k] = v;
		}
	}
	free(s);
}

static void
test_independence(void)
{
	static double small[1000], big[1000];
	struct hal_sensor_config other = busy;
	struct hal_sensor a, b;
	int same = 0, nan = 0, differ = 0;

	fleet(10, small);
	fleet(1000, big);
	for (int k = 0; k < 1000; k++) {
		same += (isnan(small[k]) && isnan(big[k])) || small[k] == big[k];
		nan += isnan(small[k]);
	}
	CU_ASSERT_EQUAL(same, 1000);
	/* The faults were there to be compared. */
	CU_ASSERT(nan > 20);

	/* Another index, sensor name or seed is another stream. */
	other.name = "temp2";
	mk(&a, &busy, 7);
	mk(&b, &other, 7);
	for (int k = 0; k < 100; k++)
		differ += hal_sensor_read(&a, k * S) != hal_sensor_read(&b, k * S);
	CU_ASSERT(differ > 90);
	differ = 0;
	mk(&a, &busy, 7);
	mk(&b, &busy, 8);
	for (int k = 0; k < 100; k++)
		differ += hal_sensor_read(&a, k * S) != hal_sensor_read(&b, k * S);
	CU_ASSERT(differ > 90);
	differ = 0;
	mk(&a, &busy, 7);
	CU_ASSERT_EQUAL(hal_sensor_init(&b, &busy, 43, "g", 7), HAL_OK);
	for (int k = 0; k < 100; k++)
		differ += hal_sensor_read(&a, k * S) != hal_sensor_read(&b, k * S);
	CU_ASSERT(differ > 90);
}

/* Time does not go back: an earlier read is a read at the last time. */
static void
test_backwards(void)
{
	static const struct hal_point pts[] = { { 0, 1 }, { 10 * S, 2 } };
	struct hal_sensor_config k = {
		.name = "kwh", .gen = HAL_GEN_COUNTER, .counter = { .start = 0, .rate = 1 },
	};
	struct hal_sensor_config st = { .name = "sp", .gen = HAL_GEN_STEPS, .steps = { pts, 2, 0 } };
	struct hal_sensor s;

	mk(&s, &k, 0);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 10 * H), 10, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 5 * H), 10, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(hal_sensor_read(&s, 11 * H), 11, 1e-9);
	/* The far future is clamped, not overflowed. */
	k.fault[HAL_FAULT_DROPOUT] = (struct hal_fault_config){ .rate = 1e-3, .duration = INT64_MAX };
	mk(&s, &k, 0);
	CU_ASSERT(isnan(hal_sensor_read(&s, INT64_MAX)));
	CU_ASSERT(isnan(hal_sensor_read(&s, INT64_MAX)));
	mk(&s, &st, 0);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, -5 * S), 1);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 15 * S), 2);
	CU_ASSERT_EQUAL(hal_sensor_read(&s, 5 * S), 2);
}

static void
check_fails(const struct hal_sensor_config *c, const char *want)
{
	char err[256] = "";

	CU_ASSERT_EQUAL(hal_sensor_config_check(c, err, sizeof(err)), HAL_ERR_INVAL);
	if (strstr(err, want) == NULL) {
		fprintf(stderr, "\n      got \"%s\", want \"%s\"\n", err, want);
		CU_FAIL("wrong message");
	}
}

static void
test_config_check(void)
{
	static const struct hal_window overlap[] = { { 0, 10 }, { 5, 20 } };
	static const struct hal_window empty[] = { { 10, 10 } };
	static const struct hal_point unsorted[] = { { 0, 1 }, { 5, 2 }, { 5, 3 } };
	struct hal_sensor_config ok = { .name = "t", .gen = HAL_GEN_CONSTANT };
	struct hal_sensor_config c;
	struct hal_sensor s;
	char longname[HAL_SENSOR_NAME_MAX + 2];

	CU_ASSERT_EQUAL(hal_sensor_config_check(&ok, NULL, 0), HAL_OK);
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_SINE, .sine = { 0, 1, 0, 0 } };
	check_fails(&c, "sine: period must be > 0");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_UNIFORM, .uniform = { 2, 1 } };
	check_fails(&c, "uniform: expected finite min and max, max >= min");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_NORMAL, .normal = { 0, -1 } };
	check_fails(&c, "normal: expected a finite mean and sd >= 0");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_RANDOM_WALK,
		.random_walk = { .start = 5, .lower = 0, .upper = 1, .step_time = S } };
	check_fails(&c, "random_walk: start must be within [lower, upper]");
	c.random_walk.start = 0.5;
	c.random_walk.step_time = 0;
	check_fails(&c, "random_walk: expected step sd >= 0 and step time > 0");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_STEPS,
		.steps = { unsorted, 3, 0 } };
	check_fails(&c, "steps: point 3: times must be >= 0 and increasing");
	c.steps.npoints = 0;
	check_fails(&c, "steps: expected at least one point");
	c.steps.npoints = 2;
	c.steps.period = 5;
	check_fails(&c, "steps: period must be 0 or after the last point");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_REPLAY };
	check_fails(&c, "replay: expected a loaded table");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_COUNTER,
		.counter = { .rate = -1 } };
	check_fails(&c, "counter: expected a finite start, rate >= 0 and rate_sd >= 0");
	c = (struct hal_sensor_config){ .name = "t", .gen = HAL_GEN_COUNTER, .noise = 1 };
	check_fails(&c, "counter: noise would make it decrease");
	c = ok;
	c.noise = -1;
	check_fails(&c, "noise: must be a finite number >= 0");
	c = ok;
	c.gen = (enum hal_gen)99;
	check_fails(&c, "sensor: unknown generator 99");
	c = ok;
	c.name = "";
	check_fails(&c, "sensor: name must be 1 to 63 bytes");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	c.name = longname;
	check_fails(&c, "sensor: name must be 1 to 63 bytes");
	CU_ASSERT_EQUAL(hal_sensor_init(&s, &c, 1, "g", 0), HAL_ERR_INVAL);
	CU_ASSERT(isnan(hal_sensor_read(&s, S)));
	hal_sensor_fini(&s);
	longname[HAL_SENSOR_NAME_MAX] = '\0';
	CU_ASSERT_EQUAL(hal_sensor_config_check(&c, NULL, 0), HAL_OK);
	CU_ASSERT_EQUAL(hal_sensor_init(&s, NULL, 1, "g", 0), HAL_ERR_INVAL);
	CU_ASSERT(isnan(hal_sensor_read(&s, S)));

	c = ok;
	c.fault[HAL_FAULT_STUCK].rate = 1;
	check_fails(&c, "faults.stuck: duration must be > 0");
	c.fault[HAL_FAULT_STUCK].duration = MIN;
	c.fault[HAL_FAULT_STUCK].schedule = overlap;
	c.fault[HAL_FAULT_STUCK].nschedule = 1;
	check_fails(&c, "faults.stuck: expected a rate or a schedule, not both");
	c.fault[HAL_FAULT_STUCK].rate = 0;
	CU_ASSERT_EQUAL(hal_sensor_config_check(&c, NULL, 0), HAL_OK);
	c.fault[HAL_FAULT_STUCK].nschedule = 2;
	check_fails(&c, "faults.stuck: schedule window 2 must start after window 1 ends");
	c = ok;
	c.fault[HAL_FAULT_DROPOUT].schedule = empty;
	c.fault[HAL_FAULT_DROPOUT].nschedule = 1;
	check_fails(&c, "faults.dropout: schedule window 1 must start at 0 or later and end after it starts");
	c = ok;
	c.fault[HAL_FAULT_SPIKE].rate = NAN;
	check_fails(&c, "faults.spike: rate must be from 0 to 3.6e+06 per hour");
	c.fault[HAL_FAULT_SPIKE].rate = 1;
	c.fault[HAL_FAULT_SPIKE].magnitude = INFINITY;
	check_fails(&c, "faults.spike: magnitude must be a finite number");
	c = ok;
	c.fault[HAL_FAULT_DROPOUT].rate = 1;
	CU_ASSERT_EQUAL(hal_sensor_config_check(&c, NULL, 0), HAL_OK);
}

static void
test_names(void)
{
	enum hal_gen g;
	enum hal_fault f;

	for (int i = HAL_GEN_CONSTANT; i <= HAL_GEN_COUNTER; i++) {
		CU_ASSERT_EQUAL(hal_gen_from_name(hal_gen_name((enum hal_gen)i), &g), HAL_OK);
		CU_ASSERT_EQUAL((int)g, i);
	}
	for (int i = 0; i < HAL_FAULT_COUNT; i++) {
		CU_ASSERT_EQUAL(hal_fault_from_name(hal_fault_name((enum hal_fault)i), &f), HAL_OK);
		CU_ASSERT_EQUAL((int)f, i);
	}
	CU_ASSERT_STRING_EQUAL(hal_gen_name(HAL_GEN_RANDOM_WALK), "random_walk");
	CU_ASSERT_STRING_EQUAL(hal_fault_name(HAL_FAULT_DROPOUT), "dropout");
	CU_ASSERT_EQUAL(hal_gen_from_name("walk", &g), HAL_ERR_INVAL);
	CU_ASSERT_EQUAL(hal_fault_from_name(NULL, &f), HAL_ERR_INVAL);
}

int
main(void)
{
	static const struct fs_test tests[] = {
		{ "state size", test_size },
		{ "constant", test_constant },
		{ "uniform statistics", test_uniform },
		{ "normal statistics", test_normal },
		{ "noise", test_noise },
		{ "sine shape and phase", test_sine },
		{ "random walk stays in bounds", test_random_walk_bounds },
		{ "random walk spread scales with time", test_random_walk_spread },
		{ "steps", test_steps },
		{ "steps over many rows", test_steps_long },
		{ "replay values and loop", test_replay },
		{ "replay parse errors", test_replay_errors },
		{ "replay from a file", test_replay_file },
		{ "counter", test_counter },
		{ "external input", test_input },
		{ "dropout at a rate", test_dropout_rate },
		{ "dropout on a schedule", test_dropout_schedule },
		{ "stuck at a rate", test_stuck },
		{ "stuck on a schedule", test_stuck_schedule },
		{ "drift", test_drift },
		{ "spike", test_spike },
		{ "faults do not depend on reads", test_faults_ignore_read_pattern },
		{ "fault streams are independent", test_faults_independent },
		{ "device streams are independent", test_independence },
		{ "reads back in time", test_backwards },
		{ "config check", test_config_check },
		{ "names", test_names },
		{ NULL, NULL },
	};

	return fs_test_main("hal_sensor", tests);
}
