import { formats } from "./formats";
import type { ObjectReader } from "./reader";
import type { Environment, LoggingConfig } from "./types";

/** Parses `zarish-sphere-ops:logging`. */
export function readLogging(r: ObjectReader, env: Environment): LoggingConfig {
  const es = r.object("elasticsearch");
  const elasticsearch = {
    replicas: es.integer("replicas", { default: env === "prod" ? 3 : 1, min: 1, max: 9 }),
    storageSize: es.string("storageSize", { ...formats.quantity, example: "100Gi" }),
    heapSize: es.string("heapSize", { ...formats.jvmHeap, default: "2g" }),
    memoryLimit: es.string("memoryLimit", { ...formats.quantity, default: "4Gi" }),
    cpuRequest: es.string("cpuRequest", { ...formats.quantity, default: "500m" }),
    cpuLimit: es.string("cpuLimit", { ...formats.quantity, default: "2" }),
  };
  es.done();
  const logRetentionDays = r.integer("logRetentionDays", { min: 1, max: 3650, example: "30" });
  const auditRetentionDays = r.integer("auditRetentionDays", { min: 1, max: 7300, example: "2192" });
  const k = r.object("kibana");
  const kibana = {
    replicas: k.integer("replicas", { default: 1, min: 1, max: 5 }),
    host: k.string("host", { ...formats.domain, example: "kibana.zarishsphere.com" }),
  };
  k.done();
  const l = r.object("logstash");
  const logstash = {
    replicas: l.integer("replicas", { default: env === "prod" ? 2 : 1, min: 1, max: 10 }),
    queueSize: l.string("queueSize", { ...formats.logstashBytes, default: "4gb" }),
    storageSize: l.string("storageSize", { ...formats.quantity, default: "10Gi" }),
  };
  l.done();
  r.done();
  return { elasticsearch, logRetentionDays, auditRetentionDays, kibana, logstash };
}
