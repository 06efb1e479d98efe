#!/usr/bin/env bash
# Configures and builds fleetsim. Usage: ci/build.sh [release|sanitize|fuzz] [BUILD_DIR]
# Works from any current directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
kind=${1:-release}
dir=${2:-$root/build-$kind}
args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLEETSIM_WERROR=ON)
case "$kind" in
	release) ;;
	sanitize) args+=(-DFLEETSIM_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug) ;;
	fuzz) args+=(-DFLEETSIM_FUZZ=ON -DFLEETSIM_TESTS=OFF -DCMAKE_C_COMPILER=clang) ;;
	*) echo "build: unknown kind '$kind' (release, sanitize, fuzz)" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j"$(nproc)"
