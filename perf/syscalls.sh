#!/usr/bin/env bash
# System calls per message: the factory pipeline over its own mosquitto at one offered rate,
# with every thread of the engine under `strace -f -c`. Prints strace's table and the calls per
# message delivered, in all and by call.
#
#   perf/syscalls.sh [RATE] [SECONDS]          default 2000 msg/s for 5 s
#   EDGEFLOW_BUILD=build/release perf/syscalls.sh 10000
#
# strace slows every call it sees, so read the counts, not the rates or latencies, of this run.
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${1:-2000}
seconds=${2:-5}
build=${EDGEFLOW_BUILD:-build/release}
engine=$build/apps/edgeflow/edgeflow
load=$build/perf/edgeflow_mqtt_load
for tool in strace mosquitto; do
    command -v "$tool" > /dev/null || { echo "syscalls: $tool is needed (Debian package $tool)" >&2; exit 2; }
done
[ -x "$engine" ] && [ -x "$load" ] || { echo "syscalls: build $engine and $load first (cmake --preset release)" >&2; exit 2; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 100000\n' "$port" > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" > "$work/mosquitto.log" 2>&1 &
sleep 0.5
sed -e "s|tcp://127.0.0.1:1883|tcp://127.0.0.1:$port|" \
    -e "s|file: devices.jsonl|file: $PWD/examples/factory/devices.jsonl|" \
    examples/factory/pipeline.yaml > "$work/pipeline.yaml"
strace -f -c -o "$work/strace.txt" "$engine" run -c "$work/pipeline.yaml" > "$work/engine.log" 2>&1 &
tracer=$!
for _ in $(seq 100); do
    grep -q "subscribed to" "$work/engine.log" 2> /dev/null && break
    sleep 0.1
done
"$load" --port "$port" --rate "$rate" --seconds "$seconds" --warmup 0 --sub 'enriched/#' > "$work/load.json"
kill -INT "$(pgrep -P "$tracer" edgeflow || pgrep -f "$work/pipeline.yaml" | grep -v "^$tracer$" | head -1)"
wait "$tracer" || true
received=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["received"])' "$work/load.json")
cat "$work/strace.txt"
python3 - "$work/strace.txt" "$received" << 'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
        calls = int(parts[3])
        rows[parts[-1]] = calls
n = int(sys.argv[2])
total = sum(rows.values())
print(f"\n{n} messages delivered; {total / max(n, 1):.1f} system calls per message")
for name, calls in sorted(rows.items(), key=lambda r: -r[1])[:8]:
    print(f"  {name:16} {calls / max(n, 1):6.2f}")
PY
