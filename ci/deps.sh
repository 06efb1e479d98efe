#!/usr/bin/env bash
# Installs what fleetsim needs from Debian 12's packages. Idempotent: only
# missing packages are installed, so a second run changes nothing. As root.
set -euo pipefail

pkgs=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libevent-dev libssl-dev libyaml-dev libcunit1-dev libpaho-mqtt-dev
	mosquitto mosquitto-clients openssl libxml2-utils chromium python3 python3-jsonschema
)

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run this script as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The package starts a system-wide mosquitto on port 1883; fleetsim starts
# its own brokers, so the service is not needed, but it is left as it was.
