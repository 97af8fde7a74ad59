// Validates rendered Kubernetes manifests offline.
//
//   node validate.mjs RENDERED.yaml...              schema, unknown fields, policy; exit 1 on any
//   node validate.mjs --pipelines DIR RENDERED.yaml  also writes each ConfigMap's pipeline.yaml
//                                                   to DIR/<file>/pipeline.yaml
//
// Every object is checked three ways:
//   schema   against its API's schema (kubernetes-models' validate(): types, required fields,
//            formats such as quantities);
//   fields   no field the API does not define: the same models' TypeScript declarations,
//            type-checked with excess properties refused, since the schemas allow any;
//   policy   our rules for a workload (policy.mjs).
// Each problem is one line: FILE: KIND/NAME: RULE: what is wrong.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { parseAllDocuments } from "yaml";
import { checkPolicy } from "./policy.mjs";

const require = createRequire(import.meta.url);
const ts = require("typescript");
const here = path.dirname(new URL(import.meta.url).pathname);

function modulePath(apiVersion, kind) {
    if (apiVersion.startsWith("monitoring.coreos.com/")) {
        return `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`;
    }
    return `kubernetes-models/${apiVersion.includes("/") ? apiVersion : "v1"}/${kind}`;
}

function readObjects(file) {
    const objects = [];
    for (const doc of parseAllDocuments(fs.readFileSync(file, "utf8"))) {
        if (doc.errors.length > 0) {
            throw new Error(`${file}: not valid YAML: ${doc.errors[0].message}`);
        }
        const object = doc.toJS();
        // An empty document (a deleted object, with kustomize 2) holds nothing to check.
        if (object !== null && Object.keys(object).length > 0) {
            objects.push({ file, object });
        }
    }
    return objects;
}

function checkSchemas(objects, problems) {
    const typed = [];
    for (const entry of objects) {
        const { apiVersion, kind, metadata } = entry.object;
        entry.id = `${kind}/${metadata?.name}`;
        const module = modulePath(String(apiVersion), String(kind));
        let model;
        try {
            model = require(module)[kind];
        } catch {
            problems.push(`${entry.file}: ${entry.id}: schema: no schema for ${apiVersion} ${kind}`);
            continue;
        }
        try {
            new model(entry.object).validate();
        } catch (error) {
            problems.push(`${entry.file}: ${entry.id}: schema: ${error.message}`);
        }
        typed.push({ entry, module });
    }
    checkFields(typed, problems);
}

function checkFields(typed, problems) {
    // One TypeScript file assigning each object, as a literal, to its model's interface: a
    // field the interface lacks is an excess property error at its line.
    let source = "";
    const starts = [];
    typed.forEach(({ entry, module }, i) => {
        source += `import type { I${entry.object.kind} as T${i} } from "${module}";\n`;
    });
    typed.forEach(({ entry }, i) => {
        starts.push(source.split("\n").length);
        source += `export const o${i}: T${i} = ${JSON.stringify(entry.object, null, 1)};\n`;
    });
    const file = path.join(here, "objects-check.ts");
    fs.writeFileSync(file, source);
    const program = ts.createProgram([file], {
        strict: true, noEmit: true, skipLibCheck: true, types: [],
        moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS,
    });
    const lines = source.split("\n");
    for (const d of ts.getPreEmitDiagnostics(program)) {
        if (d.file === undefined || path.resolve(d.file.fileName) !== file) {
            problems.push(`fields: ${ts.flattenDiagnosticMessageText(d.messageText, " ")}`);
            continue;
        }
        const line = d.file.getLineAndCharacterOfPosition(d.start).line + 1;
        let i = starts.length - 1;
        while (i > 0 && starts[i] > line) i--;
        const message = ts.flattenDiagnosticMessageText(d.messageText, " ").split(" Type '")[0];
        problems.push(`${typed[i].entry.file}: ${typed[i].entry.id}: fields: ${message} ` +
                      `(at ${lines[line - 1].trim()})`);
    }
    fs.rmSync(file, { force: true });
}

const args = process.argv.slice(2);
let pipelines = null;
if (args[0] === "--pipelines") {
    pipelines = args[1];
    args.splice(0, 2);
}
if (args.length === 0) {
    console.error("usage: node validate.mjs [--pipelines DIR] RENDERED.yaml...");
    process.exit(2);
}
const problems = [];
for (const file of args) {
    const objects = readObjects(file);
    checkSchemas(objects, problems);
    for (const problem of checkPolicy(objects.map((e) => e.object))) {
        problems.push(`${file}: ${problem}`);
    }
    if (pipelines !== null) {
        for (const { object } of objects) {
            if (object.kind === "ConfigMap" && object.data?.["pipeline.yaml"] !== undefined) {
                const dir = path.join(pipelines, path.basename(file, ".yaml"));
                fs.mkdirSync(dir, { recursive: true });
                fs.writeFileSync(path.join(dir, "pipeline.yaml"), object.data["pipeline.yaml"]);
            }
        }
    }
    console.log(`${file}: ${objects.length} object(s) checked`);
}
for (const problem of problems) {
    console.log(problem);
}
process.exit(problems.length === 0 ? 0 : 1);
