#!/usr/bin/env python3
"""The benchmark suite's runner (started by scripts/bench, which installs and builds first).

Runs the parts in order, each optional, and writes everything to one results directory:

  micro      Google Benchmark micro-benchmarks (bench/)              micro.json
  limits     bare simdjson and the hand-fused reference loop        limits.json
  inprocess  the factory pipeline in-process: peak throughput by workers and batch size, an
             open-loop sweep of offered rates, and latency at half the sustainable rate
  mqtt       one local mosquitto: broker alone, then the engine in the middle, same generator
  ack        the engine acknowledging after delivery against acknowledge: on_receipt, alone and
             with a second destination on a second mosquitto slowed by SIGSTOP duty cycles
             (--ack-slow); CPU per message, latency, source rate, loss, ratios in one run
  ceiling    MQTT configurations: publishing connections, shared-subscription ingest,
             in-flight window, QoS 0
  peer       Node-RED running the reference work against the same broker and generator
  report     results.json, report.md and PNG plots (gnuplot)

Progress goes to stderr: the part, the step out of the steps planned, elapsed and estimated
time remaining (planned durations scaled by how the run has gone so far).
"""
import argparse
import datetime
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "release"
PERF = BUILD / "perf" / "edgeflow_perf"
LOAD = BUILD / "perf" / "edgeflow_mqtt_load"
ENGINE = BUILD / "apps" / "edgeflow" / "edgeflow"
MICRO = BUILD / "bench" / "edgeflow_bench"
PIPELINE = ROOT / "examples" / "factory" / "pipeline.yaml"
DATASET = ROOT / "examples" / "factory" / "devices.jsonl"
CACHE = pathlib.Path(os.environ.get("EDGEFLOW_BENCH_CACHE",
                                    pathlib.Path.home() / ".cache" / "edgeflow-bench"))
NODE_RED = CACHE / "node-red" / "node_modules" / "node-red" / "red.js"
PARTS = ["micro", "limits", "inprocess", "mqtt", "ack", "ceiling", "peer", "report"]


def log(text):
    print(text, file=sys.stderr, flush=True)


def clock(seconds):
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_json(cmd, timeout):
    """Runs a tool that prints one JSON object; returns it (or an error record)."""
    try:
        out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": "timeout", "cmd": " ".join(map(str, cmd))}
    for line in reversed(out.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": out.stderr.strip()[-400:] or f"exit {out.returncode}"}


# /proc readings of another process: CPU time from the per-thread schedstat (nanoseconds on
# CPU, finer than the tick counts in stat), peak RSS from VmHWM.
def cpu_ns(pid):
    total = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError):
                pass
    except OSError:
        return 0
    return total


def thread_cpu_ns(pid):
    """CPU ns of each live thread of pid, summed by thread name."""
    by_name = {}
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return by_name
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/{pid}/task/{task}/schedstat") as f:
                ns = int(f.read().split()[0])
        except (OSError, ValueError):
            continue
        by_name[name] = by_name.get(name, 0) + ns
    return by_name


def peak_rss_mb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class Progress:
    def __init__(self):
        self.steps = []  # (part, label, estimate seconds, function)
        self.start = time.monotonic()
        self.done_estimate = 0.0
        self.failures = []

    def add(self, part, label, estimate, fn):
        self.steps.append((part, label, estimate, fn))

    def run(self):
        counts = {}
        for part, *_ in self.steps:
            counts[part] = counts.get(part, 0) + 1
        seen = {}
        for i, (part, label, estimate, fn) in enumerate(self.steps):
            seen[part] = seen.get(part, 0) + 1
            elapsed = time.monotonic() - self.start
            pace = elapsed / self.done_estimate if self.done_estimate > 5 else 1.0
            pace = min(max(pace, 0.5), 3.0)
            left = sum(s[2] for s in self.steps[i:]) * pace
            label_text = label() if callable(label) else label
            log(f"[{clock(elapsed)} elapsed, ~{clock(left)} left] {part} "
                f"{seen[part]}/{counts[part]}: {label_text}")
            try:
                result = fn()
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                # One step failing (a process that would not start) does not lose the others.
                result = f"failed: {e}"
                self.failures.append(f"{part}: {label_text}: {e}")
            if isinstance(result, str) and result:
                log(f"    {result}")
            self.done_estimate += estimate
        log(f"[{clock(time.monotonic() - self.start)}] done")


class Broker:
    """A mosquitto on a free loopback port, for the whole run (or, named, for one part)."""

    def __init__(self, work, name="mosquitto"):
        self.port = free_port()
        conf = work / f"{name}.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                        "max_queued_messages 1000000\nmax_inflight_messages 1000\n")
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.log = open(work / f"{name}.log", "w")
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


class Process:
    """A system under test: the engine or Node-RED, started and waited for."""

    def __init__(self, cmd, env, log_path, ready_text, ready_count, timeout=30):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.proc = subprocess.Popen([str(c) for c in cmd], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{cmd[0]} exited: {log_path.read_text()[-400:]}")
            if log_path.read_text().count(ready_text) >= ready_count:
                time.sleep(0.3)
                return
            time.sleep(0.1)
        raise RuntimeError(f"{cmd[0]} not ready after {timeout} s (see {log_path})")

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(8)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class DutyCycle:
    """Makes a process slow without changing it: stopped (SIGSTOP) for stop_ms of every
    period_ms, from a thread of the runner, on an absolute schedule so it does not drift. While
    stopped, a broker still receives into its socket buffers but answers nothing."""

    def __init__(self, pid, stop_ms, period_ms):
        self.pid, self.stop_s, self.period_s = pid, stop_ms / 1000.0, period_ms / 1000.0
        self.done = threading.Event()
        self.stopped_s = 0.0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        start = time.monotonic()
        k = 0
        while not self.done.is_set():
            at = start + k * self.period_s
            time.sleep(max(0.0, at - time.monotonic()))
            os.kill(self.pid, signal.SIGSTOP)
            stopped = time.monotonic()
            self.done.wait(max(0.0, at + self.stop_s - time.monotonic()))
            os.kill(self.pid, signal.SIGCONT)
            self.stopped_s += time.monotonic() - stopped
            k += 1
            # A late turn (the runner descheduled) is skipped, not caught up in a burst.
            k = max(k, int((time.monotonic() - start) / self.period_s))

    def end(self):
        self.done.set()
        self.thread.join(5)
        os.kill(self.pid, signal.SIGCONT)


def scrape(port):
    """The engine's /metrics as {(name, labels text): value}."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=1) as r:
            text = r.read().decode()
    except OSError:
        return {}
    values = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            name, _, labels = key.partition("{")
            try:
                values[(name, labels.rstrip("}"))] = float(value)
            except ValueError:
                pass
    return values


def metric(values, name, **labels):
    """Sum of a metric over the series whose labels include these."""
    want = [f'{k}="{v}"' for k, v in labels.items()]
    return sum(v for (n, l), v in values.items()
               if n == name and all(w in l.split(",") for w in want))


class Sampler:
    """Polls an engine's /metrics every interval seconds while a trial runs: when the source
    took its messages (source-side throughput), what the mirror destination was handed, and the
    most QoS 1 messages the source held unacknowledged."""

    def __init__(self, port, source, interval=0.2):
        self.port, self.source, self.interval = port, source, interval
        self.samples = []  # (monotonic time, source messages, mirror messages, unacknowledged)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            v = scrape(self.port)
            if v:
                self.samples.append((
                    time.monotonic(),
                    metric(v, "edgeflow_source_messages_total", source=self.source),
                    metric(v, "edgeflow_destination_messages_total", destination="mirror"),
                    metric(v, "edgeflow_mqtt_unacknowledged", endpoint=self.source)))
            if self.done.wait(self.interval):
                return

    def end(self):
        self.done.set()
        self.thread.join(5)
        s = self.samples
        if len(s) < 2:
            return {}
        first, last = s[0], s[-1]
        taken = last[1] - first[1]
        # From the sample before the first message taken to the first with them all taken.
        t0 = next((a[0] for a, b in zip(s, s[1:]) if b[1] > first[1]), first[0])
        t1 = next((a[0] for a in s if a[1] >= last[1]), last[0])
        return {"source_taken": int(taken),
                "source_rate": taken / (t1 - t0) if t1 > t0 else 0.0,
                "mirror_messages": int(last[2] - first[2]),
                "unacknowledged_max": int(max(a[3] for a in s))}


class Bench:
    def __init__(self, args):
        self.args = args
        self.quick = args.quick
        self.out = args.out
        self.work = pathlib.Path(tempfile.mkdtemp(prefix="edgeflow-bench-"))
        self.results = {
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "quick": self.quick,
            "machine": machine(),
            "pipeline": str(PIPELINE.relative_to(ROOT)),
        }
        existing = self.out / "results.json"
        if args.only == "report" and existing.exists():
            self.results = json.loads(existing.read_text())  # redraw an earlier run
        self.broker = None
        self.processes = []  # started engines and peers, stopped in close() whatever happens
        self.seq_base = 0
        self.trial_seconds = 2 if self.quick else 8
        self.warmup = 1

    # ---- helpers -------------------------------------------------------------------------

    def save(self):
        (self.out / "results.json").write_text(json.dumps(self.results, indent=1))

    def ensure_broker(self):
        if self.broker is None:
            self.broker = Broker(self.work)
            self.results["broker_port"] = self.broker.port
        return self.broker

    def engine_pipeline(self, name, sources=1, inflight=None, qos=None, acknowledge=None,
                        mirror_port=None, http_port=None):
        """The factory pipeline rewritten for the run's broker, as a variant. acknowledge sets
        the sources' `acknowledge`; mirror_port adds a destination `mirror`, a copy of
        `enriched` publishing mirror/{topic} to the broker on that port; http_port moves the
        engine's HTTP endpoint there."""
        doc = yaml.safe_load(PIPELINE.read_text())
        broker = f"tcp://127.0.0.1:{self.ensure_broker().port}"
        source = doc["sources"][0]
        new_sources = []
        for k in range(sources):
            s = dict(source)
            s["name"] = f"{source['name']}{k}" if sources > 1 else source["name"]
            s["client_id"] = f"bench-{name}-in-{k}"
            # Each trial starts clean: a session kept from the trial before would hand this
            # engine that trial's last messages.
            s["clean_start"] = True
            s.pop("session_expiry", None)
            if sources > 1:
                s["topics"] = [f"$share/edgeflow/{t}" for t in source["topics"]]
            new_sources.append(s)
        doc["sources"] = new_sources
        for s in doc["sources"]:
            s["broker"] = broker
            if qos is not None:
                s["qos"] = qos
        for i, d in enumerate(doc["destinations"]):
            if d.get("kind") == "mqtt":
                d["broker"] = broker
                d["client_id"] = f"bench-{name}-out-{i}"
                if inflight is not None and not d.get("dead_letter"):
                    d["max_inflight"] = inflight
                if qos is not None:
                    d["qos"] = qos
        if acknowledge is not None:
            for s in doc["sources"]:
                s["acknowledge"] = acknowledge
        if mirror_port is not None:
            results = [d for d in doc["destinations"] if not d.get("dead_letter")]
            enriched = next((d for d in results if d.get("name") == "enriched"), results[0])
            mirror = dict(enriched, name="mirror", broker=f"tcp://127.0.0.1:{mirror_port}",
                          client_id=f"bench-{name}-mirror", topic="mirror/{topic}")
            doc["destinations"].insert(doc["destinations"].index(enriched) + 1, mirror)
        if http_port is not None:
            doc.setdefault("runtime", {}).setdefault("http", {})["listen"] = \
                f"127.0.0.1:{http_port}"
        for ds in doc.get("datasets", {}).values():
            if "file" in ds:
                ds["file"] = str((PIPELINE.parent / ds["file"]).resolve())
        path = self.work / f"pipeline-{name}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path, len(doc["sources"])

    def start_engine(self, name, **variant):
        path, sources = self.engine_pipeline(name, **variant)
        engine = Process([ENGINE, "run", "-c", path, "--log-level", "info"], os.environ.copy(),
                         self.work / f"engine-{name}.log", "subscribed to", sources)
        self.processes.append(engine)
        return engine

    def start_node_red(self, work_kind):
        flow = self.work / "node-red-flow.json"
        subprocess.run([sys.executable, ROOT / "perf/peers/node-red/make_flow.py", flow, "1"],
                       check=True)
        userdir = self.work / "node-red"
        userdir.mkdir(exist_ok=True)
        env = dict(os.environ,
                   EDGEFLOW_BENCH_DATASET=str(DATASET),
                   EDGEFLOW_BENCH_UI_PORT=str(free_port()),
                   EDGEFLOW_BENCH_FLOW=str(flow),
                   EDGEFLOW_BENCH_USERDIR=str(userdir),
                   EDGEFLOW_BENCH_BROKER_PORT=str(self.ensure_broker().port),
                   EDGEFLOW_BENCH_WORK=work_kind)
        node_red = Process(["node", NODE_RED, "--settings",
                            ROOT / "perf/peers/node-red/settings.js"], env,
                           self.work / "node-red.log", "Connected to broker", 1, timeout=60)
        self.processes.append(node_red)
        return node_red

    def load(self, rate, sub, connections=2, sub_clients=1, qos=1, seconds=None):
        """One open-loop trial through the run's broker."""
        seconds = seconds or self.trial_seconds
        self.seq_base += 100_000_000
        total = seconds + self.warmup
        return run_json([LOAD, "--port", self.ensure_broker().port, "--rate", rate,
                         "--seconds", seconds, "--warmup", self.warmup, "--drain", 4,
                         "--connections", connections, "--sub-clients", sub_clients,
                         "--qos", qos, "--sub", sub, "--seq-base", self.seq_base,
                         "--id", f"bench-{self.seq_base}"], timeout=total + 60)

    def measured(self, pids, fn):
        """Runs fn() and adds CPU µs per message for each named pid (from /proc)."""
        before = {name: cpu_ns(pid) for name, pid in pids.items()}
        threads_before = {name: thread_cpu_ns(pid) for name, pid in pids.items()}
        result = fn()
        sent = max(result.get("sent", 0), 1)
        for name, pid in pids.items():
            result[f"{name}_cpu_us_per_msg"] = (cpu_ns(pid) - before[name]) / 1000.0 / sent
            result[f"{name}_rss_mb"] = peak_rss_mb(pid)
            if name != "broker":
                after = thread_cpu_ns(pid)
                result[f"{name}_thread_cpu_us_per_msg"] = {
                    t: (ns - threads_before[name].get(t, 0)) / 1000.0 / sent
                    for t, ns in sorted(after.items())}
        return result

    def count_syscalls(self, pid, mq, rate=2000):
        """One trial with strace counting the engine's system calls (every thread); stored as
        calls per delivered message. strace slows each call: only the counts are kept."""
        if shutil.which("strace") is None:
            mq["syscalls_error"] = "strace not installed (Debian package strace)"
            return mq["syscalls_error"]
        table = self.work / "strace.txt"
        tracer = subprocess.Popen(["strace", "-f", "-c", "-o", str(table), "-p", str(pid)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # attached to every thread before the first message
        r = self.load(rate, "enriched/#")
        tracer.send_signal(signal.SIGINT)
        try:
            tracer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tracer.kill()
        calls = {}
        for line in table.read_text().splitlines() if table.exists() else []:
            parts = line.split()
            if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
                calls[parts[-1]] = int(parts[3])
        received = max(r.get("received", 0), 1)
        mq["syscalls"] = {"rate": rate, "received": r.get("received", 0),
                          "per_message": sum(calls.values()) / received,
                          "by_call": {k: v / received for k, v in calls.items()}}
        self.save()
        top = sorted(mq["syscalls"]["by_call"].items(), key=lambda kv: -kv[1])[:4]
        return (f"{mq['syscalls']['per_message']:.1f} per message ("
                + ", ".join(f"{k} {v:.1f}" for k, v in top) + ")")

    def sustained(self, r, target_us):
        return ("error" not in r and r.get("lost", 1) == 0 and r.get("duplicates", 0) == 0
                and r.get("achieved", 0) >= 0.97 * r["rate"] and r.get("p99_us", 1e12) <= target_us)

    # ---- parts ---------------------------------------------------------------------------

    def plan(self, progress, parts):
        q = self.quick
        if "micro" in parts:
            progress.add("micro", "Google Benchmark suite (bench/)", 40 if q else 100, self.micro)
        if "limits" in parts:
            progress.add("limits", "bare simdjson, hand-fused loop (full and stateless)",
                         5 if q else 12, self.limits)
        if "inprocess" in parts:
            self.plan_inprocess(progress)
        if {"mqtt", "ceiling", "peer"} & set(parts):
            self.plan_mqtt(progress, parts)
        if "ack" in parts:
            self.plan_ack(progress)
        if "report" in parts:
            progress.add("report", "results.json, report.md, plots", 5, self.report)

    def micro(self):
        out = self.out / "micro.json"
        cmd = [MICRO, "--benchmark_format=json", f"--benchmark_out={out}",
               "--benchmark_out_format=json"]
        if self.quick:
            cmd += ["--benchmark_min_time=0.05"]
        subprocess.run([str(c) for c in cmd], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            return "no output"
        rows = {}
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
                continue
            name = b["run_name"] if b.get("run_type") == "aggregate" else b["name"]
            rate = b.get("items_per_second")
            if rate:
                rows[name] = {"items_per_second": rate, "ns_per_item": 1e9 / rate}
        self.results["micro"] = {"context": data.get("context", {}), "rows": rows}
        self.save()
        return f"{len(rows)} benchmarks"

    def limits(self):
        r = run_json([PERF, "limits", "--seconds", 1 if self.quick else 3], timeout=120)
        self.results["limits"] = r
        self.save()
        return (f"simdjson {r.get('simdjson_rate', 0):,.0f}/s, fused full "
                f"{r.get('fused_full_rate', 0):,.0f}/s, fused stateless "
                f"{r.get('fused_stateless_rate', 0):,.0f}/s")

    def inprocess_run(self, rate, workers, batch, seconds):
        return run_json([PERF, "inprocess", "-c", PIPELINE, "--rate", rate, "--seconds", seconds,
                         "--warmup", 1 if rate > 0 else 0.5, "--workers", workers,
                         "--batch", batch], timeout=seconds * 3 + 20)

    def plan_inprocess(self, progress):
        q = self.quick
        res = self.results.setdefault("inprocess", {"peak": [], "sweep": []})
        secs = 2 if q else 4
        configs = [(1, 64), (2, 64)] + ([] if q else [(2, 1), (2, 16), (2, 256)])

        def peak(workers, batch):
            def fn():
                r = self.inprocess_run(0, workers, batch, secs)
                r.setdefault("workers", workers)
                r.setdefault("batch", batch)
                res["peak"].append(r)
                self.save()
                if "error" in r:
                    return f"failed: {r['error']} (the engine did not finish the run)"
                return (f"{r.get('achieved', 0):,.0f} msg/s, engine CPU "
                        f"{r.get('engine_cpu_us_per_msg', 0):.2f} us/msg")
            return fn

        for workers, batch in configs:
            progress.add("inprocess", f"peak throughput, {workers} worker(s), batch {batch}",
                         secs + 2, peak(workers, batch))
        fractions = ([0.02, 0.05, 0.1, 0.25, 0.5, 0.9] if q else
                     [0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 0.6, 0.75, 0.9, 1.0])
        target = self.args.inprocess_p99_us
        res["p99_target_us"] = target

        def top():
            best = [r for r in res["peak"] if r.get("workers") == 2 and r.get("batch") == 64]
            return best[0].get("achieved", 100000) if best else 100000

        fixed_rates = (1000, 2000)

        def sweep(fraction, fixed_rate=None):
            def rate():
                if fixed_rate is not None:
                    return fixed_rate
                return max(1000, int(round(top() * fraction, -3)))

            def fn():
                if fixed_rate is None and rate() in fixed_rates:
                    return f"skipped ({rate():,} msg/s ran already)"
                r = self.inprocess_run(rate(), 2, 64, secs)
                r["fraction_of_peak"] = fraction if fixed_rate is None else None
                r["sustained"] = self.sustained(
                    dict(r, lost=r.get("sent", 0) - r.get("delivered", 0) - r.get("dead", 0)),
                    target)
                res["sweep"].append(r)
                self.save()
                return (f"{r.get('rate', 0):,.0f} msg/s offered: p50 {r.get('p50_us', 0):.0f} us,"
                        f" p99 {r.get('p99_us', 0):.0f} us, p99.9 {r.get('p999_us', 0):.0f} us"
                        f"{'' if r['sustained'] else ' (not sustained)'}")
            if fixed_rate is not None:
                return (lambda: f"open loop at {fixed_rate:,} msg/s"), fn
            return (lambda: f"open loop at {fraction:.0%} of peak = {rate():,} msg/s"), fn

        # Two fixed low rates first: the fractions of a high peak may all sit above the rate a
        # busy machine sustains under the p99 target, and the latency at half the sustainable
        # rate needs one that was.
        for fixed in fixed_rates:
            label, fn = sweep(None, fixed)
            progress.add("inprocess", label, secs + 3, fn)
        for fraction in fractions:
            label, fn = sweep(fraction)
            progress.add("inprocess", label, secs + 3, fn)

        def half():
            ok = [r for r in res["sweep"] if r.get("sustained")]
            best = max((r["rate"] for r in ok), default=0)
            res["sustainable_rate"] = best
            if best == 0:
                return "no sustainable rate under the p99 target"
            r = self.inprocess_run(max(1000, best // 2), 2, 64, secs * 2)
            res["half_sustainable"] = r
            self.save()
            return (f"sustainable {best:,} msg/s (p99 <= {target} us); at half: p99 "
                    f"{r.get('p99_us', 0):.0f} us, p99.9 {r.get('p999_us', 0):.0f} us")

        progress.add("inprocess", "latency at half the sustainable rate", 2 * secs + 3, half)

    def plan_mqtt(self, progress, parts):
        q = self.quick
        secs = self.trial_seconds
        per_trial = secs + self.warmup + 2.5
        mq = self.results.setdefault("mqtt", {"p99_target_us": self.args.mqtt_p99_us})
        rates = [2000, 5000, 10000, 15000, 20000, 30000, 40000] if q else [
            2000, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 50000, 60000]
        target = self.args.mqtt_p99_us
        state = {}

        def sweep(key, sub, pids_fn, label_prefix):
            trials = mq.setdefault(key, [])
            failures = {"n": 0}

            def make(rate):
                def fn():
                    if failures["n"] >= 2:
                        return "skipped (two rates in a row not sustained)"
                    r = self.measured(pids_fn(), lambda: self.load(rate, sub))
                    r["sustained"] = self.sustained(r, target)
                    failures["n"] = 0 if r["sustained"] else failures["n"] + 1
                    trials.append(r)
                    self.save()
                    cpu = ", ".join(f"{k[:-15]} {v:.1f} us/msg" for k, v in r.items()
                                    if k.endswith("_cpu_us_per_msg") and isinstance(v, float))
                    return (f"achieved {r.get('achieved', 0):,.0f}/s, lost {r.get('lost')}, "
                            f"p99 {r.get('p99_us', 0) / 1000:.1f} ms; CPU {cpu}"
                            f"{'' if r['sustained'] else ' (not sustained)'}")
                return fn
            for rate in rates if key != "node_red" else [r for r in
                                                         ([2000, 5000, 10000, 20000] if q else
                                                          [1000, 2000, 5000, 10000, 15000,
                                                           20000, 30000])]:
                progress.add(label_prefix, f"{key.replace('_', ' ')} at {rate:,} msg/s",
                             per_trial, make(rate))

        def broker_pid():
            return {"broker": self.ensure_broker().proc.pid}

        if "mqtt" in parts:
            sweep("broker_alone", "factory/#", broker_pid, "mqtt")

            def engine_up():
                state["engine"] = self.start_engine("reference")
                return "engine running"
            progress.add("mqtt", "start the engine on the factory pipeline", 2, engine_up)
            sweep("engine", "enriched/#",
                  lambda: dict(broker_pid(), engine=state["engine"].pid), "mqtt")

            def syscalls():
                return self.count_syscalls(state["engine"].pid, mq)
            progress.add("mqtt", "system calls per message at 2,000 msg/s (strace -f -c)",
                         per_trial + 2, syscalls)

            def engine_down():
                state["engine"].stop()
                return ""
            progress.add("mqtt", "stop the engine", 1, engine_down)

        if "ceiling" in parts:
            self.plan_ceiling(progress, broker_pid)

        if "peer" in parts:
            def nr_up():
                if not NODE_RED.exists():
                    mq["node_red_error"] = f"Node-RED not installed at {NODE_RED}"
                    return mq["node_red_error"]
                kind = "full" if self.engine_is_stateful() else "stateless"
                mq["node_red_work"] = kind
                state["node_red"] = self.start_node_red(kind)
                return f"Node-RED running ({kind} reference work)"
            progress.add("peer", "start Node-RED", 6, nr_up)
            sweep("node_red", "enriched/#",
                  lambda: dict(broker_pid(), node_red=state["node_red"].pid)
                  if "node_red" in state else broker_pid(), "peer")

            def nr_down():
                if "node_red" in state:
                    state["node_red"].stop()
                return ""
            progress.add("peer", "stop Node-RED", 1, nr_down)

    def plan_ack(self, progress):
        """What acknowledging after delivery costs against acknowledge: on_receipt, the factory
        pipeline over the run's mosquitto at QoS 1; then with a second destination, `mirror`,
        on a second mosquitto: not slowed, and slowed by stopping it for part of every period
        (--ack-slow). Each mode runs on its own engine; the modes alternate (A B, or A B B A in
        a full run) and the report compares their means."""
        q = self.quick
        secs = self.trial_seconds if q else 5
        target = self.args.mqtt_p99_us
        rates = [2000, 10000] if q else [2000, 5000, 10000]
        mirror_rates = [2000, 10000]
        modes = ["after_delivery", "on_receipt"]
        rounds = modes if q else modes + modes[::-1]
        sections = [{"key": "plain", "label": "factory pipeline", "mirror": False,
                     "rates": rates},
                    {"key": "mirror", "label": "+ mirror destination on a second mosquitto, "
                     "not slowed", "mirror": True, "rates": mirror_rates}]
        for stop_ms, period_ms in self.args.ack_slow:
            sections.append({"key": f"slow-{stop_ms:g}/{period_ms:g}", "mirror": True,
                             "rates": mirror_rates,
                             "stop_ms": stop_ms, "period_ms": period_ms,
                             "label": f"+ mirror, its mosquitto stopped {stop_ms:g} ms of every "
                                      f"{period_ms:g} ms"})
        ack = self.results.setdefault("ack", {})
        ack.update(p99_target_us=target, rounds=rounds, sections=sections,
                   trial_seconds=secs, trials=[])
        state = {}

        def mirror_broker():
            if "mirror" not in state:
                state["mirror"] = Broker(self.work, "mosquitto-mirror")
                self.processes.append(state["mirror"])
            return state["mirror"]

        def run_mode(section, mode, round_index):
            def fn():
                http = free_port()
                engine = self.start_engine(
                    f"ack-{section['key'].replace('/', '-')}-{mode}-{round_index}",
                    acknowledge=mode, http_port=http,
                    mirror_port=mirror_broker().port if section["mirror"] else None)
                source = yaml.safe_load(PIPELINE.read_text())["sources"][0]["name"]
                summary = []
                try:
                    for rate in section["rates"]:
                        throttle = None
                        if "stop_ms" in section:
                            throttle = DutyCycle(mirror_broker().proc.pid, section["stop_ms"],
                                                 section["period_ms"])
                        sampler = Sampler(http, source)
                        began = time.monotonic()
                        try:
                            r = self.measured(dict(broker=self.ensure_broker().proc.pid,
                                                   engine=engine.pid),
                                              lambda: self.load(rate, "enriched/#",
                                                                seconds=secs))
                        finally:
                            sampled = sampler.end()
                            if throttle:
                                throttle.end()
                        r.update(sampled)
                        # The sampler's scrapes run on the engine's HTTP threads: left out here.
                        http_us = r.get("engine_thread_cpu_us_per_msg", {}).get("ef-http", 0.0)
                        r["engine_cpu_us_per_msg_without_http"] = (
                            r.get("engine_cpu_us_per_msg", 0.0) - http_us)
                        if throttle:
                            r["stopped_fraction"] = (throttle.stopped_s /
                                                     max(time.monotonic() - began, 1e-9))
                        r.update(section=section["key"], acknowledge=mode, round=round_index,
                                 sustained=self.sustained(r, target))
                        ack["trials"].append(r)
                        self.save()
                        summary.append(
                            f"{rate:,}/s: p99 {r.get('p99_us', 0) / 1000:.1f} ms, engine "
                            f"{r.get('engine_cpu_us_per_msg_without_http', 0):.1f} us/msg, source "
                            f"{r.get('source_rate', 0):,.0f}/s, unacked max "
                            f"{r.get('unacknowledged_max', 0)}, lost {r.get('lost')}"
                            f"{'' if r['sustained'] else ' (not sustained)'}")
                finally:
                    engine.stop()
                return "; ".join(summary)
            return fn

        for section in sections:
            for i, mode in enumerate(rounds):
                progress.add("ack", f"{section['label']}: acknowledge {mode}"
                             + (f" (round {i // 2 + 1})" if not q else ""),
                             len(section["rates"]) * (secs + self.warmup + 2.5) + 2,
                             run_mode(section, mode, i))

    def engine_is_stateful(self):
        doc = yaml.safe_load(PIPELINE.read_text())
        kinds = {s.get("kind") for s in doc.get("stages", [])}
        return bool(kinds & {"lkv", "heuristics"})

    def plan_ceiling(self, progress, broker_pid):
        """Which MQTT configuration gets the engine to the broker's own limit."""
        q = self.quick
        ce = self.results.setdefault("ceiling", [])
        secs = self.trial_seconds

        def alone_rate():
            alone = [r for r in self.results.get("mqtt", {}).get("broker_alone", [])
                     if r.get("sustained")]
            return max((r["rate"] for r in alone), default=30000)

        def generator(connections, sub_clients):
            def fn():
                rate = alone_rate()
                r = self.measured(broker_pid(), lambda: self.load(
                    rate, "factory/#", connections=connections, sub_clients=sub_clients))
                r.update(config=f"broker alone, {connections} publishing connection(s), "
                                f"{sub_clients} subscriber(s)", target="broker_alone",
                         sustained=self.sustained(r, self.args.mqtt_p99_us))
                ce.append(r)
                self.save()
                return (f"{rate:,}/s offered: achieved {r.get('achieved', 0):,.0f}/s, "
                        f"p99 {r.get('p99_us', 0) / 1000:.1f} ms")
            return fn

        for c, s in ([(1, 1), (4, 1), (2, 2)] if q else [(1, 1), (2, 1), (4, 1), (2, 2)]):
            progress.add("ceiling", f"broker alone, {c} publisher(s), {s} subscriber(s)",
                         secs + 3.5, generator(c, s))

        variants = [("baseline: 1 ingest, 1 egress, max_inflight 1024", {}),
                    ("shared ingest over 2 connections", {"sources": 2}),
                    ("max_inflight 64", {"inflight": 64}),
                    ("max_inflight 4096 (the most a destination accepts)", {"inflight": 4096}),
                    ("QoS 0 end to end", {"qos": 0})]
        if q:
            variants = [variants[0], variants[1], variants[3]]
        fractions = [0.25, 0.4, 0.5] if q else [0.25, 0.3, 0.4, 0.5]

        def variant(label, kw, index):
            def fn():
                engine = self.start_engine(f"ceiling{index}", **kw)
                try:
                    best = 0
                    for f in fractions:
                        rate = int(round(alone_rate() * f, -3))
                        r = self.measured(dict(broker_pid(), engine=engine.pid), lambda: self.load(
                            rate, "enriched/#", qos=kw.get("qos", 1)))
                        r.update(config=label, target="engine", fraction_of_alone=f,
                                 sustained=self.sustained(r, self.args.mqtt_p99_us))
                        ce.append(r)
                        if r["sustained"]:
                            best = rate
                    self.save()
                    return f"highest sustained {best:,}/s (broker alone {alone_rate():,}/s)"
                finally:
                    engine.stop()
            return fn

        for i, (label, kw) in enumerate(variants):
            progress.add("ceiling", label, len(fractions) * (secs + 3.5) + 2,
                         variant(label, kw, i))

    def report(self):
        self.save()
        subprocess.run([sys.executable, ROOT / "perf/report/make_report.py", self.out],
                       check=False)
        return f"{self.out / 'report.md'}"

    def close(self):
        for process in self.processes:
            if process.proc.poll() is None:
                process.stop()
        if self.broker:
            self.broker.stop()
        shutil.rmtree(self.work, ignore_errors=True)


def machine():
    info = {"cpus": os.cpu_count(), "load_average": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def duty_cycles(text):
    """--ack-slow: "5/20,50/200" as [(5.0, 20.0), (50.0, 200.0)]; empty for none."""
    pairs = []
    for item in filter(None, text.split(",")):
        try:
            stop_ms, period_ms = (float(x) for x in item.split("/"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{item}' is not STOP_MS/PERIOD_MS")
        if not 0 < stop_ms < period_ms:
            raise argparse.ArgumentTypeError(f"'{item}': need 0 < STOP_MS < PERIOD_MS")
        pairs.append((stop_ms, period_ms))
    return pairs


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="short trials (under 6 minutes)")
    p.add_argument("--only", default="", help="comma-separated parts: " + ",".join(PARTS))
    p.add_argument("--out", type=pathlib.Path, help="results directory "
                   "(default bench-results/<date>)")
    p.add_argument("--plan", action="store_true",
                   help="print the steps and their planned durations, run nothing")
    p.add_argument("--inprocess-p99-us", type=float, default=1000.0,
                   help="p99 target for the in-process sweep (default 1000 us)")
    p.add_argument("--mqtt-p99-us", type=float, default=50000.0,
                   help="p99 target for MQTT trials (default 50 ms)")
    p.add_argument("--ack-slow", type=duty_cycles, default="5/20,50/200",
                   help="ack part: how the slow destination's mosquitto is stopped, as "
                   "STOP_MS/PERIOD_MS pairs separated by commas (default 5/20,50/200)")
    args = p.parse_args()
    parts = [x for x in args.only.split(",") if x] or PARTS
    unknown = set(parts) - set(PARTS)
    if unknown:
        p.error(f"unknown part(s) {', '.join(sorted(unknown))}; parts are {', '.join(PARTS)}")
    if "report" not in parts:
        parts.append("report")
    stamp = datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    if not args.plan:
        args.out = args.out or ROOT / "bench-results" / stamp
        args.out.mkdir(parents=True, exist_ok=True)
    if args.plan:
        args.out = pathlib.Path(tempfile.mkdtemp(prefix="edgeflow-bench-plan-"))
    bench = Bench(args)
    bench.results["parts"] = parts
    progress = Progress()
    bench.plan(progress, parts)
    log(f"edgeflow bench: {len(progress.steps)} steps, "
        f"~{clock(sum(s[2] for s in progress.steps))} planned, results in {args.out}")
    if args.plan:
        for part, label, estimate, _ in progress.steps:
            log(f"  {part:9} {estimate:5.0f} s  {label() if callable(label) else label}")
        shutil.rmtree(args.out, ignore_errors=True)
        return
    try:
        progress.run()
    finally:
        bench.close()
    if progress.failures:
        bench.results["failures"] = progress.failures
        bench.save()
        subprocess.run([sys.executable, ROOT / "perf/report/make_report.py", args.out])
    log(f"report: {args.out / 'report.md'}")


if __name__ == "__main__":
    main()
