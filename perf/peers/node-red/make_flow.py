"""Writes the benchmark's Node-RED flow: mqtt in (factory/#) -> function (reference.js) ->
mqtt out (the topic each message carries), against the broker on EDGEFLOW_BENCH_BROKER_PORT.

    python3 make_flow.py OUT.json [QOS]
"""
import json
import pathlib
import sys

here = pathlib.Path(__file__).resolve().parent
qos = sys.argv[2] if len(sys.argv) > 2 else "1"
flow = [
    {"id": "bench-tab", "type": "tab", "label": "edgeflow reference"},
    {"id": "bench-broker", "type": "mqtt-broker", "name": "bench",
     "broker": "127.0.0.1", "port": "${EDGEFLOW_BENCH_BROKER_PORT}",
     "clientid": "edgeflow-bench-node-red", "autoConnect": True, "usetls": False,
     "protocolVersion": "5", "keepalive": "30", "cleansession": True},
    {"id": "bench-in", "type": "mqtt in", "z": "bench-tab", "name": "telemetry",
     "topic": "factory/#", "qos": qos, "datatype": "utf8", "broker": "bench-broker",
     "nl": False, "rap": True, "rh": 0, "inputs": 0, "x": 100, "y": 100,
     "wires": [["bench-fn"]]},
    {"id": "bench-fn", "type": "function", "z": "bench-tab", "name": "reference work",
     "func": (here / "reference.js").read_text(), "outputs": 1, "timeout": 0, "noerr": 0,
     "initialize": "", "finalize": "", "libs": [], "x": 300, "y": 100,
     "wires": [["bench-out"]]},
    {"id": "bench-out", "type": "mqtt out", "z": "bench-tab", "name": "enriched",
     "topic": "", "qos": qos, "retain": "false", "broker": "bench-broker",
     "x": 500, "y": 100, "wires": []},
]
pathlib.Path(sys.argv[1]).write_text(json.dumps(flow, indent=1))
