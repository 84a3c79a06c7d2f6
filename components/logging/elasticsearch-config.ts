import * as yaml from "js-yaml";
import { CLUSTER_NAME, NAMES, PORTS, statefulSetPodNames, TLS_KEYS } from "./names";

/**
 * elasticsearch.yml and the two small scripts of the Elasticsearch pods, built from typed data so that tests and
 * the offline plan see exactly what the nodes read.
 *
 * Departures from the seed, and why:
 * - The seed sets `discovery.type: single-node` on a 3-replica StatefulSet, which starts three separate one-node
 *   clusters. Here the nodes find each other through the headless Service (`discovery.seed_hosts`) and form one
 *   cluster, bootstrapped once from `cluster.initial_master_nodes`.
 * - The seed runs without security. Patient-related logs and the audit trail need authentication and encryption
 *   in transit: security is on, with TLS on the transport layer (node to node) and on HTTP (clients).
 */

/** Where the image keeps Elasticsearch; the config directory is replaced by a writable emptyDir (see below). */
export const ES_HOME = "/usr/share/elasticsearch";
export const ES_CONFIG_DIR = `${ES_HOME}/config`;
export const ES_DATA_DIR = `${ES_HOME}/data`;
export const ES_LOGS_DIR = `${ES_HOME}/logs`;
/** TLS material, mounted from the cert-manager Secrets under the config directory (paths in the yml are relative). */
export const ES_HTTP_CERTS_DIR = `${ES_CONFIG_DIR}/certs/http`;
export const ES_TRANSPORT_CERTS_DIR = `${ES_CONFIG_DIR}/certs/transport`;
/** Where the init container sees the ConfigMap and the emptyDir that becomes the config directory. */
export const INIT_CONFIGMAP_DIR = "/mnt/configmap";
export const INIT_CONFIG_DIR = "/mnt/config";
/** Where EKS mounts the IAM-roles-for-service-accounts token (the pod identity webhook's fixed path). */
export const IRSA_TOKEN_FILE = "/var/run/secrets/eks.amazonaws.com/serviceaccount/token";

/** ConfigMap keys of the Elasticsearch configuration. */
export const ES_CONFIG_KEYS = {
  settings: "elasticsearch.yml",
  bootstrapSettings: "initial-master-nodes.yml",
  initScript: "prepare-config.sh",
  readinessScript: "readiness.sh",
} as const;

export interface ElasticsearchSettingsInput {
  /** Namespace of the cluster, for the discovery host name. */
  readonly namespace: string;
  /** Where snapshots go; when set, the S3 client of the repository-s3 module is pointed at its region. */
  readonly snapshotRegion?: string;
}

/** `${NAME}`: a reference to an environment variable, which Elasticsearch and Beats expand in their settings. */
export function envRef(name: string): string {
  return `\${${name}}`;
}

/** A flat map of Elasticsearch settings (dotted keys), as elasticsearch.yml accepts them. */
export type ElasticsearchSettings = Readonly<Record<string, string | number | boolean | readonly string[]>>;

/** The steady-state settings every node starts with. */
export function elasticsearchSettings(input: ElasticsearchSettingsInput): ElasticsearchSettings {
  return {
    "cluster.name": CLUSTER_NAME,
    // POD_NAME and POD_IP come from the downward API; Elasticsearch expands ${VAR} in its settings.
    "node.name": envRef("POD_NAME"),
    "network.host": "0.0.0.0",
    "network.publish_host": envRef("POD_IP"),
    "http.port": PORTS.elasticsearchHttp,
    "transport.port": PORTS.elasticsearchTransport,
    // The headless Service resolves to every pod, ready or not (publishNotReadyAddresses), so nodes can find each
    // other before the cluster is healthy.
    "discovery.seed_hosts": [`${NAMES.elasticsearchHeadless}.${input.namespace}.svc`],
    "path.data": ES_DATA_DIR,
    "path.logs": ES_LOGS_DIR,
    // vm.max_map_count: Elasticsearch's bootstrap check needs the node's vm.max_map_count >= 262144 for mmapfs,
    // which would take a privileged init container running sysctl on the host. Elastic documents
    // node.store.allow_mmap: false as the alternative when that sysctl cannot be set: the node uses niofs instead
    // of mmap, the check does not apply, and no container needs privileges. The cost is some search performance,
    // which a log cluster of this size does not miss.
    "node.store.allow_mmap": false,
    "xpack.security.enabled": true,
    "xpack.security.enrollment.enabled": false,
    // Transport: a CA of its own (see tls.ts) that only the nodes' certificate comes from, so "certificate"
    // verification admits exactly the cluster's nodes. Hostname verification cannot work here: nodes connect to
    // each other by pod IP, which no certificate issued ahead of time can name.
    "xpack.security.transport.ssl.enabled": true,
    "xpack.security.transport.ssl.verification_mode": "certificate",
    "xpack.security.transport.ssl.key": `certs/transport/${TLS_KEYS.key}`,
    "xpack.security.transport.ssl.certificate": `certs/transport/${TLS_KEYS.cert}`,
    "xpack.security.transport.ssl.certificate_authorities": [`certs/transport/${TLS_KEYS.ca}`],
    "xpack.security.http.ssl.enabled": true,
    "xpack.security.http.ssl.key": `certs/http/${TLS_KEYS.key}`,
    "xpack.security.http.ssl.certificate": `certs/http/${TLS_KEYS.cert}`,
    "xpack.security.http.ssl.certificate_authorities": [`certs/http/${TLS_KEYS.ca}`],
    // A wildcard or _all DELETE must name its indices: nobody wipes the audit trail with one request.
    "action.destructive_requires_name": true,
    // The GeoIP downloader reaches out to the internet; the namespace's egress is closed and nothing here uses it.
    "ingest.geoip.downloader.enabled": false,
    // Snapshots to S3 (repository-s3 is a bundled module in 8.x). The repository itself is registered by the
    // bootstrap Job; path.repo is only for shared-filesystem repositories and is not needed. Credentials come
    // from the ServiceAccount's IAM role (IRSA), see elasticsearchInitScript.
    ...(input.snapshotRegion === undefined
      ? {}
      : { "s3.client.default.endpoint": `s3.${input.snapshotRegion}.amazonaws.com` }),
  };
}

/**
 * `cluster.initial_master_nodes`: the pod names of the StatefulSet. Elastic requires it for the first start of a
 * new cluster only, and warns against leaving it set (a node that lost its data would try to bootstrap a second
 * cluster). It lives in its own file, which the init container appends only when the node's volume holds no
 * cluster state yet, i.e. on the very first start.
 */
export function initialMasterNodesSettings(replicas: number): ElasticsearchSettings {
  return { "cluster.initial_master_nodes": statefulSetPodNames(NAMES.elasticsearch, replicas) };
}

/** elasticsearch.yml text (flat dotted keys, one per line, so a fragment can be appended to it). */
export function renderElasticsearchYml(settings: ElasticsearchSettings, header?: string): string {
  const body = yaml.dump(settings, { lineWidth: -1, noRefs: true, sortKeys: false });
  return header === undefined
    ? body
    : `${header
        .split("\n")
        .map((l) => `# ${l}`.trimEnd())
        .join("\n")}\n${body}`;
}

/**
 * The init container's script. The main container runs with a read-only root filesystem, but Elasticsearch's
 * entrypoint writes to its config directory (the keystore, where it stores the bootstrap password). So the
 * config directory is an emptyDir, filled here from the image's defaults plus the ConfigMap's elasticsearch.yml.
 */
export function elasticsearchInitScript(options: {
  readonly snapshots: boolean;
  /** Directories, for tests; defaults are the container's. */
  readonly paths?: {
    readonly image: string;
    readonly configMap: string;
    readonly target: string;
    readonly data: string;
  };
}): string {
  const p = options.paths ?? {
    image: ES_CONFIG_DIR,
    configMap: INIT_CONFIGMAP_DIR,
    target: INIT_CONFIG_DIR,
    data: ES_DATA_DIR,
  };
  const lines = [
    "#!/usr/bin/env bash",
    "# Prepares the writable config directory of one Elasticsearch node (generated by components/logging).",
    "set -euo pipefail",
    `cp -R ${p.image}/. ${p.target}/`,
    `cp ${p.configMap}/${ES_CONFIG_KEYS.settings} ${p.target}/${ES_CONFIG_KEYS.settings}`,
    "# cluster.initial_master_nodes only on the first start of this node (no cluster state on its volume yet).",
    `if [[ ! -d ${p.data}/_state ]]; then`,
    '  echo "no cluster state on this volume: this node takes part in the initial cluster bootstrap"',
    `  cat ${p.configMap}/${ES_CONFIG_KEYS.bootstrapSettings} >> ${p.target}/${ES_CONFIG_KEYS.settings}`,
    "fi",
  ];
  if (options.snapshots) {
    lines.push(
      "# repository-s3 reads the IRSA web identity token only through this link inside its config directory",
      "# (the Java security manager keeps it from reading the token's own path).",
      `mkdir -p ${p.target}/repository-s3`,
      `ln -sf ${IRSA_TOKEN_FILE} ${p.target}/repository-s3/aws-web-identity-token-file`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The readiness probe. Before a node has been ready once, it is ready when the cluster reaches `waitForStatus`:
 * with podManagementPolicy Parallel and a rolling update, the StatefulSet then restarts the next node only after
 * the shards of the previous one have recovered. After that, it is ready while the node answers, so a cluster that
 * turns yellow does not take every node out of its Services at once (Elastic's Helm chart does the same).
 * The password is passed to curl on stdin (-K -), not on its command line.
 */
export function elasticsearchReadinessScript(waitForStatus: "green" | "yellow"): string {
  return `#!/usr/bin/env bash
# Readiness of one Elasticsearch node (generated by components/logging; see elasticsearchReadinessScript).
set -uo pipefail
marker=/tmp/.es-ready-once
status() {
  printf 'user = "elastic:%s"\\n' "\${ELASTIC_PASSWORD}" |
    curl --silent --output /dev/null --write-out '%{http_code}' --max-time 5 \\
      --cacert ${ES_HTTP_CERTS_DIR}/${TLS_KEYS.ca} -K - "https://localhost:${PORTS.elasticsearchHttp}$1"
}
if [[ -f "$marker" ]]; then
  [[ "$(status '/_cluster/health?local=true')" == "200" ]]
  exit
fi
if [[ "$(status '/_cluster/health?wait_for_status=${waitForStatus}&timeout=1s')" == "200" ]]; then
  touch "$marker"
  exit 0
fi
exit 1
`;
}
