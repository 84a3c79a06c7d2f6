import { formats } from "./formats";
import type { ObjectReader } from "./reader";
import type { AlertingConfig, Environment, MonitoringConfig } from "./types";

/** Parses `zarish-sphere-ops:monitoring` (secrets are added by the caller). */
export function readMonitoring(r: ObjectReader, env: Environment): Omit<MonitoringConfig, "secrets"> {
  const p = r.object("prometheus");
  const prometheus = {
    replicas: p.integer("replicas", { default: env === "prod" ? 2 : 1, min: 1, max: 5 }),
    storageSize: p.string("storageSize", { ...formats.quantity, example: "100Gi" }),
    retentionTime: p.string("retentionTime", { ...formats.promDuration, example: "30d" }),
    retentionSize: p.string("retentionSize", { ...formats.promSize, example: "90GB" }),
  };
  p.done();
  const a = r.object("alertmanager");
  const alertmanager = {
    replicas: a.integer("replicas", { default: env === "prod" ? 3 : 1, min: 1, max: 5 }),
    storageSize: a.string("storageSize", { ...formats.quantity, default: "5Gi" }),
  };
  a.done();
  const g = r.object("grafana");
  const grafana = {
    host: g.string("host", { ...formats.domain, example: "grafana.zarishsphere.com" }),
    storageSize: g.string("storageSize", { ...formats.quantity, default: "10Gi" }),
  };
  g.done();
  const j = r.object("jaeger");
  const jaeger = {
    mode: j.string("mode", {
      oneOf: ["all-in-one", "production"],
      default: env === "prod" ? "production" : "all-in-one",
    }) as "all-in-one" | "production",
    retentionDays: j.integer("retentionDays", { default: 7, min: 1, max: 90 }),
  };
  j.done();
  const alerting = readAlerting(r.object("alerting"));
  const e = r.object("exporters");
  const exporters = {
    postgresAddress: e.string("postgresAddress", { ...formats.hostPort, example: "postgres.zarish-data.svc:5432" }),
    postgresUser: e.string("postgresUser", {
      default: "postgres_exporter",
      pattern: /^[a-z_][a-z0-9_]{0,62}$/,
      describe: "a PostgreSQL role name",
    }),
    redisAddress: e.string("redisAddress", { ...formats.redisUrl, example: "redis://redis.zarish-data.svc:6379" }),
  };
  e.done();
  r.done();
  return { prometheus, alertmanager, grafana, jaeger, alerting, exporters };
}

function readAlerting(r: ObjectReader): AlertingConfig {
  const alerting = {
    emailTo: r.stringList("emailTo", { ...formats.email, example: "[oncall@zarishsphere.com]" }),
    emailFrom: r.string("emailFrom", { ...formats.email, example: "alertmanager@zarishsphere.com" }),
    smarthost: r.string("smarthost", { ...formats.hostPort, example: "email-smtp.us-east-1.amazonaws.com:587" }),
    smtpUsername: r.string("smtpUsername", { example: "AKIAEXAMPLE" }),
    slackChannel: r.string("slackChannel", { ...formats.slackChannel, example: "#zarish-alerts" }),
    smsEmailTo: r.stringList("smsEmailTo", { ...formats.email, example: "[oncall-sms@sms.example.org]" }),
  };
  r.done();
  return alerting;
}
