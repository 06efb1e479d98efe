/* The device's radio or network link: latency added to each message, a
 * bandwidth cap that queues messages behind each other, random
 * disconnects, scheduled partitions and half-open episodes.
 *
 * A hal_link is a pure state machine: the engine passes simulated times
 * (nanoseconds) that never decrease from one call to the next, and the
 * link answers "is it up at t", "when does that change" and "when does a
 * message handed over at t arrive". It never allocates. */
#ifndef HAL_LINK_H
#define HAL_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "hal_err.h"
#include "hal_rng.h"

#define HAL_LINK_NEVER UINT64_MAX

enum hal_link_dist {
	HAL_LINK_FIXED = 0,	/* always mean */
	HAL_LINK_UNIFORM,	/* uniform in [min, max] */
	HAL_LINK_NORMAL,	/* normal(mean, sd), negative draws clamped to 0 */
	HAL_LINK_LOGNORMAL,	/* median * exp(sigma * N(0,1)) */
};

/* A latency distribution, all times in nanoseconds. Only the fields of
 * the chosen dist are read. A lognormal is given by its median and the
 * sd of its logarithm (sigma); hal_link_lognormal_from_mean_sd converts
 * the mean-and-sd form that a scenario may use. */
struct hal_link_latency {
	enum hal_link_dist dist;
	double mean;	/* fixed, normal */
	double sd;	/* normal */
	double min;	/* uniform */
	double max;	/* uniform */
	double median;	/* lognormal */
	double sigma;	/* lognormal, dimensionless */
};

/* A window [start, end) of simulated time. */
struct hal_link_window {
	uint64_t start;
	uint64_t end;
};

/* Shared by every device of a group; it (and the arrays it points to)
 * must outlive the links that use it. Zero means "off" for every rate:
 * a zeroed config is a perfect link. */
struct hal_link_config {
	struct hal_link_latency latency;	/* drawn per send and per receive */
	uint64_t bandwidth;		/* bytes/s in each direction; 0 = unlimited */
	uint64_t disconnect_mtbf;	/* mean up time between disconnects (ns) */
	uint64_t disconnect_mttr;	/* mean time to repair (ns) */
	/* The group loses the broker in these windows: sorted by start and
	 * not overlapping. */
	const struct hal_link_window *partitions;
	size_t n_partitions;
	/* The device stops reading and writing, without closing, in these
	 * windows (same rules as partitions)... */
	const struct hal_link_window *half_open;
	size_t n_half_open;
	/* ...and in random episodes of half_open_duration, with a mean
	 * half_open_mtbf between the end of one and the start of the next. */
	uint64_t half_open_mtbf;
	uint64_t half_open_duration;
};

/* When several conditions hold at once the first in this order wins. */
enum hal_link_state {
	HAL_LINK_UP = 0,
	HAL_LINK_DOWN,		/* disconnected: the connection is closed */
	HAL_LINK_PARTITIONED,	/* the broker is unreachable */
	HAL_LINK_HALF_OPEN,	/* open, but the device neither reads nor writes */
};

/* Per-device state (88 bytes). The disconnect and half-open episodes are
 * drawn from streams keyed by the episode number rather than from lat, so
 * their schedule does not depend on how many messages the device sent or
 * received, nor on how often the engine asks. */
struct hal_link {
	struct hal_rng lat;		/* latency draws */
	const struct hal_link_config *cfg;
	uint64_t key;			/* seeds the episode streams */
	uint64_t up_free;		/* when the up direction is free again */
	uint64_t down_free;
	uint64_t dis_next;		/* next disconnect boundary */
	uint64_t ho_next;		/* next random half-open boundary */
	uint32_t dis_k;			/* boundaries passed; odd = disconnected */
	uint32_t ho_k;			/* boundaries passed; odd = half-open */
};

/* Checks a group's config once: distributions, windows sorted and
 * disjoint, mttr and duration set where an mtbf is. */
enum hal_err hal_link_config_check(const struct hal_link_config *cfg);

/* Fills a lognormal latency from its mean and sd (ns, mean > 0). */
enum hal_err hal_link_lognormal_from_mean_sd(struct hal_link_latency *lat, double mean,
    double sd);

/* Starts the link of device (group, index) at sim time t0, up unless a
 * window says otherwise. cfg is borrowed. On error l is still safe to
 * hal_link_fini. */
enum hal_err hal_link_init(struct hal_link *l, const struct hal_link_config *cfg,
    uint64_t seed, const char *group, uint32_t index, uint64_t t0);
void hal_link_fini(struct hal_link *l);

/* The link's state at t. */
enum hal_link_state hal_link_state(struct hal_link *l, uint64_t t);
int hal_link_up(struct hal_link *l, uint64_t t);

/* The first time after t at which a condition (disconnect, partition,
 * half-open) starts or ends; HAL_LINK_NEVER if none will. While the link
 * is up this is exactly when it stops being up; otherwise the state may
 * stay the same there (a repair inside a partition), and the engine just
 * asks again. */
uint64_t hal_link_next_change(struct hal_link *l, uint64_t t);

/* A message of n bytes handed to the link at t, up (device to broker) or
 * down (broker to device): *at is when it reaches the other side, after
 * waiting for the messages before it, its own transmission time at the
 * bandwidth cap, and a latency draw. HAL_ERR_DOWN if the link is not up
 * at t (*at is then HAL_LINK_NEVER). If the link goes down before *at
 * (hal_link_next_change(l, t) < *at) the engine should treat the message
 * as lost. */
enum hal_err hal_link_send(struct hal_link *l, uint64_t t, size_t n, uint64_t *at);
enum hal_err hal_link_recv(struct hal_link *l, uint64_t t, size_t n, uint64_t *at);

/* Forgets queued messages, e.g. when the connection is closed, so that
 * the next one does not wait behind messages that were lost. */
void hal_link_flush(struct hal_link *l);

#endif
