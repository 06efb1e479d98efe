/* The device's power: a battery that drains with time and with every
 * byte transmitted and cuts the device off when low, reboots (on a
 * schedule or at random), crashes (at random) and the boot time after
 * either.
 *
 * Energy is in joules (J) and power in watts (J/s). A battery of C mAh
 * at V volts holds C * V * 3.6 J; a device drawing I mA at V volts
 * drains I * V / 1000 W.
 *
 * A hal_power is a pure state machine driven with simulated times in
 * nanoseconds that never decrease. The engine asks for the next event
 * (hal_power_next), schedules a timer for it and, when the timer fires,
 * consumes it (hal_power_take). What an event means for the device is
 * the engine's business: on a reboot or crash it drops RAM state and
 * keeps flash (hal_flash_reboot); on a crash it also drops the connection
 * without sending DISCONNECT. */
#ifndef HAL_POWER_H
#define HAL_POWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal_err.h"

#define HAL_POWER_NEVER UINT64_MAX

/* Shared by every device of a group; it and reboot_at must outlive the
 * devices. A zeroed config is a mains-powered device that never reboots
 * or crashes. */
struct hal_power_config {
	double capacity_j;	/* battery energy when full; 0 = mains powered */
	double drain_w;		/* constant drain, J per second */
	double tx_j_per_kb;	/* drain per KB (1024 bytes) transmitted */
	double cutoff_pct;	/* the device goes dark at or below this charge */
	/* Scheduled reboots, sorted sim times (ns). */
	const uint64_t *reboot_at;
	size_t n_reboot_at;
	uint64_t reboot_mtbf;	/* mean time between random reboots (ns); 0 = none */
	uint64_t crash_mtbf;	/* mean time between crashes (ns); 0 = none */
	uint64_t boot_time;	/* unavailable this long after a reboot or crash */
};

enum hal_power_event {
	HAL_POWER_NONE = 0,
	HAL_POWER_CUTOFF,	/* the battery reached the cutoff: dark for good */
	HAL_POWER_CRASH,	/* RAM lost, connection dropped without DISCONNECT */
	HAL_POWER_REBOOT,	/* RAM lost; the device restarts */
	HAL_POWER_BOOTED,	/* boot finished: the device is available again */
};

enum hal_power_state {
	HAL_POWER_ON = 0,
	HAL_POWER_BOOTING,	/* after a reboot or crash, for boot_time */
	HAL_POWER_DEAD,		/* battery cut off */
};

/* Per-device state (64 bytes). Random reboots and crashes form one
 * process (their rates add up); event k is drawn from its own stream, so
 * the schedule depends on (seed, group, index) only. */
struct hal_power {
	const struct hal_power_config *cfg;
	uint64_t key;		/* seeds the event streams */
	uint64_t t0;		/* when the battery was full */
	uint64_t tx_bytes;	/* transmitted since t0 */
	uint64_t cut_at;	/* when the charge reaches the cutoff */
	uint64_t rand_at;	/* next random reboot or crash */
	uint64_t booted_at;	/* end of the current boot, if booting */
	uint32_t rand_k;	/* random events consumed */
	uint16_t sched;		/* scheduled reboots consumed */
	uint8_t rand_kind;	/* HAL_POWER_REBOOT or HAL_POWER_CRASH */
	uint8_t flags;
};

/* Checks a group's config once: non-negative energies, a cutoff in
 * [0, 100), a sorted schedule of at most 65535 reboots. */
enum hal_err hal_power_config_check(const struct hal_power_config *cfg);

/* Starts device (group, index) at t0 with a full battery, on. Scheduled
 * reboots before t0 are skipped. cfg is borrowed. On error p is still
 * safe to use (it reports itself dead) and to fini. */
enum hal_err hal_power_init(struct hal_power *p, const struct hal_power_config *cfg,
    uint64_t seed, const char *group, uint32_t index, uint64_t t0);
void hal_power_fini(struct hal_power *p);

/* The next event not yet consumed and its time in *at (which may be in
 * the past if the engine is late); HAL_POWER_NONE and HAL_POWER_NEVER if
 * there is none. Simultaneous events come in the order of the enum. */
enum hal_power_event hal_power_next(const struct hal_power *p, uint64_t *at);

/* Consumes the next event if it is due at t (at <= t) and returns it;
 * HAL_POWER_NONE otherwise. Call it until it returns NONE. */
enum hal_power_event hal_power_take(struct hal_power *p, uint64_t t);

/* The device's state at t, counting events due by t even if not yet
 * taken. */
enum hal_power_state hal_power_state(const struct hal_power *p, uint64_t t);

/* Battery charge at t in percent (0..100); 100 when mains powered. */
double hal_power_pct(const struct hal_power *p, uint64_t t);

/* The device transmitted n bytes at t: they drain the battery and may
 * bring the cutoff forward (to t at the earliest). */
void hal_power_note_tx(struct hal_power *p, uint64_t t, uint64_t n);

/* A crash forced from outside at t (a scenario's fault injection, such as
 * two-phase commit's crash_after_vote), on top of the model's own: the
 * device boots again after boot_time, as after any crash. The engine
 * handles it as it would a HAL_POWER_CRASH it took. False, and nothing
 * changes, if the device is dead, already booting at t, or has no
 * config. */
bool hal_power_crash(struct hal_power *p, uint64_t t);

#endif
