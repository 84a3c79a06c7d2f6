/**
 * Scrape job names: the `job` label of every series, shared by prometheus.yml, the alert rules and the
 * dashboards so that a renamed job cannot silently empty an alert.
 */
export const JOBS = {
  /** The seed's application jobs, unchanged so existing queries keep working. */
  api: "zarish-sphere-api",
  fhir: "zarish-sphere-fhir",
  postgresExporter: "postgres-exporter",
  redisExporter: "redis-exporter",
  elasticsearchExporter: "elasticsearch-exporter",
  kubeStateMetrics: "kube-state-metrics",
  nodeExporter: "node-exporter",
  certManager: "cert-manager",
  alertmanager: "alertmanager",
  prometheus: "prometheus",
  kubernetesPods: "kubernetes-pods",
  kubernetesApiservers: "kubernetes-apiservers",
  kubernetesNodes: "kubernetes-nodes",
  kubernetesCadvisor: "kubernetes-cadvisor",
} as const;

/**
 * Filesystems that are not disks: memory-backed, container layers and read-only images. Alerting on them is
 * noise (a tmpfs at 95% is normal and an overlay's size is the node's root disk, already counted).
 */
export const NON_DISK_FSTYPES = "tmpfs|ramfs|overlay|squashfs|nsfs|iso9660|fuse.lxcfs";
