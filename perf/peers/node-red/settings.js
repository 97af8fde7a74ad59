// Node-RED settings for the benchmark peer: headless (no editor, no HTTP nodes), no flow
// credentials, the devices dataset loaded once into the global context. Paths and the broker
// port come from the environment the benchmark sets (EDGEFLOW_BENCH_*).
const fs = require("fs");
const devices = new Map();
for (const line of fs.readFileSync(process.env.EDGEFLOW_BENCH_DATASET, "utf8").split("\n")) {
    if (line.trim() !== "") {
        const d = JSON.parse(line);
        devices.set(d.id, {site: d.site, line: d.line, zone: d.zone});
    }
}
module.exports = {
    uiHost: "127.0.0.1",
    uiPort: Number(process.env.EDGEFLOW_BENCH_UI_PORT || 1880),
    httpAdminRoot: false,
    httpNodeRoot: false,
    credentialSecret: false,
    flowFile: process.env.EDGEFLOW_BENCH_FLOW,
    userDir: process.env.EDGEFLOW_BENCH_USERDIR,
    functionGlobalContext: {devices},
    logging: {console: {level: "info", metrics: false, audit: false}},
    editorTheme: {tours: false},
};
