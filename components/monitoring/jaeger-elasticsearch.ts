import type * as k8s from "@pulumi/kubernetes";
import { type ComputeResources, endpointUrl, hardenedContainer, images, restrictedPodSecurityContext } from "../k8s";
import { type ElasticsearchClientAccess, envFromSecret, type Workload, workloadLabels } from "./common";

/** The Jaeger images run as this user. */
export const JAEGER_UID = 10001;
/** Where the Elasticsearch CA ConfigMap is mounted in every Jaeger pod that talks to Elasticsearch. */
export const ES_CA_DIR = "/etc/jaeger/elasticsearch-ca";

/**
 * Elasticsearch client settings shared by collector, query and index cleaner: Jaeger reads ES_* variables (its
 * flags with dots as underscores). TLS is verified against the logging CA, never skipped.
 */
export function elasticsearchEnv(es: ElasticsearchClientAccess): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: "ES_SERVER_URLS", value: endpointUrl(es.endpoint) },
    { name: "ES_USERNAME", value: es.username },
    envFromSecret("ES_PASSWORD", es.password),
    { name: "ES_TLS_ENABLED", value: "true" },
    { name: "ES_TLS_CA", value: `${ES_CA_DIR}/ca.crt` },
  ];
}

/** Small daily indices: one shard each, one replica so a node loss keeps the traces. */
export function indexSettings(): k8s.types.input.core.v1.EnvVar[] {
  return [
    { name: "ES_NUM_SHARDS", value: "1" },
    { name: "ES_NUM_REPLICAS", value: "1" },
  ];
}

/** The CA volume, or none when the pod does not talk to Elasticsearch. */
export function caVolume(es: ElasticsearchClientAccess | undefined): k8s.types.input.core.v1.Volume[] {
  if (es === undefined) return [];
  return [
    { name: "elasticsearch-ca", configMap: { name: es.caCert.name, items: [{ key: es.caCert.key, path: "ca.crt" }] } },
  ];
}

export interface IndexCleanerSpecArgs {
  readonly workload: Workload;
  /** UTC cron schedule. */
  readonly schedule: string;
  /** Indices older than this many days are deleted (config.monitoring.jaeger.retentionDays). */
  readonly retentionDays: number;
  readonly compute: ComputeResources;
  readonly es: ElasticsearchClientAccess;
}

/**
 * The jaeger-es-index-cleaner CronJob spec: `<retentionDays> <url>` as its two arguments, credentials and TLS as
 * for the collector. One run at a time, bounded in time, so a hung cleaner cannot pile up behind itself.
 */
export function indexCleanerSpec(a: IndexCleanerSpecArgs): k8s.types.input.batch.v1.CronJobSpec {
  const labels = workloadLabels(a.workload);
  return {
    schedule: a.schedule,
    timeZone: "Etc/UTC",
    concurrencyPolicy: "Forbid",
    successfulJobsHistoryLimit: 3,
    failedJobsHistoryLimit: 3,
    jobTemplate: {
      metadata: { labels },
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: 1800,
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "OnFailure",
            automountServiceAccountToken: false,
            securityContext: restrictedPodSecurityContext(JAEGER_UID),
            containers: [
              hardenedContainer({
                name: "index-cleaner",
                image: images.jaegerIndexCleaner,
                args: [String(a.retentionDays), endpointUrl(a.es.endpoint)],
                // The URL is an argument here, not ES_SERVER_URLS.
                env: elasticsearchEnv(a.es).filter((e) => e.name !== "ES_SERVER_URLS"),
                volumeMounts: [{ name: "elasticsearch-ca", mountPath: ES_CA_DIR, readOnly: true }],
                compute: a.compute,
                runAsUser: JAEGER_UID,
              }),
            ],
            volumes: caVolume(a.es),
          },
        },
      },
    },
  };
}
