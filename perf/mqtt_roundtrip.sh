#!/usr/bin/env bash
# MQTT round trip on one local mosquitto, in one run: the broker alone (publisher → broker →
# subscriber) and the same load through edgeflow (publisher → broker → edgeflow → broker →
# subscriber). Prints each trial's JSON line (rate, loss, duplicates, latency percentiles), the
# engine/broker-alone rate ratio (0.5 is the limit on one broker, which carries every message
# twice when an engine is in the middle), and CPU microseconds per message of the engine and
# the broker, from /proc.
#
#   perf/mqtt_roundtrip.sh [MESSAGES] [QOS] [WINDOW]     defaults: 200000, 1, 256
# Closed loop: the publisher keeps WINDOW publishes unacknowledged. Builds the release preset.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
qos=${2:-1}
window=${3:-256}

cmake --preset release > /dev/null
cmake --build --preset release --target edgeflow edgeflow_mqtt_roundtrip > /dev/null
engine=build/release/apps/edgeflow/edgeflow
tool=build/release/perf/edgeflow_mqtt_roundtrip

work=$(mktemp -d)
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/mosquitto.conf" << CONF
listener $port 127.0.0.1
allow_anonymous true
max_queued_messages 1000000
max_inflight_messages 1000
CONF
mosquitto -c "$work/mosquitto.conf" > "$work/broker.log" 2>&1 &
broker=$!
sleep 0.5

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

b0=$(ticks "$broker")
alone=$("$tool" --port "$port" --count "$n" --qos "$qos" --window "$window" \
        --pub bench/alone --sub bench/alone)
b1=$(ticks "$broker")

cat > "$work/pipeline.yaml" << YAML
version: 1
name: mqtt-roundtrip
sources:
  - name: in
    kind: mqtt
    broker: tcp://127.0.0.1:$port
    topics: ["bench/in/+"]
    qos: $qos
destinations:
  - name: out
    kind: mqtt
    broker: tcp://127.0.0.1:$port
    qos: $qos
    topic: bench/out/{deviceId}
runtime:
  workers: 2
YAML
"$engine" run -c "$work/pipeline.yaml" --log-level warn > "$work/summary.txt" 2> "$work/engine.log" &
eng=$!
sleep 1
e0=$(ticks "$eng")
b2=$(ticks "$broker")
through=$("$tool" --port "$port" --count "$n" --qos "$qos" --window "$window" \
          --pub bench/in/telemetry --sub 'bench/out/#')
e1=$(ticks "$eng")
b3=$(ticks "$broker")
kill -TERM "$eng"
wait "$eng" || true

echo "broker alone:   $alone"
echo "through engine: $through"
python3 - "$alone" "$through" "$n" "$hz" "$((b1 - b0))" "$((b3 - b2))" "$((e1 - e0))" << 'PY'
import json, sys
alone, through = json.loads(sys.argv[1]), json.loads(sys.argv[2])
n, hz, b_alone, b_through, eng = (int(x) for x in sys.argv[3:8])
us = lambda ticks: ticks / hz * 1e6 / n
print(f"engine / broker-alone rate: {through['rate'] / alone['rate']:.2f} (0.50 is the one-broker limit)")
print(f"CPU per message: broker alone {us(b_alone):.1f} us, broker with engine {us(b_through):.1f} us, "
      f"engine {us(eng):.1f} us")
PY
echo "engine summary:"
cat "$work/summary.txt"
