#!/usr/bin/env bash
# Installs dependencies, builds with ASan+UBSan and runs every test with
# ctest. Each test starts its own Mosquitto on 127.0.0.1 and a free port.
# Works from any current directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/ci/deps.sh"
"$root/ci/build.sh" sanitize "$root/build-sanitize"
# The fuzz targets must keep building; a short run of each catches the
# worst regressions without making CI slow.
"$root/ci/build.sh" fuzz "$root/build-fuzz"
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
for f in "$root"/build-fuzz/*/*_fuzz; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	mkdir -p "$corpus/$name"
	# Seeds are committed; what the run discovers stays out of the tree.
	if [ -d "$root/tests/fuzz-corpus/$name" ]; then
		cp "$root/tests/fuzz-corpus/$name"/* "$corpus/$name"/
	fi
	echo "fuzz: $name for 20 s"
	if ! "$f" -max_total_time=20 -print_final_stats=1 "$corpus/$name" > "$corpus/$name.log" 2>&1; then
		tail -n 40 "$corpus/$name.log" >&2
		echo "fuzz: $name found a crash" >&2
		exit 1
	fi
	grep -E 'stat::number_of_executed_units' "$corpus/$name.log" || true
done
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
cd "$root/build-sanitize"
ctest --output-on-failure -j2 --timeout 600
