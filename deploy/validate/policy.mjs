// edgeflow's deployment policy, applied to every workload among rendered objects. Each rule
// has an id, which the broken manifests under broken/ name as the rule they must fail:
//
//   guaranteed            every container requests exactly its limits, CPU and memory both
//   whole-cpus            CPU limits are whole CPUs (what the static CPU manager makes exclusive)
//   probes                liveness, readiness and startup probes on every container
//   non-root              runAsNonRoot and a non-zero runAsUser (container or pod)
//   read-only-root        readOnlyRootFilesystem on every container
//   seccomp               seccompProfile RuntimeDefault or Localhost (container or pod)
//   capabilities          capabilities.drop has ALL, allowPrivilegeEscalation is false
//   pinned-image          an image with a version tag or a digest, not :latest or none
//   pipeline-cpus         the mounted pipeline exists here and says runtime.cpus: auto or lists CPUs
//   grace-period          terminationGracePeriodSeconds above every destination's drain_timeout
import { parse } from "yaml";

const workloadKinds = new Set(["DaemonSet", "Deployment", "StatefulSet", "ReplicaSet", "Job"]);

function podSpecOf(object) {
    if (object.kind === "Pod") return object.spec;
    if (object.kind === "CronJob") return object.spec?.jobTemplate?.spec?.template?.spec;
    if (workloadKinds.has(object.kind)) return object.spec?.template?.spec;
    return undefined;
}

/// Kubernetes quantities as numbers: "2" and "2000m" CPUs, "1Gi" bytes.
function quantity(value) {
    if (value === undefined || value === null) return undefined;
    const text = String(value);
    const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(text);
    if (!match) return NaN;
    const scale = { m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2,
                    Gi: 1024 ** 3, Ti: 1024 ** 4 }[match[2]] ?? 1;
    return Number(match[1]) * scale;
}

function checkContainer(container, pod, fail) {
    const c = container.name;
    const requests = container.resources?.requests ?? {};
    const limits = container.resources?.limits ?? {};
    for (const resource of ["cpu", "memory"]) {
        const limit = quantity(limits[resource]);
        // Without a request, Kubernetes takes the limit: equal, so still Guaranteed.
        const request = requests[resource] === undefined ? limit : quantity(requests[resource]);
        if (limit === undefined) {
            fail("guaranteed", `container ${c} has no ${resource} limit`);
        } else if (request !== limit) {
            fail("guaranteed", `container ${c} requests ${requests[resource]} ${resource}, limit ` +
                               `${limits[resource]}: not Guaranteed QoS`);
        }
    }
    const cpu = quantity(limits.cpu);
    if (cpu !== undefined && !Number.isInteger(cpu)) {
        fail("whole-cpus", `container ${c} has ${limits.cpu} CPUs: not whole CPUs, so none exclusive`);
    }
    for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
        if (container[probe] === undefined) fail("probes", `container ${c} has no ${probe}`);
    }
    const own = container.securityContext ?? {};
    const podContext = pod.securityContext ?? {};
    const effective = (key) => (own[key] !== undefined ? own[key] : podContext[key]);
    if (effective("runAsNonRoot") !== true) {
        fail("non-root", `container ${c} does not set runAsNonRoot: true`);
    }
    const uid = effective("runAsUser");
    if (uid === undefined || uid === 0) {
        fail("non-root", `container ${c} runs as user ${uid ?? "of the image"}, not a fixed non-root UID`);
    }
    if (own.readOnlyRootFilesystem !== true) {
        fail("read-only-root", `container ${c} has a writable root filesystem`);
    }
    const seccomp = effective("seccompProfile")?.type;
    if (seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
        fail("seccomp", `container ${c} has seccompProfile ${seccomp ?? "unset"}`);
    }
    if (!(own.capabilities?.drop ?? []).includes("ALL")) {
        fail("capabilities", `container ${c} does not drop ALL capabilities`);
    }
    if (own.capabilities?.add?.length > 0) {
        fail("capabilities", `container ${c} adds capabilities ${own.capabilities.add.join(", ")}`);
    }
    if (own.allowPrivilegeEscalation !== false) {
        fail("capabilities", `container ${c} does not set allowPrivilegeEscalation: false`);
    }
    const image = String(container.image ?? "");
    const tag = /^[^@]*?(?::([^:/@]+))?(@sha256:[0-9a-f]{64})?$/.exec(image);
    if (!tag || (!tag[2] && (!tag[1] || tag[1] === "latest"))) {
        fail("pinned-image", `container ${c} image "${image}" has no version tag or digest`);
    }
}

function checkPipeline(object, pod, configMaps, fail) {
    const namespace = object.metadata?.namespace;
    const mounted = (pod.volumes ?? []).filter((v) => v.configMap !== undefined);
    let found = false;
    for (const volume of mounted) {
        const map = configMaps.find((m) => m.metadata?.name === volume.configMap.name &&
                                           m.metadata?.namespace === namespace);
        const text = map?.data?.["pipeline.yaml"];
        if (text === undefined) continue;
        found = true;
        const pipeline = parse(text);
        const cpus = pipeline?.runtime?.cpus;
        const list = Array.isArray(cpus) ? cpus.length > 0
                   : typeof cpus === "number" || (typeof cpus === "string" && /^[0-9]/.test(cpus));
        if (cpus !== "auto" && !list) {
            fail("pipeline-cpus", `pipeline in ConfigMap ${volume.configMap.name} has runtime.cpus ` +
                                  `${cpus === undefined ? "unset" : JSON.stringify(cpus)}: ` +
                                  "neither auto nor a list of CPUs");
        }
        const drains = (pipeline?.destinations ?? []).map((d) => d.drain_timeout ?? 10);
        const grace = pod.terminationGracePeriodSeconds ?? 30;
        if (drains.length > 0 && grace <= Math.max(...drains)) {
            fail("grace-period", `terminationGracePeriodSeconds ${grace} is not above the ` +
                                 `pipeline's drain_timeout ${Math.max(...drains)}`);
        }
    }
    if (!found) {
        fail("pipeline-cpus", `no ConfigMap with a pipeline.yaml in namespace ${namespace} is mounted`);
    }
}

/// Every policy problem of the workloads among `objects`: "KIND/NAME: RULE: text".
export function checkPolicy(objects) {
    const problems = [];
    const configMaps = objects.filter((o) => o.kind === "ConfigMap");
    for (const object of objects) {
        const pod = podSpecOf(object);
        if (pod === undefined) continue;
        const fail = (rule, text) =>
            problems.push(`${object.kind}/${object.metadata?.name}: ${rule}: ${text}`);
        for (const container of [...(pod.initContainers ?? []), ...(pod.containers ?? [])]) {
            checkContainer(container, pod, fail);
        }
        checkPipeline(object, pod, configMaps, fail);
    }
    return problems;
}
