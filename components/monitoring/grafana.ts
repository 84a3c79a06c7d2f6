import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { MonitoringConfig } from "../../config/types";
import {
  type ComputeResources,
  checksum,
  hardenedContainer,
  images,
  type PodPeer,
  parseQuantity,
  resources,
  restrictedPodSecurityContext,
  type ServiceEndpoint,
} from "../k8s";
import {
  type ConfigMapKeyRef,
  checkDnsLabel,
  envFromSecret,
  objectMeta,
  podPeer,
  type SecretKeyRef,
  serviceEndpoint,
  serviceFor,
  throwIfProblems,
  type Workload,
  workloadLabels,
  workloadSelector,
} from "./common";

export const GRAFANA_PORT = 3000;
const GRAFANA_UID = 472;
export const GRAFANA_DATASOURCES_CONFIGMAP = "grafana-datasources";
export const GRAFANA_DASHBOARD_PROVIDERS_CONFIGMAP = "grafana-dashboard-providers";
export const GRAFANA_DASHBOARDS_CONFIGMAP = "grafana-dashboards";
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const GRAFANA_PROVISIONING_DIR = "/etc/grafana/provisioning";
/** Where the dashboard provider reads the dashboard JSON files from. */
export const GRAFANA_DASHBOARDS_DIR = "/var/lib/grafana-dashboards";
/**
 * Environment variables the provisioned Elasticsearch data source reads its password and CA from (passed to
 * renderGrafanaDatasources as elasticsearchPasswordEnv / elasticsearchCaCertEnv): Grafana expands `${VAR}` in
 * provisioning files, so the ConfigMap names the variable and the Secret holds the value.
 */
export const GRAFANA_ELASTICSEARCH_ENV = { password: "ES_PASSWORD", caCert: "ES_CA_CERT" } as const;

/** Secrets of Grafana's Elasticsearch data source, in Grafana's namespace (the user name is in the data source). */
export interface GrafanaElasticsearchAccess {
  readonly password: SecretKeyRef;
  /** PEM CA of Elasticsearch's HTTP certificate (public: a ConfigMap). */
  readonly caCert: ConfigMapKeyRef;
}

export interface GrafanaArgs {
  /** Namespace (the platform's `monitoring`). */
  readonly namespace: string;
  /** Public host and database volume size (config.monitoring.grafana). */
  readonly settings: MonitoringConfig["grafana"];
  /** StorageClass of the database volume (config.kubernetes.storageClass). */
  readonly storageClass: string;
  /** Provisioned data sources, file name to YAML (renderGrafanaDatasources), e.g. { "datasources.yaml": ... }. */
  readonly datasources: Readonly<Record<string, string>>;
  /** Dashboard providers, file name to YAML (renderGrafanaDashboardProvider with path GRAFANA_DASHBOARDS_DIR). */
  readonly dashboardProviders: Readonly<Record<string, string>>;
  /** Dashboards, file name to JSON (renderGrafanaDashboards). */
  readonly dashboards: Readonly<Record<string, string>>;
  /** Secrets of the Elasticsearch data source; required when the data sources read GRAFANA_ELASTICSEARCH_ENV. */
  readonly elasticsearch?: GrafanaElasticsearchAccess;
  /** CPU and memory. Default: requests 100m / 256Mi, limits 500m / 512Mi. */
  readonly compute?: ComputeResources;
  /** Object name. Default: "grafana". */
  readonly name?: string;
  /** Resources the pods wait for, e.g. the logging component's `ready` (Elasticsearch users and CA exist). Default: none. */
  readonly waitFor?: readonly pulumi.Resource[];
}

export interface ResolvedGrafanaArgs {
  readonly workload: Workload;
  readonly settings: MonitoringConfig["grafana"];
  readonly storageClass: string;
  readonly datasources: Readonly<Record<string, string>>;
  readonly dashboards: Readonly<Record<string, string>>;
  readonly dashboardProviders: Readonly<Record<string, string>>;
  readonly elasticsearch: GrafanaElasticsearchAccess | undefined;
  readonly compute: ComputeResources;
  /** https://<host>: Grafana's root_url, so links and redirects use the public name. */
  readonly url: string;
  readonly waitFor: readonly pulumi.Resource[];
}

export const GRAFANA_DEFAULT_COMPUTE = resources("100m", "256Mi", "500m", "512Mi");

/** Every `path:` a dashboard provider file reads dashboards from. */
export function providerPaths(providerYaml: string): string[] {
  return [...providerYaml.matchAll(/^\s*path:\s*["']?([^"'\s#]+)/gm)].map((m) => m[1]);
}

const HOST = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function resolveGrafanaArgs(args: GrafanaArgs): ResolvedGrafanaArgs {
  const name = args.name ?? "grafana";
  const problems: string[] = [];
  checkDnsLabel(problems, "namespace", args.namespace);
  checkDnsLabel(problems, "name", name);
  if (!HOST.test(args.settings.host)) {
    problems.push(
      `monitoring.grafana.host must be a DNS name such as grafana.zarishsphere.com (got "${args.settings.host}")`,
    );
  }
  if ((parseQuantity(args.settings.storageSize) ?? 0) <= 0) {
    problems.push(`monitoring.grafana.storageSize must be a Kubernetes quantity (got "${args.settings.storageSize}")`);
  }
  if (args.storageClass.trim() === "") problems.push("kubernetes.storageClass must not be empty");
  if (Object.keys(args.datasources).length === 0) problems.push("datasources must hold at least one provisioning file");
  if (Object.keys(args.dashboards).length === 0) problems.push("dashboards must hold at least one dashboard");
  if (Object.keys(args.dashboardProviders).length === 0)
    problems.push("dashboardProviders must hold at least one provider file");
  // The provider must read where the dashboards ConfigMap is mounted, or Grafana starts with no dashboards.
  for (const path of Object.values(args.dashboardProviders).flatMap(providerPaths)) {
    if (path !== GRAFANA_DASHBOARDS_DIR) {
      problems.push(`a dashboard provider reads ${path}, but the dashboards are mounted at ${GRAFANA_DASHBOARDS_DIR}`);
    }
  }
  // A data source that reads $ELASTICSEARCH_PASSWORD with no Secret behind it would log in with an empty password.
  const wantsElasticsearchEnv = Object.values(GRAFANA_ELASTICSEARCH_ENV).some((v) =>
    Object.values(args.datasources).some((text) => text.includes(`$${v}`) || text.includes(`\${${v}}`)),
  );
  if (wantsElasticsearchEnv && args.elasticsearch === undefined) {
    problems.push(
      `the data sources read ${Object.values(GRAFANA_ELASTICSEARCH_ENV).join(" / ")} from the environment, but no elasticsearch Secret was given`,
    );
  }
  throwIfProblems("Grafana", problems);
  return {
    workload: { name, namespace: args.namespace, image: images.grafana },
    settings: args.settings,
    storageClass: args.storageClass,
    datasources: args.datasources,
    dashboards: args.dashboards,
    dashboardProviders: args.dashboardProviders,
    elasticsearch: args.elasticsearch,
    compute: args.compute ?? GRAFANA_DEFAULT_COMPUTE,
    url: `https://${args.settings.host}`,
    waitFor: args.waitFor ?? [],
  };
}

/** Grafana's settings as GF_* variables: public URL, no sign-up, no phoning home, logs to stdout. */
export function grafanaEnv(
  r: ResolvedGrafanaArgs,
  adminSecretName: pulumi.Input<string> = GRAFANA_ADMIN_SECRET,
): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: "GF_SERVER_DOMAIN", value: r.settings.host },
    { name: "GF_SERVER_ROOT_URL", value: `${r.url}/` },
    { name: "GF_PATHS_DATA", value: "/var/lib/grafana" },
    { name: "GF_PATHS_PROVISIONING", value: GRAFANA_PROVISIONING_DIR },
    // The root filesystem is read-only: log to stdout only (the image default also writes /var/log/grafana).
    { name: "GF_LOG_MODE", value: "console" },
    { name: "GF_USERS_ALLOW_SIGN_UP", value: "false" },
    { name: "GF_AUTH_ANONYMOUS_ENABLED", value: "false" },
    { name: "GF_SECURITY_COOKIE_SECURE", value: "true" },
    { name: "GF_SECURITY_DISABLE_GRAVATAR", value: "true" },
    { name: "GF_ANALYTICS_REPORTING_ENABLED", value: "false" },
    { name: "GF_ANALYTICS_CHECK_FOR_UPDATES", value: "false" },
    { name: "GF_SECURITY_ADMIN_USER", valueFrom: { secretKeyRef: { name: adminSecretName, key: "admin-user" } } },
    // Read on first start only (it seeds the database); a rotation afterwards goes through `grafana cli admin
    // reset-admin-password` with the new value from this Secret.
    {
      name: "GF_SECURITY_ADMIN_PASSWORD",
      valueFrom: { secretKeyRef: { name: adminSecretName, key: "admin-password" } },
    },
    ...(r.elasticsearch === undefined
      ? []
      : [
          envFromSecret(GRAFANA_ELASTICSEARCH_ENV.password, r.elasticsearch.password),
          {
            name: GRAFANA_ELASTICSEARCH_ENV.caCert,
            valueFrom: { configMapKeyRef: { name: r.elasticsearch.caCert.name, key: r.elasticsearch.caCert.key } },
          },
        ]),
  ];
}

/**
 * Grafana: one replica with its SQLite database on a persistent volume, admin password generated and kept as a
 * secret, data sources and dashboards provisioned from ConfigMaps rendered from typed data.
 */
export class Grafana extends pulumi.ComponentResource {
  public readonly endpoint: ServiceEndpoint;
  /** The Grafana pods, as a NetworkPolicy peer (they query Prometheus, Elasticsearch and Jaeger). */
  public readonly peer: PodPeer;
  /** https://<config.monitoring.grafana.host>. */
  public readonly url: string;
  /** The generated admin password (a secret Output). */
  public readonly adminPassword: pulumi.Output<string>;

  constructor(name: string, args: GrafanaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zarish:monitoring:Grafana", name, {}, opts);
    const r = resolveGrafanaArgs(args);
    const w = r.workload;

    const password = new random.RandomPassword(
      `${name}-admin-password`,
      // Letters and digits only: the value travels through env vars and shells without quoting surprises.
      { length: 32, special: false },
      { parent: this },
    );
    this.adminPassword = pulumi.secret(password.result);
    const adminSecret = new k8s.core.v1.Secret(
      `${name}-admin`,
      {
        metadata: objectMeta(w, GRAFANA_ADMIN_SECRET),
        type: "Opaque",
        stringData: { "admin-user": "admin", "admin-password": this.adminPassword },
      },
      { parent: this },
    );

    const configMap = (part: string, cmName: string, data: Readonly<Record<string, string>>) =>
      new k8s.core.v1.ConfigMap(
        `${name}-${part}`,
        { metadata: objectMeta(w, cmName), data: { ...data } },
        { parent: this },
      );
    const datasources = configMap("datasources", GRAFANA_DATASOURCES_CONFIGMAP, r.datasources);
    const providers = configMap("dashboard-providers", GRAFANA_DASHBOARD_PROVIDERS_CONFIGMAP, r.dashboardProviders);
    const dashboards = configMap("dashboards", GRAFANA_DASHBOARDS_CONFIGMAP, r.dashboards);

    const pvc = new k8s.core.v1.PersistentVolumeClaim(
      `${name}-data`,
      {
        metadata: objectMeta(w, `${w.name}-data`),
        spec: {
          accessModes: ["ReadWriteOnce"],
          storageClassName: r.storageClass,
          resources: { requests: { storage: r.settings.storageSize } },
        },
      },
      { parent: this },
    );

    const probe = { httpGet: { path: "/api/health", port: "http" }, periodSeconds: 10, timeoutSeconds: 5 };
    new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: objectMeta(w),
        spec: {
          // SQLite on a ReadWriteOnce volume: exactly one writer, and the old pod stops before the new one starts.
          replicas: 1,
          strategy: { type: "Recreate" },
          selector: { matchLabels: workloadSelector(w) },
          template: {
            metadata: {
              labels: workloadLabels(w),
              annotations: {
                "checksum/config": checksum({ ...r.datasources }, { ...r.dashboardProviders }, { ...r.dashboards }),
              },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: restrictedPodSecurityContext(GRAFANA_UID),
              containers: [
                hardenedContainer({
                  name: "grafana",
                  image: images.grafana,
                  env: grafanaEnv(r, adminSecret.metadata.name),
                  ports: [{ name: "http", containerPort: GRAFANA_PORT }],
                  readinessProbe: probe,
                  livenessProbe: { ...probe, initialDelaySeconds: 30, failureThreshold: 6 },
                  volumeMounts: [
                    { name: "data", mountPath: "/var/lib/grafana" },
                    { name: "tmp", mountPath: "/tmp" },
                    { name: "datasources", mountPath: `${GRAFANA_PROVISIONING_DIR}/datasources`, readOnly: true },
                    {
                      name: "dashboard-providers",
                      mountPath: `${GRAFANA_PROVISIONING_DIR}/dashboards`,
                      readOnly: true,
                    },
                    { name: "dashboards", mountPath: GRAFANA_DASHBOARDS_DIR, readOnly: true },
                  ],
                  compute: r.compute,
                  runAsUser: GRAFANA_UID,
                }),
              ],
              volumes: [
                { name: "data", persistentVolumeClaim: { claimName: pvc.metadata.name } },
                { name: "tmp", emptyDir: { sizeLimit: "256Mi" } },
                { name: "datasources", configMap: { name: datasources.metadata.name } },
                { name: "dashboard-providers", configMap: { name: providers.metadata.name } },
                { name: "dashboards", configMap: { name: dashboards.metadata.name } },
              ],
            },
          },
        },
      },
      { parent: this, dependsOn: [...r.waitFor] },
    );
    serviceFor(name, w, [{ name: "http", port: GRAFANA_PORT }], { parent: this });

    this.endpoint = serviceEndpoint(w, GRAFANA_PORT);
    this.peer = podPeer(w);
    this.url = r.url;
    this.registerOutputs({ endpoint: this.endpoint, peer: this.peer, url: this.url });
  }
}
