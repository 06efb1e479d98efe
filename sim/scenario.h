/* Scenario files (schema v1): loading, --set overrides and validation.
 * Everything is checked here, before anything connects; every user error
 * names FILE:LINE:COLUMN and what was expected. */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <limits.h>
#include <stdint.h>

#include "sim_err.h"
#include "template.h"
#include "verdict.h"

/* Where a value came from in the file, for errors found after loading
 * (e.g. an assertion path checked against the report). 1-based. */
struct sim_pos {
	unsigned line, col;
};

struct sim_telemetry_cfg {
	bool enabled;               /* the group has a telemetry: mapping */
	uint64_t every_ns;          /* > 0 */
	uint64_t jitter_ns;         /* <= every_ns */
	int qos;                    /* 0..2 */
	struct sim_tmpl *topic;     /* default "devices/{id}/telemetry" */
	uint32_t size;              /* payload bytes, >= the header size (SIM_TELEMETRY_MIN_SIZE) */
	bool qos_given;             /* qos: was written (else a model's qos applies) */
	bool model_payload;         /* the model's template or frames, not size bytes of padding */
};

/* The smallest telemetry payload: the header fleetsim puts in every message. */
#define SIM_TELEMETRY_MIN_SIZE 32

struct sim_group {
	char *name;
	uint32_t count;             /* >= 1 */
	struct sim_tmpl *id;        /* default "{group}-{n}"; may use {n} {group} */
	int mqtt_version;           /* SIM_MQTT_V311 (4) or SIM_MQTT_V5 (5); "3.1.1" | "5" */
	uint64_t keepalive_ns;      /* default 60s, whole seconds, <= 65535s */
	bool clean_session;         /* default true */
	uint64_t ramp_ns;           /* connect.ramp, default 0 */
	uint32_t connect_max_inflight; /* connect.max_inflight, default 64, >= 1 */
	struct sim_telemetry_cfg telemetry;
	struct dev_model *model;    /* owned, checked and patched with hal:; NULL without model: */
	struct sim_pos pos;         /* of the "group:" value */
	struct sim_pos model_pos;   /* of the "model:" value */
};

struct sim_tls_cfg {
	char *ca, *cert, *key;      /* paths as resolved (relative to the scenario file's folder), or NULL */
	bool verify;                /* default true */
};

struct sim_target {
	bool given;                 /* target: present, or --broker */
	char *url;                  /* as written */
	bool tls;                   /* mqtts:// */
	char *host;
	uint16_t port;              /* default 1883, or 8883 for mqtts */
	struct sim_tls_cfg tls_cfg;
	struct sim_tmpl *username;  /* may use {id} {n} {group}; NULL if absent */
	struct sim_tmpl *password;  /* likewise */
};

/* report.formats: which files a run writes (default all). */
enum sim_report_format {
	SIM_REPORT_JSON = 1 << 0,   /* report.json */
	SIM_REPORT_JUNIT = 1 << 1,  /* junit.xml */
	SIM_REPORT_HTML = 1 << 2,   /* report.html */
	SIM_REPORT_CSV = 1 << 3,    /* timeseries.csv */
	SIM_REPORT_ALL = 0xf,
};

/* A request-response pattern (patterns: - request_response: ...). */
enum sim_rr_dir { SIM_RR_C2D, SIM_RR_D2C };
enum sim_rr_conv {
	SIM_RR_CONV_RID,            /* IoT Hub's: the id and status in the topic */
	SIM_RR_CONV_MQTT5,          /* Response Topic, Correlation Data, a status user property */
};

struct sim_rr_payload;
struct dev_dist;

struct sim_rr_cfg {
	enum sim_rr_dir dir;
	enum sim_rr_conv conv;
	char *method;
	struct sim_tmpl *request_topic; /* where requests go (c2d: to the device; d2c: from it) */
	struct sim_tmpl *response_topic;/* c2d, rid: where the device answers */
	struct sim_rr_payload *payload; /* the request's payload; NULL = empty */
	double rate;                /* c2d: requests per second, whole fleet */
	uint64_t every_ns;          /* d2c: per device */
	char *response_prefix;      /* d2c: answers come on PREFIX/{id}/res/... */
	bool external;              /* d2c: the user's backend answers, not fleetsim */
	struct dev_dist *resp_delay;/* d2c, fleetsim responder: how long it takes (ns) */
	int resp_status;            /* d2c, fleetsim responder: default 200 */
	struct sim_rr_payload *resp_payload; /* d2c, fleetsim responder; NULL = empty */
	int *expect_status;         /* d2c: statuses that pass (NULL: 200-299) */
	size_t nexpect_status;
	char *expect_field;         /* d2c: a member the answer's JSON must have... */
	char *expect_equals;        /* ...with this value (as its JSON text, strings unquoted) */
	uint64_t timeout_ns;        /* default 5s */
	int qos;                    /* default 1 */
	int group;                  /* targets.group's index, or -1 for every group */
	double share;               /* targets.share: the fraction of those devices, default 1 */
	bool random;                /* targets.pick: random (default: round_robin) */
	struct sim_pos pos;         /* of "request_response:" */
};

/* A two-phase-commit pattern (patterns: - two_phase_commit: ...); the
 * protocol and its wire contract are docs/two-phase-commit.md. */
enum sim_tpc_bug {
	SIM_TPC_BUG_NONE,
	SIM_TPC_BUG_COMMIT_DESPITE_NO_VOTE, /* a NO vote counts as YES */
	SIM_TPC_BUG_FORGET_DECISION,        /* decisions are never written to the log */
};

struct sim_tpc_cfg {
	bool external;              /* coordinator: external (the user's); default fleetsim */
	uint32_t group_size;        /* participants per transaction, default 10, >= 1 */
	int group;                  /* targets.group's index, or -1 for every group */
	double share;               /* targets.share: the fraction of those devices, default 1 */
	double rate;                /* transactions per second, whole fleet (fleetsim coordinator) */
	uint64_t deadline_ns;       /* voting deadline after the start, default 2s */
	uint64_t resend_ns;         /* resend PREPARE / DECISION to the silent, default 500ms */
	uint64_t recovery_ns;       /* termination slack beyond the deadline, default 10s */
	struct sim_rr_payload *change; /* the change's JSON template ({tx.n}); default {"tx": {tx.n}} */
	int qos;                    /* of every protocol message, default 1 */
	double min_battery_pct;     /* participants vote NO below this charge, default 0 */
	/* Topics (docs/two-phase-commit.md): the device's may use {id} {n}
	 * {group}; the coordinator's are plain. */
	struct sim_tmpl *prepare_topic;  /* default tpc/{id}/prepare */
	struct sim_tmpl *decision_topic; /* default tpc/{id}/decision */
	char *vote_topic;           /* default tpc/coord/vote */
	char *ack_topic;            /* default tpc/coord/ack */
	char *query_topic;          /* default tpc/coord/query */
	/* faults: probabilities in [0, 1], drawn per (device, txid). */
	double vote_no;             /* vote NO for no hardware reason */
	double crash_before_vote;   /* crash on receiving PREPARE, before voting */
	double crash_after_vote;    /* crash once the YES vote is sent: in doubt after boot */
	double reboot_during_commit;/* reboot while the COMMIT's writes are in flight */
	double message_loss;        /* each protocol message at a device, either way, is lost */
	double partition;           /* a participant's link freezes on PREPARE for partition_ns */
	uint64_t partition_ns;      /* default 3s */
	uint64_t coordinator_crash_ns; /* faults.coordinator_crash: every ...; 0 = never */
	uint64_t coordinator_down_ns;  /* how long a crashed coordinator stays down, default 1s */
	char *log_path;             /* the coordinator's log; NULL: REPORT_DIR/tpc-coordinator.log */
	enum sim_tpc_bug bug;       /* coordinator_bug: test-only misbehaviour */
	struct sim_pos pos;         /* of "two_phase_commit:" */
};

struct sim_scenario_assert {
	struct rpt_assertion a;
	struct sim_pos pos;
};

struct sim_scenario {
	char *file;                 /* path as given */
	char *text;                 /* the file's full text, for the report */
	char *name;
	uint64_t seed;              /* default 1 */
	uint64_t duration_ns;       /* > 0 */
	uint64_t drain_ns;          /* default 5s */
	double time_scale;          /* simulated seconds per real second, default 1 */
	bool has_epoch;
	int64_t epoch_ns;           /* Unix time of simulated time 0, if has_epoch (else: the start) */
	struct sim_target target;
	struct sim_group *groups;
	size_t ngroups;
	struct sim_rr_cfg *rr;      /* patterns: request_response entries */
	size_t nrr;
	struct sim_tpc_cfg *tpc;    /* patterns: two_phase_commit entries (at most one) */
	size_t ntpc;
	struct sim_scenario_assert *asserts;
	size_t nasserts;
	char *report_dir;           /* default "fleetsim-report" */
	unsigned report_formats;    /* enum sim_report_format bits; json is always on */
};

/* Overrides from the command line, applied before validation. */
struct sim_overrides {
	const char *broker_url;     /* --broker, or NULL */
	const char *report_dir;     /* --report-dir, or NULL */
	bool has_seed;
	uint64_t seed;              /* --seed */
	const char *const *sets;    /* --set PATH=VALUE, in order */
	size_t nsets;
};

/* Loads and validates path. ov may be NULL. On failure returns
 * SIM_ERR_SCENARIO (bad input: d->msg is "FILE:LINE:COLUMN: ..."),
 * SIM_ERR_IO (cannot read the file) or SIM_ERR_NOMEM; sc is then safe to
 * fini. On success the caller owns sc's contents: sim_scenario_fini. */
enum sim_err sim_scenario_load(const char *path, const struct sim_overrides *ov,
    struct sim_scenario *sc, struct sim_diag *d);

/* The same from a string (tests, fuzzing); file names the source in
 * messages and anchors relative paths. */
enum sim_err sim_scenario_load_string(const char *text, size_t len, const char *file,
    const struct sim_overrides *ov, struct sim_scenario *sc, struct sim_diag *d);

void sim_scenario_fini(struct sim_scenario *sc);

struct dev_model;

/* Loads and checks one model file on its own (validate, models). On
 * failure d->msg is "FILE:LINE:COLUMN: ..." and m is zeroed; on success
 * the caller owns m's contents: dev_model_fini. */
enum sim_err sim_model_load(const char *path, struct dev_model *m, struct sim_diag *d);
/* The same from a string (tests, fuzzing); file names the source in
 * messages and anchors relative paths (replay files). */
enum sim_err sim_model_load_string(const char *text, size_t len, const char *file,
    struct dev_model *m, struct sim_diag *d);
/* The folders a model name is looked up in, outside any scenario's own
 * models/ folder: $FLEETSIM_MODELS, then the built-in devices/models. */
size_t sim_model_dirs(char dirs[][PATH_MAX], size_t max);
/* The model files found there (a name in an earlier folder hides it in
 * later ones), sorted by name, at most max; the caller frees each path. */
size_t sim_model_paths(char **paths, size_t max);
/* Their names, comma-separated into buf; returns how many. */
size_t sim_model_list(char *buf, size_t len);

/* Total devices over all groups. */
uint64_t sim_scenario_devices(const struct sim_scenario *sc);

#endif
