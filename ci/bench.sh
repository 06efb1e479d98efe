#!/usr/bin/env bash
# Measures fleetsim against a Mosquitto it starts on loopback, and prints a
# Markdown table for docs/benchmarks.md. Not a test: numbers, not verdicts.
#
#   ci/bench.sh [SIZES...]      default sizes: 1000 5000 10000
#   BENCH_SECTIONS="load models rr tpc" ci/bench.sh   (the default: all four)
#
# For each fleet size: time to connect all devices; fleetsim's RSS per idle
# connected device; at 10,000 msg/s total, CPU seconds per 100k messages for
# fleetsim and Mosquitto (from /proc) and latency p50/p99. Then, at the
# largest size, the highest rate that holds (no loss, p99 < 100 ms, at least
# 99% of the intended rate delivered). Every run is bounded in time.
# Then device models: hal-sim state per device and the cost of one
# payload (devices/bench/dev_bench), and the largest size run again with
# every device a temperature-sensor model (JSON payloads from its sensors,
# its link's latency, its clock). Last, request-response: 1,000 requests/s
# over 5,000 thermostat devices, c2d and d2c, CPU per round trip. And
# two-phase commit: 200 transactions/s of 10 participants over 2,000
# thermostats (fleetsim's coordinator, no faults), CPU in cores.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/ci/deps.sh" >/dev/null
command -v python3 >/dev/null || apt-get install -y -qq python3 >/dev/null
"$root/ci/build.sh" release "$root/build-release" >/dev/null
bin=$root/build-release/sim/fleetsim
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 5000 10000)

ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
mpid=""
cleanup() { [ -n "$mpid" ] && kill "$mpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
max_connections -1
persistence false
set_tcp_nodelay true
max_queued_messages 0
max_inflight_messages 100
log_dest none
CONF
[ "$(id -u)" -eq 0 ] && echo "user root" >> "$work/mosquitto.conf"
mosq=$(command -v mosquitto || echo /usr/sbin/mosquitto)
# start_broker: a fresh Mosquitto on the port (stopping the one before, if
# any). One that has served many runs uses more CPU per message, which
# would flatter fleetsim.
start_broker() {
	if [ -n "$mpid" ]; then
		kill "$mpid" 2>/dev/null || true
		wait "$mpid" 2>/dev/null || true
	fi
	"$mosq" -c "$work/mosquitto.conf" >/dev/null 2>&1 &
	mpid=$!
	for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
}
start_broker
broker=mqtt://127.0.0.1:$port

ticks=$(getconf CLK_TCK)
cpu_s() { awk -v t="$ticks" '{print ($14+$15)/t}' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
jget() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
v=r
for k in sys.argv[2].split("."): v=v[k]
print(v)' "$1" "$2"; }

# launch NAME YAML: starts fleetsim on the scenario in the background.
# Sets: out (report dir), pid.
launch() {
	out=$work/$1
	mkdir -p "$out"
	printf '%s' "$2" > "$out/scenario.yaml"
	"$bin" run "$out/scenario.yaml" --broker "$broker" --report-dir "$out" --quiet &
	pid=$!
}

# run NAME YAML: runs fleetsim, samples its RSS and CPU until it exits.
# Sets: out (report dir), f_cpu, m_cpu, rss_max.
run() {
	local m0 m1 r c
	m0=$(cpu_s "$mpid")
	launch "$1" "$2"
	rss_max=0; f_cpu=0
	while kill -0 "$pid" 2>/dev/null; do
		r=$(rss_kb "$pid"); c=$(cpu_s "$pid")
		[ "${r:-0}" -gt "$rss_max" ] && rss_max=$r
		# A read after the exit gives 0; CPU time only grows.
		f_cpu=$(python3 -c "print(max(${f_cpu:-0}, ${c:-0}))")
		sleep 0.2
	done
	wait "$pid" || true
	m1=$(cpu_s "$mpid")
	m_cpu=$(python3 -c "print($m1-$m0)")
}

# run_window NAME YAML FROM TO: runs fleetsim and reads both processes'
# CPU (ns, /proc/PID/schedstat) FROM and TO seconds after its start: the
# steady state, without the connect storm. Sets: out, w_f, w_m (seconds).
run_window() {
	local f0 f1 m0 m1
	launch "$1" "$2"
	sleep "$3"
	f0=$(awk '{print $1}' "/proc/$pid/schedstat"); m0=$(awk '{print $1}' "/proc/$mpid/schedstat")
	sleep "$(($4 - $3))"
	f1=$(awk '{print $1}' "/proc/$pid/schedstat"); m1=$(awk '{print $1}' "/proc/$mpid/schedstat")
	wait "$pid" || true
	w_f=$(python3 -c "print(($f1 - $f0) / 1e9)"); w_m=$(python3 -c "print(($m1 - $m0) / 1e9)")
}

idle_yaml() {   # N: connect everything, send nothing
	printf 'name: idle-%s\nduration: 5s\ndrain: 0s\nfleet:\n  - group: d\n    count: %s\n    connect: { max_inflight: 64 }\n' "$1" "$1"
}
model_yaml() {  # N RATE DURATION: the same load from temperature-sensor models
	local every_ms
	every_ms=$(python3 -c "print(max(1, round($1*1000/$2)))")
	printf 'name: model-%s-%s\nduration: %s\ndrain: 5s\nfleet:\n  - group: d\n    count: %s\n    model: temperature-sensor\n    connect: { max_inflight: 64, ramp: 2s }\n    telemetry: { every: %sms, qos: 1 }\n' "$1" "$2" "$3" "$1" "$every_ms"
}
load_yaml() {   # N RATE DURATION
	# A 2 s ramp: every device is connected before sending starts, so the
	# figures are the steady state's, not the connect storm's (which the
	# idle runs measure).
	local every_ms
	every_ms=$(python3 -c "print(max(1, round($1*1000/$2)))")
	printf 'name: load-%s-%s\nduration: %s\ndrain: 5s\nfleet:\n  - group: d\n    count: %s\n    connect: { max_inflight: 64, ramp: 2s }\n    telemetry: { every: %sms, qos: 1, size: 128 }\n' "$1" "$2" "$3" "$1" "$every_ms"
}

sections=${BENCH_SECTIONS:-load models rr tpc}
has() { case " $sections " in *" $1 "*) return 0 ;; esac; return 1; }

run base "$(idle_yaml 1)"
base_rss=$rss_max
n=${sizes[-1]}

if has load; then
echo "| devices | connect all (s) | RSS (MB) | RSS/device idle (B) | msg/s | fleetsim CPU s/100k | mosquitto CPU s/100k | p50 ms | p99 ms | lost |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for n in "${sizes[@]}"; do
	run "idle-$n" "$(idle_yaml "$n")"
	conn=$(jget "$out/report.json" devices.all_connected_after_s)
	rss=$rss_max
	per=$(python3 -c "print(round(($rss-$base_rss)*1024/max(1,$n-1)))")
	run "load-$n" "$(load_yaml "$n" 10000 20s)"
	recv=$(jget "$out/report.json" patterns.telemetry.received)
	python3 - "$n" "$conn" "$rss" "$per" "$recv" "$f_cpu" "$m_cpu" \
	    "$(jget "$out/report.json" patterns.telemetry.throughput_per_s)" \
	    "$(jget "$out/report.json" patterns.telemetry.latency_ms.p50)" \
	    "$(jget "$out/report.json" patterns.telemetry.latency_ms.p99)" \
	    "$(jget "$out/report.json" patterns.telemetry.lost)" <<'PY'
import sys
n, conn, rss, per, recv, fc, mc, tput, p50, p99, lost = sys.argv[1:]
recv = max(1, float(recv))
print(f"| {n} | {float(conn):.2f} | {int(rss)/1024:.1f} | {per} | {float(tput):.0f} | "
      f"{float(fc)*1e5/recv:.2f} | {float(mc)*1e5/recv:.2f} | {float(p50):.2f} | {float(p99):.2f} | {lost} |")
PY
done

n=${sizes[-1]}
echo
echo "Highest rate that holds at $n devices (QoS 1, 128 B, 15 s; holds = no loss, p99 < 100 ms, >= 99% delivered):"
echo
echo "| target msg/s | delivered msg/s | fleetsim CPU s/100k | mosquitto CPU s/100k | p50 ms | p99 ms | lost | holds |"
echo "|---|---|---|---|---|---|---|---|"
for rate in 20000 30000 40000 60000; do
	run "rate-$rate" "$(load_yaml "$n" "$rate" 15s)"
	held=$(python3 - "$out/report.json" "$rate" "$f_cpu" "$m_cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rate = float(sys.argv[2])
t = r["patterns"]["telemetry"]; recv = max(1, t["received"])
ok = t["lost"] == 0 and t["latency_ms"]["p99"] < 100 and t["throughput_per_s"] >= 0.99 * rate
print(f"| {rate:.0f} | {t['throughput_per_s']:.0f} | {float(sys.argv[3])*1e5/recv:.2f} | "
      f"{float(sys.argv[4])*1e5/recv:.2f} | {t['latency_ms']['p50']:.2f} | {t['latency_ms']['p99']:.2f} | "
      f"{t['lost']:.0f} | {'yes' if ok else 'no'} |")
PY
)
	echo "$held"
	case "$held" in *"| no |") break ;; esac
done
fi

if has models; then
echo
echo "Device models: hal-sim state and payload cost (devices/bench/dev_bench, 10,000 one-sensor devices, 1,000,000 payloads):"
echo
"$root/build-release/devices/dev_bench"

echo
echo "The same at $n devices with every device a temperature-sensor model (10,000 msg/s, QoS 1, 20 s):"
echo
echo "| devices | RSS/device idle (B) | msg/s | fleetsim CPU s/100k | mosquitto CPU s/100k | p50 ms | p99 ms | lost |"
echo "|---|---|---|---|---|---|---|---|"
idle_model() { model_yaml "$1" 1 5s | sed 's/telemetry: { every: [0-9]*ms, qos: 1 }/telemetry: { every: 1h, qos: 1 }/'; }
run "idle-model-$n" "$(idle_model "$n")"
per=$(python3 -c "print(round(($rss_max-$base_rss)*1024/max(1,$n-1)))")
run "model-$n" "$(model_yaml "$n" 10000 20s)"
python3 - "$out/report.json" "$n" "$per" "$f_cpu" "$m_cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = r["patterns"]["telemetry"]; recv = max(1, t["received"])
print(f"| {sys.argv[2]} | {sys.argv[3]} | {t['throughput_per_s']:.0f} | {float(sys.argv[4])*1e5/recv:.2f} | "
      f"{float(sys.argv[5])*1e5/recv:.2f} | {t['latency_ms']['p50']:.2f} | {t['latency_ms']['p99']:.2f} | {t['lost']:.0f} |")
PY
fi

if has rr; then
rr_yaml() {     # DIRECTION: 5,000 thermostats, 1,000 requests/s in all, 20 s
	local pat
	if [ "$1" = c2d ]; then
		pat='{ direction: c2d, method: get_state, rate: 1000/s, timeout: 5s }'
	else
		pat='{ direction: d2c, method: get_config, every: 5s, timeout: 5s, response: { payload: "{\"config\": 1}" } }'
	fi
	printf 'name: rr-%s\nduration: 20s\ndrain: 5s\nfleet:\n  - group: d\n    count: 5000\n    model: thermostat\n    connect: { max_inflight: 64, ramp: 2s }\n    telemetry: { every: 1h }\npatterns:\n  - request_response: %s\n' "$1" "$pat"
}
echo
echo "Request-response: 5,000 thermostat devices, 1,000 requests/s, 20 s (round trip = request and answer, each through Mosquitto):"
echo
echo "| direction | requests | ok | fleetsim CPU ms/round trip | mosquitto CPU ms/round trip | p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|"
for dir in c2d d2c; do
	start_broker
	run "rr-$dir" "$(rr_yaml $dir)"
	python3 - "$out/report.json" "$dir" "$f_cpu" "$m_cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); d = sys.argv[2]
c = r["patterns"]["request_response"][d]; ok = max(1, c["ok"])
print(f"| {d} | {c['sent']:.0f} | {c['ok']:.0f} | {float(sys.argv[3])*1e3/ok:.3f} | "
      f"{float(sys.argv[4])*1e3/ok:.3f} | {c['latency_ms']['p50']:.2f} | {c['latency_ms']['p99']:.2f} |")
PY
done
echo
echo "Steady state: the same runs, each against a fresh Mosquitto, CPU from /proc/PID/schedstat from 6 s to 18 s after the start (12,000 round trips):"
echo
echo "| direction | run | fleetsim µs/round trip | mosquitto µs/round trip | ratio |"
echo "|---|---|---|---|---|"
for i in 1 2 3; do
	for dir in c2d d2c; do
		start_broker
		run_window "rr-$dir-$i" "$(rr_yaml $dir)" 6 18
		python3 -c "f, m = $w_f * 1e6 / 12000, $w_m * 1e6 / 12000; print(f'| $dir | $i | {f:.1f} | {m:.1f} | {f / m:.2f} |')"
	done
done
fi

if has tpc; then
tpc_yaml() {    # 2,000 thermostats, 200 transactions/s of 10 participants, 30 s
	printf 'name: tpc-bench\nduration: 30s\ndrain: 15s\nfleet:\n  - group: d\n    count: 2000\n    model: thermostat\n    connect: { max_inflight: 64, ramp: 2s }\n    telemetry: { every: 1h }\npatterns:\n  - two_phase_commit: { group_size: 10, rate: 200/s }\n'
}
echo
echo "Two-phase commit: 2,000 thermostat devices, 200 transactions/s of 10 participants, 30 s (each transaction: 10 PREPARE, VOTE, DECISION, ACK through Mosquitto, and the coordinator's fdatasync):"
echo
echo "| transactions | committed | violations | fleetsim CPU (cores, whole run) | fleetsim CPU ms/tx | mosquitto CPU ms/tx | complete p50 ms | p99 ms |"
echo "|---|---|---|---|---|---|---|---|"
run tpc "$(tpc_yaml)"
python3 - "$out/report.json" "$f_cpu" "$m_cpu" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); t = r["patterns"]["two_phase_commit"]; n = max(1, t["started"])
v = sum(t["violations"].values()); l = t["latency_ms"]["complete"]
print(f"| {t['started']:.0f} | {t['committed']:.0f} | {v:.0f} | {float(sys.argv[2])/r['duration_s']:.2f} | "
      f"{float(sys.argv[2])*1e3/n:.3f} | {float(sys.argv[3])*1e3/n:.3f} | {l['p50']:.1f} | {l['p99']:.1f} |")
PY
fi
