#!/usr/bin/env bash
# From a fresh Debian 12 machine to a first verdict: installs dependencies,
# builds, and runs scenarios/quickstart.yaml on the embedded Mosquitto.
# Works from any current directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/ci/deps.sh"
"$root/ci/build.sh" release "$root/build-release"
cd "$root"
exec "$root/build-release/sim/fleetsim" run scenarios/quickstart.yaml "$@"
