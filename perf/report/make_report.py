#!/usr/bin/env python3
"""Turns a results directory's results.json into report.md and PNG plots (gnuplot).

    python3 perf/report/make_report.py bench-results/<date>

Every ratio in the report is between figures of the same run. Plots are skipped, with a line
in the report saying so, when gnuplot is not installed.
"""
import json
import pathlib
import shutil
import subprocess
import sys


def fmt_rate(x):
    return f"{x:,.0f}" if x else "–"


def fmt_us(x):
    if x is None:
        return "–"
    if x >= 10000:
        return f"{x / 1000:,.1f} ms"
    return f"{x:,.0f} µs" if x >= 10 else f"{x:.1f} µs"


def best_sustained(trials):
    ok = [t for t in trials if t.get("sustained")]
    return max(ok, key=lambda t: t["rate"]) if ok else None


def gnuplot(out, name, script):
    if not shutil.which("gnuplot"):
        return False
    header = (f"set terminal pngcairo size 900,560 font 'sans,10'\n"
              f"set output '{out / name}'\nset grid\nset key top left\n")
    (out / (name + ".gp")).write_text(header + script)
    r = subprocess.run(["gnuplot", str(out / (name + ".gp"))], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"gnuplot {name}: {r.stderr}", file=sys.stderr)
        return False
    return True


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def ratio(a, b):
    return f"{a / b:.2f}" if a is not None and b else "–"


def ack_report(md, ack):
    """acknowledge: after_delivery against on_receipt, with and without a slow destination."""
    trials = [t for t in ack["trials"] if "error" not in t]
    rounds = ack.get("rounds", [])
    md.append("## Acknowledging after delivery: against `acknowledge: on_receipt`")
    md.append("")
    md.append(f"The factory pipeline over the run's mosquitto at QoS 1, the source acknowledging "
              f"after delivery or on receipt, each mode on an engine of its own, in the order "
              f"{', '.join(rounds)} ({ack.get('trial_seconds')} s trials). *mirror*: a second "
              "destination, a copy of `enriched` publishing to a second mosquitto; *slowed*: "
              "that mosquitto stopped (SIGSTOP) for part of every period by the runner, so its "
              "PUBACKs come late. Latency is the generator's, to `enriched/#` on the first "
              "broker; source rate: messages the source took ÷ the time it took them (the "
              "engine's /metrics, polled every 200 ms); unacked max: the most QoS 1 messages "
              "the source held unacknowledged; engine CPU: every thread but `ef-http`, which "
              "answers those polls (`engine_cpu_us_per_msg` in results.json includes it).")
    md.append("")
    md.append("| section | acknowledge | offered | achieved | source msg/s | lost | dup | p50 | "
              "p99 | engine CPU µs/msg | broker CPU µs/msg | unacked max | sustained |")
    md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    labels = {s["key"]: s["label"] for s in ack.get("sections", [])}
    for t in ack["trials"]:
        if "error" in t:
            md.append(f"| {t.get('section')} | {t.get('acknowledge')} | "
                      f"{fmt_rate(t.get('rate'))} | failed: {t['error'][:80]} |||||||||||")
            continue
        md.append(f"| {t['section']} | {t['acknowledge']} | {fmt_rate(t.get('rate'))} | "
                  f"{fmt_rate(t.get('achieved'))} | {fmt_rate(t.get('source_rate'))} | "
                  f"{t.get('lost', '–')} | {t.get('duplicates', '–')} | "
                  f"{fmt_us(t.get('p50_us'))} | {fmt_us(t.get('p99_us'))} | "
                  f"{t.get('engine_cpu_us_per_msg_without_http', 0):.1f} | "
                  f"{t.get('broker_cpu_us_per_msg', 0):.1f} | "
                  f"{t.get('unacknowledged_max', '–')} | "
                  f"{'yes' if t.get('sustained') else 'no'} |")
    md.append("")
    md.append("After delivery against on receipt, same run (means over the rounds; ratio = "
              "after_delivery ÷ on_receipt):")
    md.append("")
    md.append("| section | offered | engine CPU µs/msg after / on receipt | ratio | p50 after / "
              "on receipt | ratio | p99 after / on receipt | ratio | source msg/s after / "
              "on receipt | unacked max after / on receipt | lost+dup after / on receipt |")
    md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in [s["key"] for s in ack.get("sections", [])]:
        for rate in sorted({t["rate"] for t in trials if t.get("section") == key}):
            by = {m: [t for t in trials if t.get("section") == key and t["rate"] == rate
                      and t.get("acknowledge") == m] for m in ("after_delivery", "on_receipt")}
            if not all(by.values()):
                continue
            a, o = by["after_delivery"], by["on_receipt"]
            f = {name: (mean(t.get(name) for t in a), mean(t.get(name) for t in o))
                 for name in ("engine_cpu_us_per_msg_without_http", "p50_us", "p99_us",
                              "source_rate")}
            um = (max(t.get("unacknowledged_max", 0) for t in a),
                  max(t.get("unacknowledged_max", 0) for t in o))
            ld = (sum(t.get("lost", 0) + t.get("duplicates", 0) for t in a),
                  sum(t.get("lost", 0) + t.get("duplicates", 0) for t in o))
            cpu, p50, p99, src = (f["engine_cpu_us_per_msg_without_http"], f["p50_us"], f["p99_us"],
                                  f["source_rate"])
            md.append(f"| {labels.get(key, key)} | {fmt_rate(rate)} | "
                      f"{cpu[0]:.1f} / {cpu[1]:.1f} | **{ratio(*cpu)}** | "
                      f"{fmt_us(p50[0])} / {fmt_us(p50[1])} | {ratio(*p50)} | "
                      f"{fmt_us(p99[0])} / {fmt_us(p99[1])} | **{ratio(*p99)}** | "
                      f"{fmt_rate(src[0])} / {fmt_rate(src[1])} | {um[0]} / {um[1]} | "
                      f"{ld[0]} / {ld[1]} |")
    md.append("")


def main():
    out = pathlib.Path(sys.argv[1])
    res = json.loads((out / "results.json").read_text())
    md = []
    plots = []
    m = res.get("machine", {})
    md.append(f"# edgeflow benchmark report — {res.get('date', '')}")
    md.append("")
    md.append(f"{'Quick run' if res.get('quick') else 'Full run'} on {m.get('cpus')} CPU(s) "
              f"({m.get('cpu', 'unknown CPU')}), load average at start "
              f"{', '.join(f'{x:.2f}' for x in m.get('load_average', []))}. Pipeline "
              f"`{res.get('pipeline')}`. Shared, noisy machines: read the ratios between rows "
              "of this run, not the absolute figures.")
    md.append("")

    lim = res.get("limits", {})
    inp = res.get("inprocess", {})
    peaks = inp.get("peak", [])
    peak2 = next((p for p in peaks if p.get("workers") == 2 and p.get("batch") == 64), None)
    peak1 = next((p for p in peaks if p.get("workers") == 1 and p.get("batch") == 64), None)
    stages = (peak2 or peak1 or {}).get("stages", "")

    # ---- limits and in-process -----------------------------------------------------------
    if lim or peaks:
        md.append("## In-process: the engine against the limits")
        md.append("")
        md.append(f"Engine stages: `{stages}`. The hand-fused *full* loop does the whole "
                  "reference work (LKV fill, threshold with hysteresis and debounce, 10 s "
                  "window, camera/gas correlation included); the *stateless* loop only its "
                  "stateless part (parse, map, dataset lookup, serialize), which shows what "
                  "the state costs when written by hand. Engine peak: the open-loop source "
                  "releasing as fast as the engine takes messages (its thread copies "
                  "pre-rendered messages, as the limit loops read them, and shares the "
                  "cores).")
        md.append("")
        md.append("| what | msg/s | engine ÷ this |")
        md.append("|---|---:|---:|")
        e2 = (peak2 or {}).get("achieved", 0)
        rows = [("bare simdjson On-Demand loop, 1 thread", lim.get("simdjson_rate")),
                ("hand-fused loop, full reference work, 1 thread", lim.get("fused_full_rate")),
                ("hand-fused loop, stateless part, 1 thread", lim.get("fused_stateless_rate"))]
        for label, rate in rows:
            md.append(f"| {label} | {fmt_rate(rate)} | "
                      f"{e2 / rate:.2f} |" if rate and e2 else f"| {label} | {fmt_rate(rate)} | – |")
        for p in peaks:
            md.append(f"| engine, {p.get('workers')} worker(s), batch {p.get('batch')} | "
                      f"{fmt_rate(p.get('achieved'))} | "
                      f"CPU {p.get('engine_cpu_us_per_msg', 0):.2f} µs/msg, RSS "
                      f"{p.get('rss_mb', 0):.0f} MB |")
        md.append("")

        if peaks:
            w = sorted((p for p in peaks if p.get("batch") == 64), key=lambda p: p["workers"])
            (out / "workers.dat").write_text(
                "".join(f"{p['workers']} {p.get('achieved', 0)}\n" for p in w))
            lines = [f"'{out / 'workers.dat'}' using 1:2 with linespoints lw 2 pt 7 "
                     "title 'engine (batch 64)'"]
            if lim.get("fused_full_rate"):
                lines.append(f"{lim['fused_full_rate']} with lines dt 2 lw 2 "
                             "title 'hand-fused loop, full, 1 thread'")
            if lim.get("fused_stateless_rate"):
                lines.append(f"{lim['fused_stateless_rate']} with lines dt 3 lw 2 "
                             "title 'hand-fused loop, stateless, 1 thread'")
            top = 1.2 * max([p.get("achieved", 0) for p in w] +
                            [lim.get("fused_full_rate") or 0, lim.get("fused_stateless_rate") or 0])
            if gnuplot(out, "throughput_vs_workers.png",
                       "set title 'In-process peak throughput against workers'\n"
                       "set xlabel 'workers'\nset ylabel 'messages/s'\nset xtics 1\n"
                       f"set xrange [0.5:2.5]\nset yrange [0:{top}]\nset format y '%.0s%c'\n"
                       "set key bottom right box\n"
                       "plot " + ", ".join(lines) + "\n"):
                plots.append(("Throughput against workers", "throughput_vs_workers.png"))

    sweep = sorted(inp.get("sweep", []), key=lambda r: r.get("rate", 0))
    if sweep:
        md.append(f"### Open-loop sweep (2 workers, batch 64; p99 target "
                  f"{fmt_us(inp.get('p99_target_us'))})")
        md.append("")
        md.append("Latency from each message's scheduled time to its arrival at the sink.")
        md.append("")
        md.append("| offered msg/s | achieved | p50 | p90 | p99 | p99.9 | max | source lag p99 "
                  "| engine CPU µs/msg | sustained |")
        md.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in sweep:
            md.append(f"| {fmt_rate(r.get('rate'))} | {fmt_rate(r.get('achieved'))} | "
                      f"{fmt_us(r.get('p50_us'))} | {fmt_us(r.get('p90_us'))} | "
                      f"{fmt_us(r.get('p99_us'))} | {fmt_us(r.get('p999_us'))} | "
                      f"{fmt_us(r.get('max_us'))} | {fmt_us(r.get('source_lag_p99_us'))} | "
                      f"{r.get('engine_cpu_us_per_msg', 0):.2f} | "
                      f"{'yes' if r.get('sustained') else 'no'} |")
        md.append("")
        md.append("Engine CPU by thread, µs per message (`edgeflow_perf` is the oneTBB workers; "
                  "the open-loop source's thread has ended when this is read):")
        md.append("")
        names = sorted({n for r in sweep for n in r.get("thread_cpu_us_per_msg", {})})
        if names:
            md.append("| offered msg/s | " + " | ".join(names) + " |")
            md.append("|---:|" + "---:|" * len(names))
            for r in sweep + peaks:
                t = r.get("thread_cpu_us_per_msg", {})
                label = fmt_rate(r.get("rate")) if r.get("rate") else (
                    f"peak, {r.get('workers')} worker(s), batch {r.get('batch')}")
                md.append(f"| {label} | " + " | ".join(f"{t.get(n, 0):.2f}" for n in names)
                          + " |")
            md.append("")
        best = inp.get("sustainable_rate", 0)
        half = inp.get("half_sustainable")
        md.append(f"Highest sustainable rate: **{fmt_rate(best)} msg/s**"
                  + (f"; at half of it ({fmt_rate(half.get('rate'))} msg/s): p50 "
                     f"{fmt_us(half.get('p50_us'))}, p99 {fmt_us(half.get('p99_us'))}, p99.9 "
                     f"{fmt_us(half.get('p999_us'))} (targets: p99 under 50 µs, p99.9 under "
                     "200 µs)." if half else "."))
        md.append("")
        (out / "inprocess_sweep.dat").write_text("".join(
            f"{r['rate']} {r.get('p50_us', 0)} {r.get('p90_us', 0)} {r.get('p99_us', 0)} "
            f"{r.get('p999_us', 0)}\n" for r in sweep))
        d = out / "inprocess_sweep.dat"
        if gnuplot(out, "inprocess_latency.png",
                   "set title 'In-process latency against offered load (open loop)'\n"
                   "set xlabel 'offered messages/s'\nset ylabel 'latency (µs)'\n"
                   "set logscale y\nset format x '%.0s%c'\n"
                   f"plot '{d}' u 1:2 w lp lw 2 t 'p50', '{d}' u 1:3 w lp lw 2 t 'p90', "
                   f"'{d}' u 1:4 w lp lw 2 t 'p99', '{d}' u 1:5 w lp lw 2 t 'p99.9'\n"):
            plots.append(("In-process latency against offered load", "inprocess_latency.png"))

    # ---- MQTT ---------------------------------------------------------------------------
    mq = res.get("mqtt", {})
    series = [("broker_alone", "broker alone"), ("engine", "through the engine"),
              ("node_red", f"through Node-RED ({mq.get('node_red_work', '?')} work)")]
    if any(mq.get(k) for k, _ in series):
        md.append(f"## MQTT: one local mosquitto, open-loop generator, QoS 1")
        md.append("")
        md.append(f"Sustained: no loss, no duplicates, at least 97 % of the offered rate "
                  f"delivered and p99 under {fmt_us(mq.get('p99_target_us'))}. CPU µs per "
                  "message from /proc (every thread of the process).")
        md.append("")
        md.append("| path | offered | achieved | lost | p50 | p90 | p99 | p99.9 | max | "
                  "broker CPU µs/msg | system CPU µs/msg | peak RSS | sustained |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for key, label in series:
            for r in sorted(mq.get(key, []), key=lambda r: r.get("rate", 0)):
                sys_cpu = r.get("engine_cpu_us_per_msg", r.get("node_red_cpu_us_per_msg"))
                rss = r.get("engine_rss_mb", r.get("node_red_rss_mb"))
                md.append(
                    f"| {label} | {fmt_rate(r.get('rate'))} | {fmt_rate(r.get('achieved'))} | "
                    f"{r.get('lost', '–')} | {fmt_us(r.get('p50_us'))} | "
                    f"{fmt_us(r.get('p90_us'))} | {fmt_us(r.get('p99_us'))} | "
                    f"{fmt_us(r.get('p999_us'))} | {fmt_us(r.get('max_us'))} | "
                    f"{r.get('broker_cpu_us_per_msg', 0):.1f} | "
                    f"{'–' if sys_cpu is None else f'{sys_cpu:.1f}'} | "
                    f"{'–' if rss is None else f'{rss:.0f} MB'} | "
                    f"{'yes' if r.get('sustained') else 'no'} |")
        md.append("")
        engine_trials = sorted(mq.get("engine", []), key=lambda r: r.get("rate", 0))
        names = sorted({n for r in engine_trials for n in r.get("engine_thread_cpu_us_per_msg", {})})
        if names:
            md.append("Engine CPU by thread over MQTT, µs per message (`ef-mqtt-N`: a source's or "
                      "destination's connection thread; `edgeflow`: the main thread and the "
                      "oneTBB workers):")
            md.append("")
            md.append("| offered msg/s | " + " | ".join(f"`{n}`" for n in names) + " |")
            md.append("|---:|" + "---:|" * len(names))
            for r in engine_trials:
                t = r.get("engine_thread_cpu_us_per_msg", {})
                md.append(f"| {fmt_rate(r.get('rate'))} | "
                          + " | ".join(f"{t.get(n, 0):.1f}" for n in names) + " |")
            md.append("")
        sc = mq.get("syscalls")
        if sc:
            top = sorted(sc["by_call"].items(), key=lambda kv: -kv[1])[:5]
            md.append(f"System calls per message through the engine at {fmt_rate(sc['rate'])} "
                      f"msg/s (`strace -f -c` on every engine thread, one trial): "
                      f"**{sc['per_message']:.1f}** ("
                      + ", ".join(f"{k} {v:.2f}" for k, v in top) + ").")
            md.append("")
        elif mq.get("syscalls_error"):
            md.append(f"System calls per message: not counted ({mq['syscalls_error']}).")
            md.append("")
        alone = best_sustained(mq.get("broker_alone", []))
        eng = best_sustained(mq.get("engine", []))
        nr = best_sustained(mq.get("node_red", []))
        md.append("| | sustainable msg/s | ÷ broker alone | p50 | p99 | p99.9 |")
        md.append("|---|---:|---:|---:|---:|---:|")
        for label, b in [("broker alone", alone), ("engine", eng), ("Node-RED", nr)]:
            if b:
                ratio = f"{b['rate'] / alone['rate']:.2f}" if alone else "–"
                md.append(f"| {label} | {fmt_rate(b['rate'])} | {ratio} | "
                          f"{fmt_us(b.get('p50_us'))} | {fmt_us(b.get('p99_us'))} | "
                          f"{fmt_us(b.get('p999_us'))} |")
            else:
                md.append(f"| {label} | none sustained | – | – | – | – |")
        md.append("")
        # CPU per message at the same offered rate: the highest rate both sustained.
        # (or, when no rate was sustained by both, the lowest rate both ran: CPU per message at
        # the same offered load means something either way).
        e_all = {r["rate"]: r for r in mq.get("engine", []) if "error" not in r}
        n_all = {r["rate"]: r for r in mq.get("node_red", []) if "error" not in r}
        both = sorted(set(e_all) & set(n_all))
        sustained = [x for x in both if e_all[x].get("sustained") and n_all[x].get("sustained")]
        common = [sustained[-1]] if sustained else both[:1]
        if common:
            rate = common[-1]
            e, n = e_all[rate], n_all[rate]
            ec, nc = e.get("engine_cpu_us_per_msg", 0), n.get("node_red_cpu_us_per_msg", 0)
            which = ("the highest rate both sustained" if sustained else
                     "the lowest rate both ran (not sustained by both)")
            md.append(f"At {fmt_rate(rate)} msg/s, {which}: engine "
                      f"**{ec:.1f} µs** CPU per message, Node-RED **{nc:.1f} µs** "
                      f"({nc / ec:.1f}x the engine's); peak RSS engine "
                      f"{e.get('engine_rss_mb', 0):.0f} MB, Node-RED "
                      f"{n.get('node_red_rss_mb', 0):.0f} MB.")
            md.append("")
            (out / "cpu.dat").write_text(
                f"\"engine\" {ec}\n\"broker (with engine)\" {e.get('broker_cpu_us_per_msg', 0)}\n"
                f"\"Node-RED\" {nc}\n\"broker (with Node-RED)\" "
                f"{n.get('broker_cpu_us_per_msg', 0)}\n")
            if gnuplot(out, "cpu_per_message.png",
                       f"set title 'CPU per message at {rate:,} msg/s (QoS 1)'\n"
                       "set ylabel 'CPU µs per message'\nset style fill solid 0.6\n"
                       "set boxwidth 0.6\nset yrange [0:*]\nunset key\n"
                       f"plot '{out / 'cpu.dat'}' using 0:2:xtic(1) with boxes\n"):
                plots.append(("CPU per message, engine against Node-RED", "cpu_per_message.png"))
        if mq.get("node_red_error"):
            md.append(f"Node-RED: {mq['node_red_error']}")
            md.append("")
        lines = []
        for color, (key, label) in enumerate(series, start=1):
            trials = sorted(mq.get(key, []), key=lambda r: r.get("rate", 0))
            if trials:
                (out / f"mqtt_{key}.dat").write_text("".join(
                    f"{r['rate']} {r.get('p50_us', 0) / 1000} {r.get('p99_us', 0) / 1000} "
                    f"{r.get('achieved', 0)}\n" for r in trials))
                lines.append(f"'{out / f'mqtt_{key}.dat'}' u 1:3 w lp lw 2 pt 7 lc {color} "
                             f"t '{label}, p99'")
                lines.append(f"'{out / f'mqtt_{key}.dat'}' u 1:2 w lp lw 1 dt 2 pt 6 lc {color} "
                             f"t '{label}, p50'")
        if lines and gnuplot(out, "mqtt_latency.png",
                             "set title 'End-to-end latency over MQTT against offered load'\n"
                             "set xlabel 'offered messages/s'\nset ylabel 'latency (ms)'\n"
                             "set logscale y\nset format x '%.0s%c'\n"
                             "set key below box\nplot "
                             + ", ".join(lines) + "\n"):
            plots.append(("MQTT latency against offered load", "mqtt_latency.png"))

    bars = []
    for label, rate in [("simdjson loop", lim.get("simdjson_rate")),
                        ("fused full", lim.get("fused_full_rate")),
                        ("fused stateless", lim.get("fused_stateless_rate")),
                        ("engine in-process", (peak2 or {}).get("achieved")),
                        ("broker alone", (best_sustained(mq.get("broker_alone", [])) or {}).get("rate")),
                        ("engine over MQTT", (best_sustained(mq.get("engine", [])) or {}).get("rate")),
                        ("Node-RED over MQTT", (best_sustained(mq.get("node_red", [])) or {}).get("rate"))]:
        if rate:
            bars.append(f"\"{label}\" {rate}\n")
    if bars:
        (out / "comparison.dat").write_text("".join(bars))
        if gnuplot(out, "engine_vs_limits_vs_peer.png",
                   "set title 'Messages per second: limits, engine, peer (same run)'\n"
                   "set ylabel 'messages/s (log)'\nset logscale y\nset style fill solid 0.6\n"
                   "set boxwidth 0.6\nunset key\nset xtics rotate by -20\n"
                   f"plot '{out / 'comparison.dat'}' using 0:2:xtic(1) with boxes\n"):
            plots.append(("Engine against limits and peer", "engine_vs_limits_vs_peer.png"))

    ce = res.get("ceiling", [])
    if ce:
        md.append("## MQTT ceiling: configurations")
        md.append("")
        md.append("| configuration | offered | achieved | lost | p50 | p99 | broker CPU µs/msg | "
                  "engine CPU µs/msg | sustained |")
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in ce:
            ec = r.get("engine_cpu_us_per_msg")
            md.append(f"| {r.get('config')} | {fmt_rate(r.get('rate'))} | "
                      f"{fmt_rate(r.get('achieved'))} | {r.get('lost', '–')} | "
                      f"{fmt_us(r.get('p50_us'))} | {fmt_us(r.get('p99_us'))} | "
                      f"{r.get('broker_cpu_us_per_msg', 0):.1f} | "
                      f"{'–' if ec is None else f'{ec:.1f}'} | "
                      f"{'yes' if r.get('sustained') else 'no'} |")
        md.append("")

    ack = res.get("ack", {})
    if ack.get("trials"):
        ack_report(md, ack)

    micro = res.get("micro", {}).get("rows", {})
    if micro:
        md.append("## Micro-benchmarks (bench/)")
        md.append("")
        md.append("| benchmark | items/s | ns/item |")
        md.append("|---|---:|---:|")
        for name, row in micro.items():
            md.append(f"| `{name}` | {fmt_rate(row['items_per_second'])} | "
                      f"{row['ns_per_item']:,.1f} |")
        md.append("")

    if res.get("failures"):
        md.append("## Steps that failed")
        md.append("")
        for f in res["failures"]:
            md.append(f"- {f}")
        md.append("")

    if plots:
        md.append("## Plots")
        md.append("")
        for title, name in plots:
            md.append(f"![{title}]({name})")
            md.append("")
    elif not shutil.which("gnuplot"):
        md.append("No plots: gnuplot is not installed (scripts/bench installs gnuplot-nox).")
    (out / "report.md").write_text("\n".join(md) + "\n")


if __name__ == "__main__":
    main()
