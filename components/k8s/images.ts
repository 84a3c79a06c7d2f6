/**
 * Every container image the platform runs, pinned to an exact version in one place, so that an upgrade is one
 * reviewed line and the policy pack can refuse anything unpinned. Digests are not recorded: this repository is
 * built without registry access, and a digest copied from memory would be worse than none. Add `@sha256:...`
 * here when promoting a version (the policy pack accepts tag, digest or both).
 */
export const images = {
  prometheus: "quay.io/prometheus/prometheus:v2.53.3",
  alertmanager: "quay.io/prometheus/alertmanager:v0.27.0",
  nodeExporter: "quay.io/prometheus/node-exporter:v1.8.2",
  kubeStateMetrics: "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.13.0",
  configReloader: "ghcr.io/jimmidyson/configmap-reload:v0.14.0",
  grafana: "docker.io/grafana/grafana:11.3.0",
  jaegerAllInOne: "docker.io/jaegertracing/all-in-one:1.62.0",
  jaegerCollector: "docker.io/jaegertracing/jaeger-collector:1.62.0",
  jaegerQuery: "docker.io/jaegertracing/jaeger-query:1.62.0",
  jaegerIndexCleaner: "docker.io/jaegertracing/jaeger-es-index-cleaner:1.62.0",
  postgresExporter: "quay.io/prometheuscommunity/postgres-exporter:v0.15.0",
  redisExporter: "docker.io/oliver006/redis_exporter:v1.66.0",
  // The seed runs elasticsearch 8.8.0; the same 8.x line, moved to a release with current security fixes.
  elasticsearch: "docker.elastic.co/elasticsearch/elasticsearch:8.15.3",
  kibana: "docker.elastic.co/kibana/kibana:8.15.3",
  logstash: "docker.elastic.co/logstash/logstash:8.15.3",
  filebeat: "docker.elastic.co/beats/filebeat:8.15.3",
  elasticsearchExporter: "quay.io/prometheuscommunity/elasticsearch-exporter:v1.8.0",
  falco: "docker.io/falcosecurity/falco-no-driver:0.39.1",
  falcosidekick: "docker.io/falcosecurity/falcosidekick:2.29.0",
  // Backup jobs: the client tools of PostgreSQL 16 (pg_dump must be at least the server's major version), with
  // the pg_dump/psql fixes of August 2025 (CVE-2025-8714, CVE-2025-8715).
  postgres: "docker.io/library/postgres:16.10-bookworm",
  // Carrier of the self-contained AWS CLI v2 that the backup jobs copy into their postgres container.
  awsCli: "docker.io/amazon/aws-cli:2.18.0",
  // Carrier of the kubectl binary for the object backup. It must have a shell and `cp`: registry.k8s.io/kubectl is
  // distroless, and Bitnami's versioned tags left docker.io/bitnami in 2025.
  kubectl: "docker.io/alpine/k8s:1.31.1",
  curl: "docker.io/curlimages/curl:8.10.1",
} as const;

export type ImageName = keyof typeof images;

/** Helm charts the program may install, pinned like images. */
export const charts = {
  certManager: { chart: "cert-manager", version: "v1.16.1", repo: "https://charts.jetstack.io" },
} as const;
