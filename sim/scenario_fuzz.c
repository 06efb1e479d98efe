/* libFuzzer target for the scenario loader: any bytes must give either a
 * scenario or an error, with nothing leaked either way. */
#include <stddef.h>
#include <stdint.h>

#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Overrides reach the tree-editing code with whatever tree the input
	 * makes; a group named "sensors" is what most seeds have. */
	static const char *const sets[] = {
		"fleet.sensors.count=5",
		"telemetry.qos=1",
		"report.dir=x",
	};
	static const struct sim_overrides ov = {
		.broker_url = NULL,
		.sets = sets,
		.nsets = sizeof(sets) / sizeof(sets[0]),
	};
	struct sim_scenario sc;
	struct sim_diag d;

	sim_scenario_load_string((const char *)data, size, "fuzz.yaml", NULL, &sc, &d);
	(void)sim_scenario_devices(&sc);
	sim_scenario_fini(&sc);
	sim_scenario_load_string((const char *)data, size, "fuzz.yaml", &ov, &sc, &d);
	sim_scenario_fini(&sc);
	return 0;
}
