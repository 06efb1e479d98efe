/* Builders for device models in code, shared by the devices tests. Every
 * string they add is the model's to free (dev_model_fini). Static inline:
 * each test uses a different subset. */
#ifndef DEV_TEST_BUILD_H
#define DEV_TEST_BUILD_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "dev_model.h"

static inline void
model_init(struct dev_model *m)
{
	*m = (struct dev_model){ .qos = -1 };
	m->name = strdup("test");
}

static inline struct hal_sensor_config *
add_sensor(struct dev_model *m, const char *name, enum hal_gen gen)
{
	struct dev_sensor_spec *s;

	m->sensors = realloc(m->sensors, (m->nsensors + 1) * sizeof(*m->sensors));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->sensors);
	s = &m->sensors[m->nsensors++];
	*s = (struct dev_sensor_spec){ .name = strdup(name) };
	s->cfg.name = s->name;
	s->cfg.gen = gen;
	return &s->cfg;
}

static inline struct dev_command_spec *
add_command(struct dev_model *m, const char *name, enum dev_action action)
{
	struct dev_command_spec *c;

	m->commands = realloc(m->commands, (m->ncommands + 1) * sizeof(*m->commands));
	CU_ASSERT_PTR_NOT_NULL_FATAL(m->commands);
	c = &m->commands[m->ncommands++];
	*c = (struct dev_command_spec){ .name = strdup(name), .action = action, .actuator_idx = -1 };
	return c;
}

/* Checks m, printing the problem before failing the test. */
static inline void
check_ok(struct dev_model *m)
{
	struct dev_problem p;
	enum hal_err e = dev_model_check(m, &p);

	if (e != HAL_OK)
		fprintf(stderr, "\n      problem: %s (where %d, offset %zu)\n", p.msg, p.where,
		    p.offset);
	CU_ASSERT_EQUAL_FATAL(e, HAL_OK);
}

#endif
