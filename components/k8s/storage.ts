import type * as k8s from "@pulumi/kubernetes";

/**
 * The per-pod data volume of a StatefulSet (Prometheus, Alertmanager, Elasticsearch, Logstash): one ReadWriteOnce
 * claim per replica from the environment's StorageClass, carrying the workload's labels.
 */
export function dataVolumeClaimTemplate(
  labels: Record<string, string>,
  storageClass: string,
  size: string,
): k8s.types.input.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name: "data", labels },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: storageClass,
      resources: { requests: { storage: size } },
    },
  };
}
