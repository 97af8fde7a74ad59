// The reference work as a Node-RED function node body (flow.json embeds this text; the
// benchmark builds the flow from it). `msg.payload` is the message text, `msg.topic` its topic.
//
// EDGEFLOW_BENCH_WORK=stateless does what the engine's factory pipeline does today: parse,
// temperature to °F as temperatureF, humidity to 0..1, pressure renamed pressure_hpa, site,
// line and zone from the devices dataset, serialize. `full` adds last-known-value fill, a
// threshold with hysteresis and debounce, a 10 s window average per device and the camera/gas
// correlation per zone, with the same constants as the hand-fused loop (perf/harness/fused.h).
const full = env.get("EDGEFLOW_BENCH_WORK") === "full";
const devices = global.get("devices");          // Map id -> {site, line, zone}
let state = context.get("state");
if (!state) {
    state = {devices: new Map(), zones: new Map()};
    context.set("state", state);
}
const HIGH_C = 35.0, CLEAR_C = 33.0, DEBOUNCE = 3, WINDOW_MS = 10000;
const CORRELATE_MS = 2000, GAS_PPM = 1000.0;
const events = [];
let input;
try {
    input = JSON.parse(msg.payload);
} catch (e) {
    return null;
}
const topic = msg.topic;
let out;
if (topic.endsWith("/telemetry")) {
    const id = input.deviceId;
    const info = devices.get(id);
    let t = input.temperature, h = input.humidity, p = input.pressure, s = input.status;
    if (full && info) {
        let d = state.devices.get(id);
        if (!d) {
            d = {alarm: false, streak: 0, windowStart: 0, sum: 0, count: 0};
            state.devices.set(id, d);
        }
        if (t !== undefined) d.t = t; else t = d.t;
        if (h !== undefined) d.h = h; else h = d.h;
        if (p !== undefined) d.p = p; else p = d.p;
        if (s !== undefined) d.s = s; else s = d.s;
        if (t !== undefined) {
            const past = d.alarm ? t < CLEAR_C : t > HIGH_C;
            d.streak = past ? d.streak + 1 : 0;
            if (d.streak >= DEBOUNCE) {
                d.alarm = !d.alarm;
                d.streak = 0;
                events.push({event: d.alarm ? "overheat" : "overheat_cleared", key: id,
                             timestamp: input.timestamp, value: t});
            }
            const window = input.timestamp - input.timestamp % WINDOW_MS;
            if (window !== d.windowStart) {
                if (d.count > 0) {
                    events.push({event: "window_avg", key: id, timestamp: d.windowStart + WINDOW_MS,
                                 value: d.sum / d.count});
                }
                d.windowStart = window;
                d.sum = 0;
                d.count = 0;
            }
            d.sum += t * 9 / 5 + 32;
            d.count += 1;
        }
    }
    out = {deviceId: id, timestamp: input.timestamp};
    if (t !== undefined) out.temperatureF = t * 9 / 5 + 32;
    if (h !== undefined) out.humidity = h / 100;
    if (p !== undefined) out.pressure_hpa = p;
    if (s !== undefined) out.status = s;
    out.sequence = input.sequence;
    out.seq = input.seq;
    out.sent = input.sent;
    if (info) {
        out.site = info.site;
        out.line = info.line;
        out.zone = info.zone;
    }
} else {
    out = input;
    if (full) {
        let z = state.zones.get(input.zone);
        if (!z) {
            z = {person: 0, gas: 0, last: 0};
            state.zones.set(input.zone, z);
        }
        const camera = topic.endsWith("/camera");
        if (camera && input.detection === "person") z.person = input.timestamp;
        else if (!camera && input.ppm > GAS_PPM) z.gas = input.timestamp;
        const later = Math.max(z.person, z.gas), earlier = Math.min(z.person, z.gas);
        if (earlier !== 0 && later - earlier <= CORRELATE_MS && later !== z.last &&
            later === input.timestamp) {
            z.last = later;
            events.push({event: "person_near_gas", key: input.zone, timestamp: input.timestamp,
                         value: camera ? 0 : input.ppm});
        }
    }
}
const messages = [{topic: "enriched/" + topic, payload: JSON.stringify(out)}];
for (const e of events) {
    messages.push({topic: "events/" + e.event + "/" + e.key, payload: JSON.stringify(e)});
}
return [messages];
