import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  type ComputeResources,
  checksum,
  endpointUrl,
  images,
  imageVersion,
  type PodPeer,
  recommendedLabels,
  resources,
  type ServiceEndpoint,
  selectorLabels,
  toK8sResources,
} from "../k8s";
import {
  CONTAINERD_SOCKET,
  FALCO_CONFIG_FILE,
  FALCO_HOST_ROOT,
  FALCO_RULES_DIR,
  FALCO_WEB_PORT,
  falcoConfig,
  renderFalcoConfig,
} from "./falco-config";
import { FALCO_PRIORITIES, type FalcoPriority, platformFalcoRules, renderFalcoRules } from "./falco-rules";
import { falcoRulesProblems } from "./falco-rules-check";
import { Falcosidekick, SECURITY_COMPONENT } from "./falcosidekick";
import type { Flow } from "./network-isolation";

/** The DaemonSet's name: the policy pack exempts exactly this workload in `node-agents` from the restricted profile. */
export const FALCO_NAME = "falco";
export const FALCO_RULES_FILE = "zarish-rules.yaml";

/**
 * Linux capabilities the modern eBPF probe needs instead of `privileged: true`
 * (https://falco.org/docs/setup/container/, least privileged mode; the falco chart's `leastPrivileged`):
 * - BPF: load the eBPF programs and create their maps;
 * - PERFMON: attach them to the kernel's tracepoints;
 * - SYS_RESOURCE: raise RLIMIT_MEMLOCK for the ring buffers (kernels before 5.11 account BPF memory there);
 * - SYS_PTRACE: read /proc/<pid>/environ and friends of other processes when building its process table.
 */
export const FALCO_CAPABILITIES = ["BPF", "PERFMON", "SYS_RESOURCE", "SYS_PTRACE"] as const;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;
const IMAGE_REPOSITORY = /^[a-z0-9]+([._/-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;

export interface FalcoArgs {
  /** Namespace of the DaemonSet (the platform's privileged `node-agents`). */
  readonly namespace: string;
  /** Namespace of falcosidekick (the platform's restricted `security`). */
  readonly sidekickNamespace: string;
  /** Alertmanager's endpoint; falcosidekick forwards events there. */
  readonly alertmanager: ServiceEndpoint;
  /** The public API host the rules watch (config security.apiHost). */
  readonly apiHost: string;
  /** Namespace of PostgreSQL and Redis (config kubernetes.databaseNamespace). */
  readonly databaseNamespace: string;
  /** Other namespaces whose jobs run database clients by design (backups). Default: none. */
  readonly databaseClientNamespaces?: readonly string[];
  /** Image repositories allowed to reach public addresses from the database namespace. Default: none. */
  readonly databaseEgressImages?: readonly string[];
  /** Lowest priority forwarded to Alertmanager. Default: "WARNING". */
  readonly minimumAlertPriority?: FalcoPriority;
  /** Lowest priority of the rules Falco loads (events below are not even logged). Default: "NOTICE". */
  readonly minimumRulePriority?: FalcoPriority;
  /** CPU and memory of each Falco pod. Default: requests 100m / 512Mi, limits 1 / 1Gi (the falco chart's). */
  readonly compute?: ComputeResources;
  /** falcosidekick replicas. Default: 2. */
  readonly sidekickReplicas?: number;
}

export interface ResolvedFalcoArgs {
  readonly namespace: string;
  readonly sidekickNamespace: string;
  readonly alertmanager: ServiceEndpoint;
  readonly apiHost: string;
  readonly databaseNamespace: string;
  readonly databaseClientNamespaces: readonly string[];
  readonly databaseEgressImages: readonly string[];
  readonly minimumAlertPriority: FalcoPriority;
  readonly minimumRulePriority: FalcoPriority;
  readonly compute: ComputeResources;
  readonly sidekickReplicas: number;
}

export const FALCO_DEFAULT_COMPUTE = resources("100m", "512Mi", "1", "1Gi");

export function resolveFalcoArgs(args: FalcoArgs): ResolvedFalcoArgs {
  const r: ResolvedFalcoArgs = {
    namespace: args.namespace,
    sidekickNamespace: args.sidekickNamespace,
    alertmanager: args.alertmanager,
    apiHost: args.apiHost,
    databaseNamespace: args.databaseNamespace,
    databaseClientNamespaces: args.databaseClientNamespaces ?? [],
    databaseEgressImages: args.databaseEgressImages ?? [],
    minimumAlertPriority: args.minimumAlertPriority ?? "WARNING",
    minimumRulePriority: args.minimumRulePriority ?? "NOTICE",
    compute: args.compute ?? FALCO_DEFAULT_COMPUTE,
    sidekickReplicas: args.sidekickReplicas ?? 2,
  };
  const problems: string[] = [];
  const namespaces: [string, string][] = [
    ["namespace", r.namespace],
    ["sidekickNamespace", r.sidekickNamespace],
    ["databaseNamespace", r.databaseNamespace],
    ...r.databaseClientNamespaces.map((ns, i): [string, string] => [`databaseClientNamespaces[${i}]`, ns]),
  ];
  for (const [where, ns] of namespaces) {
    if (!DNS_LABEL.test(ns)) problems.push(`${where} must be a DNS-1123 label (got "${ns}")`);
  }
  // The host is written into a rule condition: a strict host name keeps quotes and operators out of it.
  if (!HOSTNAME.test(r.apiHost)) problems.push(`apiHost must be a lower-case DNS host name (got "${r.apiHost}")`);
  for (const [i, repo] of r.databaseEgressImages.entries()) {
    if (!IMAGE_REPOSITORY.test(repo) || repo.includes("@")) {
      problems.push(`databaseEgressImages[${i}] must be an image repository without tag (got "${repo}")`);
    }
  }
  for (const key of ["minimumAlertPriority", "minimumRulePriority"] as const) {
    if (!FALCO_PRIORITIES.includes(r[key]))
      problems.push(`${key} must be one of ${FALCO_PRIORITIES.join(" ")} (got "${r[key]}")`);
  }
  if (
    FALCO_PRIORITIES.includes(r.minimumAlertPriority) &&
    FALCO_PRIORITIES.includes(r.minimumRulePriority) &&
    FALCO_PRIORITIES.indexOf(r.minimumAlertPriority) > FALCO_PRIORITIES.indexOf(r.minimumRulePriority)
  ) {
    problems.push(
      `minimumAlertPriority ${r.minimumAlertPriority} is below minimumRulePriority ${r.minimumRulePriority}: those rules are not loaded`,
    );
  }
  if (problems.length > 0) throw new Error(`Falco: ${problems.join("; ")}`);
  return r;
}

/** The two configuration files of the Falco pods, rendered; the rules are checked the way Falco loads them. */
export function falcoFiles(r: ResolvedFalcoArgs, sidekick: ServiceEndpoint): { config: string; rules: string } {
  const rules = renderFalcoRules(
    platformFalcoRules({
      apiHost: r.apiHost,
      databaseNamespace: r.databaseNamespace,
      databaseClientNamespaces: r.databaseClientNamespaces,
      databaseEgressImages: r.databaseEgressImages,
    }),
  );
  const problems = falcoRulesProblems(rules);
  if (problems.length > 0) throw new Error(`Falco: the rendered rules would not load: ${problems.join("; ")}`);
  const config = renderFalcoConfig(
    falcoConfig({ httpOutputUrl: `${endpointUrl(sidekick)}/`, minimumRulePriority: r.minimumRulePriority }),
  );
  return { config, rules };
}

/**
 * Falco on every node (DaemonSet `falco` in `node-agents`), with the platform's rules from a ConfigMap in
 * rules.d, and falcosidekick forwarding its events to Alertmanager.
 */
export class Falco extends pulumi.ComponentResource {
  public readonly daemonSet: k8s.apps.v1.DaemonSet;
  public readonly sidekick: Falcosidekick;
  /** Falco's /metrics (headless Service over the DaemonSet's pods). */
  public readonly metricsEndpoint: ServiceEndpoint;
  /** falcosidekick's /metrics and event intake. */
  public readonly sidekickEndpoint: ServiceEndpoint;
  /** The connections Falco needs, for NetworkIsolation: Falco to falcosidekick, falcosidekick to Alertmanager. */
  public readonly flows: readonly Flow[];
  /** The rendered files, as the pods see them. */
  public readonly files: { readonly config: string; readonly rules: string };

  constructor(name: string, args: FalcoArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:security:Falco", name, {}, opts);
    const r = resolveFalcoArgs(args);
    this.sidekick = new Falcosidekick(
      `${name}-sidekick`,
      {
        namespace: r.sidekickNamespace,
        alertmanager: r.alertmanager,
        minimumPriority: r.minimumAlertPriority,
        replicas: r.sidekickReplicas,
      },
      { parent: this },
    );
    this.sidekickEndpoint = this.sidekick.endpoint;
    this.files = falcoFiles(r, this.sidekickEndpoint);

    const image = images.falco;
    const labels = recommendedLabels({ name: FALCO_NAME, component: SECURITY_COMPONENT, version: imageVersion(image) });
    const selector = selectorLabels({ name: FALCO_NAME });
    const metadata = (objectName: string) => ({ name: objectName, namespace: r.namespace, labels });
    const peer: PodPeer = { namespace: r.namespace, podSelector: selector };
    this.metricsEndpoint = {
      namespace: r.namespace,
      service: FALCO_NAME,
      port: FALCO_WEB_PORT,
      scheme: "http",
      podSelector: selector,
    };
    this.flows = [
      { name: "falco-to-falcosidekick", from: peer, to: this.sidekickEndpoint },
      { name: "falcosidekick-to-alertmanager", from: this.sidekick.peer, to: r.alertmanager },
    ];

    const configMap = new k8s.core.v1.ConfigMap(
      `${name}-config`,
      { metadata: metadata(`${FALCO_NAME}-config`), data: { "falco.yaml": this.files.config } },
      { parent: this },
    );
    const rulesMap = new k8s.core.v1.ConfigMap(
      `${name}-rules`,
      { metadata: metadata(`${FALCO_NAME}-rules`), data: { [FALCO_RULES_FILE]: this.files.rules } },
      { parent: this },
    );
    const serviceAccount = new k8s.core.v1.ServiceAccount(
      `${name}-sa`,
      // Kubernetes metadata comes from the container runtime, not the API server: no token in the pod.
      { metadata: metadata(FALCO_NAME), automountServiceAccountToken: false },
      { parent: this },
    );
    const probe = { httpGet: { path: "/healthz", port: FALCO_WEB_PORT }, periodSeconds: 15, timeoutSeconds: 5 };
    const hostPath = (volume: string, path: string, type: string) => ({ name: volume, hostPath: { path, type } });

    this.daemonSet = new k8s.apps.v1.DaemonSet(
      `${name}-daemonset`,
      {
        metadata: metadata(FALCO_NAME),
        spec: {
          selector: { matchLabels: selector },
          updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels, annotations: { "checksum/config": checksum(this.files.config, this.files.rules) } },
            spec: {
              serviceAccountName: serviceAccount.metadata.name,
              automountServiceAccountToken: false,
              // hostPID and hostNetwork stay false: the probe sees every process through the kernel, and Falco
              // reads the host's /proc through the read-only /host/proc mount below.
              hostPID: false,
              hostNetwork: false,
              // A node without Falco is a blind spot: run on tainted nodes too.
              tolerations: [
                { operator: "Exists", effect: "NoSchedule" },
                { operator: "Exists", effect: "NoExecute" },
              ],
              containers: [
                {
                  name: FALCO_NAME,
                  image,
                  imagePullPolicy: "IfNotPresent",
                  args: ["/usr/bin/falco"],
                  env: [
                    { name: "HOST_ROOT", value: FALCO_HOST_ROOT },
                    { name: "FALCO_HOSTNAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                    { name: "FALCO_K8S_NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                  ],
                  ports: [{ name: "web", containerPort: FALCO_WEB_PORT, protocol: "TCP" }],
                  startupProbe: { ...probe, failureThreshold: 20 },
                  livenessProbe: { ...probe, failureThreshold: 3 },
                  readinessProbe: probe,
                  resources: toK8sResources(r.compute),
                  // WHY Falco departs from the restricted profile (and the policy pack exempts it by name):
                  // - runAsUser 0: Kubernetes grants added capabilities only to root (non-root containers get no
                  //   ambient capabilities), and the probe needs the four in FALCO_CAPABILITIES;
                  // - capabilities instead of privileged: true: the modern eBPF probe runs in Falco's
                  //   least-privileged mode; every other capability is dropped;
                  // - seccomp and AppArmor Unconfined: containerd's RuntimeDefault profile admits bpf(2) and
                  //   perf_event_open(2) only to containers holding CAP_SYS_ADMIN (contrib/seccomp/
                  //   seccomp_default.go), which least-privileged mode exists to avoid granting; the falco chart
                  //   sets AppArmor unconfined for the same reason. The policy pack reports both as advisory.
                  // What stays restricted: no privilege escalation, read-only root filesystem, every host path
                  // mounted read-only, no host PID or network namespace, no service-account token.
                  securityContext: {
                    runAsUser: 0,
                    runAsGroup: 0,
                    runAsNonRoot: false,
                    privileged: false,
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { drop: ["ALL"], add: [...FALCO_CAPABILITIES] },
                    seccompProfile: { type: "Unconfined" },
                    appArmorProfile: { type: "Unconfined" },
                  },
                  volumeMounts: [
                    { name: "config", mountPath: FALCO_CONFIG_FILE, subPath: "falco.yaml", readOnly: true },
                    { name: "rules", mountPath: FALCO_RULES_DIR, readOnly: true },
                    { name: "proc", mountPath: `${FALCO_HOST_ROOT}/proc`, readOnly: true },
                    // /etc/os-release (kernel and distribution) and /etc/passwd and /etc/group (user.name).
                    { name: "etc", mountPath: `${FALCO_HOST_ROOT}/etc`, readOnly: true },
                    // Falco only queries containerd for container and pod names. A read-only mount still lets a
                    // process connect to a socket (it is not a write to the file), so this is what the policy
                    // pack's exemption reviews, not a restriction.
                    { name: "containerd", mountPath: `${FALCO_HOST_ROOT}${CONTAINERD_SOCKET}`, readOnly: true },
                    { name: "falco-home", mountPath: "/root/.falco" },
                    { name: "tmp", mountPath: "/tmp" },
                  ],
                },
              ],
              volumes: [
                { name: "config", configMap: { name: configMap.metadata.name } },
                { name: "rules", configMap: { name: rulesMap.metadata.name } },
                hostPath("proc", "/proc", "Directory"),
                hostPath("etc", "/etc", "Directory"),
                hostPath("containerd", CONTAINERD_SOCKET, "Socket"),
                { name: "falco-home", emptyDir: { sizeLimit: "64Mi" } },
                { name: "tmp", emptyDir: { sizeLimit: "64Mi" } },
              ],
            },
          },
        },
      },
      { parent: this },
    );
    new k8s.core.v1.Service(
      `${name}-metrics`,
      {
        metadata: metadata(FALCO_NAME),
        spec: {
          clusterIP: "None",
          selector,
          ports: [{ name: "web", port: FALCO_WEB_PORT, targetPort: FALCO_WEB_PORT, protocol: "TCP" }],
        },
      },
      { parent: this },
    );
    this.registerOutputs({ metricsEndpoint: this.metricsEndpoint, sidekickEndpoint: this.sidekickEndpoint });
  }
}
