/* libFuzzer target for the device model loader: any bytes must give
 * either a checked model or an error, with nothing leaked either way. */
#include <stddef.h>
#include <stdint.h>

#include "dev_model.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dev_model m;
	struct sim_diag d;

	if (sim_model_load_string((const char *)data, size, "fuzz.yaml", &m, &d) == SIM_OK)
		dev_model_fini(&m);
	return 0;
}
