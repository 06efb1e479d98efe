/* The engine's one clock: CLOCK_MONOTONIC in nanoseconds. Latency is the
 * difference of two readings of it, so every timestamp a device writes into
 * a payload and every arrival the consumer sees come from here. */
#ifndef SIM_CLOCK_H
#define SIM_CLOCK_H

#include <stdint.h>
#include <sys/time.h>
#include <time.h>

#define SIM_NS_PER_S 1000000000ull
#define SIM_NS_PER_MS 1000000ull

static inline uint64_t
sim_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * SIM_NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A relative timeout for event_add, from nanoseconds. */
static inline struct timeval
sim_tv_from_ns(uint64_t ns)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(ns / SIM_NS_PER_S);
	tv.tv_usec = (suseconds_t)((ns % SIM_NS_PER_S) / 1000);
	return tv;
}

#endif
