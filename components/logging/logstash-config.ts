import * as yaml from "js-yaml";
import { INDICES, PIPELINES, PORTS, TLS_KEYS, USERS } from "./names";

/**
 * The Logstash pipelines as typed data, rendered to Logstash's configuration language, plus pipelines.yml and
 * logstash.yml.
 *
 * Design (two pipelines, one Beats port):
 * - `zarish-sphere` is the seed's pipeline: the Beats input on 5044, the seed's filter for zarish-sphere-api
 *   events, and the output to the daily zarish-sphere-YYYY.MM.dd indices. Its output also routes audit events,
 *   pipeline-to-pipeline, to the second pipeline (Filebeat can send to one output only, so both share the port).
 * - `zarish-audit` receives the AuditLogger's entries and writes them to the daily zarish-audit-YYYY-MM-DD indices.
 *
 * Which events are audit events: the seed's AuditLogger wrote to Elasticsearch directly; on this platform the
 * services write each audit entry as one JSON line on stdout with `"log_type":"audit"` next to the AuditLogger's
 * fields (event, user, resource, action, details, ipAddress, userAgent, facility, sessionId, timestamp), so audit
 * entries travel through the same durable path as every log line. Filebeat marks such lines with
 * `fields.log_type: audit` (filebeat-config.ts); for zarish-sphere-api lines the seed's json filter has already
 * parsed `log_type`, which is accepted as well.
 *
 * Durability: both pipelines use a persisted queue on the StatefulSet's volume (a slow or unavailable
 * Elasticsearch fills the queue instead of dropping events; when it is full, Beats back-pressure stops Filebeat,
 * which resumes from its registry) and a dead letter queue for documents Elasticsearch rejects (a mapping
 * conflict, a late event for a read-only audit index), so nothing is silently dropped.
 */

export type LsValue = string | number | boolean | readonly LsValue[] | { readonly [key: string]: LsValue };

export interface LsPlugin {
  readonly plugin: string;
  readonly settings?: Readonly<Record<string, LsValue>>;
}

export interface LsConditional {
  /** The condition, in Logstash's expression syntax, e.g. `[fields][service] == "api"`. */
  readonly if: string;
  readonly statements: readonly LsStatement[];
  readonly else?: readonly LsStatement[];
}

export type LsStatement = LsPlugin | LsConditional;

export interface LsPipeline {
  readonly input: readonly LsStatement[];
  readonly filter: readonly LsStatement[];
  readonly output: readonly LsStatement[];
}

function renderString(value: string): string {
  // Logstash strings have no escapes by default (config.support_escapes is off): choose the quote that is absent.
  if (!value.includes('"')) return `"${value}"`;
  if (!value.includes("'")) return `'${value}'`;
  throw new Error(`Logstash string cannot hold both quote characters: ${value}`);
}

function renderValue(value: LsValue, indent: string): string {
  if (typeof value === "string") return renderString(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `[${value.map((v) => renderValue(v, indent)).join(", ")}]`;
  const entries = Object.entries(value as Record<string, LsValue>);
  if (entries.length === 0) return "{}";
  const inner = `${indent}  `;
  return `{\n${entries.map(([k, v]) => `${inner}${renderString(k)} => ${renderValue(v, inner)}`).join("\n")}\n${indent}}`;
}

function renderStatements(statements: readonly LsStatement[], indent: string): string[] {
  const lines: string[] = [];
  for (const statement of statements) {
    if ("if" in statement) {
      lines.push(`${indent}if ${statement.if} {`, ...renderStatements(statement.statements, `${indent}  `));
      if (statement.else !== undefined)
        lines.push(`${indent}} else {`, ...renderStatements(statement.else, `${indent}  `));
      lines.push(`${indent}}`);
      continue;
    }
    const settings = Object.entries(statement.settings ?? {});
    if (settings.length === 0) {
      lines.push(`${indent}${statement.plugin} {}`);
      continue;
    }
    lines.push(`${indent}${statement.plugin} {`);
    for (const [key, value] of settings) lines.push(`${indent}  ${key} => ${renderValue(value, `${indent}  `)}`);
    lines.push(`${indent}}`);
  }
  return lines;
}

/** The pipeline in Logstash's configuration language. */
export function renderPipeline(pipeline: LsPipeline, header: string): string {
  const sections = (["input", "filter", "output"] as const).map((section) =>
    [`${section} {`, ...renderStatements(pipeline[section], "  "), "}"].join("\n"),
  );
  const comment = header
    .split("\n")
    .map((l) => `# ${l}`.trimEnd())
    .join("\n");
  return `${comment}\n\n${sections.join("\n\n")}\n`;
}

/** Paths inside the Logstash container. */
export const LOGSTASH_HOME = "/usr/share/logstash";
export const LOGSTASH_PIPELINE_DIR = `${LOGSTASH_HOME}/pipeline`;
export const LOGSTASH_DATA_DIR = `${LOGSTASH_HOME}/data`;
export const LOGSTASH_CONFIG_DIR = `${LOGSTASH_HOME}/config`;
/** The Elasticsearch CA, for the elasticsearch outputs. */
export const LOGSTASH_ES_CA_DIR = `${LOGSTASH_HOME}/certs/elasticsearch`;
export const LOGSTASH_ES_CA_FILE = `${LOGSTASH_ES_CA_DIR}/${TLS_KEYS.ca}`;
/** Logstash's own Beats certificate and key (PKCS#8, which the Beats input requires). */
export const LOGSTASH_BEATS_CERTS_DIR = `${LOGSTASH_HOME}/certs/beats`;
/** Environment variable of the logstash_writer password (Logstash expands ${VAR} in pipeline files). */
export const LOGSTASH_PASSWORD_ENV = "LOGSTASH_WRITER_PASSWORD";

export const PIPELINE_FILES = {
  [PIPELINES.application]: `${PIPELINES.application}.conf`,
  [PIPELINES.audit]: `${PIPELINES.audit}.conf`,
} as const;

export interface PipelineInput {
  /** https://host:port of the Elasticsearch client Service. */
  readonly elasticsearchUrl: string;
  /** Services whose audit entries are trusted as such; others are stored but tagged audit_untrusted_source. */
  readonly auditSources: readonly string[];
}

/** The service whose logs the seed's filter parses. */
export const SEED_SERVICE = "zarish-sphere-api";

/** The elasticsearch output both pipelines share, apart from index and action details. */
function elasticsearchOutput(url: string, extra: Record<string, LsValue>): LsPlugin {
  return {
    plugin: "elasticsearch",
    settings: {
      hosts: [url],
      ...extra,
      user: USERS.logstashWriter,
      password: `\${${LOGSTASH_PASSWORD_ENV}}`,
      ssl_enabled: true,
      ssl_certificate_authorities: [LOGSTASH_ES_CA_FILE],
      ssl_verification_mode: "full",
      // Templates and ILM are applied by the bootstrap Job, not by Logstash (its user may not manage them).
      manage_template: false,
      ilm_enabled: "false",
      data_stream: "false",
    },
  };
}

/** The seed's pipeline, with the audit routing added to its output. */
export function applicationPipeline(input: PipelineInput): LsPipeline {
  return {
    input: [
      {
        plugin: "beats",
        settings: {
          port: PORTS.beats,
          // Log lines carry patient-related data: encrypted in transit from every node.
          ssl_enabled: true,
          ssl_certificate: `${LOGSTASH_BEATS_CERTS_DIR}/${TLS_KEYS.cert}`,
          ssl_key: `${LOGSTASH_BEATS_CERTS_DIR}/${TLS_KEYS.key}`,
        },
      },
    ],
    filter: [
      {
        if: `[fields][service] == "${SEED_SERVICE}"`,
        statements: [
          { plugin: "json", settings: { source: "message" } },
          { plugin: "date", settings: { match: ["timestamp", "ISO8601"] } },
          // The seed lists add_field twice in one mutate; one hash with both fields is the same and is not
          // rejected as a duplicate setting.
          {
            plugin: "mutate",
            settings: { add_field: { service: SEED_SERVICE, environment: "%{[fields][environment]}" } },
          },
        ],
      },
    ],
    output: [
      {
        if: '[fields][log_type] == "audit" or [log_type] == "audit"',
        statements: [{ plugin: "pipeline", settings: { send_to: [PIPELINES.audit] } }],
        // The seed's daily index. %{+...} formats @timestamp (UTC) with Joda-Time patterns.
        else: [elasticsearchOutput(input.elasticsearchUrl, { index: `${INDICES.applicationPrefix}%{+YYYY.MM.dd}` })],
      },
    ],
  };
}

/** The audit pipeline: parse, check, deduplicate, append to the daily audit index. */
export function auditPipeline(input: PipelineInput): LsPipeline {
  const trusted = `[${input.auditSources.map((s) => renderString(s)).join(", ")}]`;
  return {
    input: [{ plugin: "pipeline", settings: { address: PIPELINES.audit } }],
    filter: [
      // zarish-sphere-api entries were parsed by the seed's filter already; entries of other services are not.
      {
        if: `[fields][service] != "${SEED_SERVICE}"`,
        statements: [{ plugin: "json", settings: { source: "message" } }],
      },
      { plugin: "date", settings: { match: ["timestamp", "ISO8601"] } },
      {
        if: "![event] or ![user] or ![action] or ![resource]",
        statements: [{ plugin: "mutate", settings: { add_tag: ["audit_incomplete"] } }],
      },
      {
        if: `[fields][service] not in ${trusted}`,
        statements: [{ plugin: "mutate", settings: { add_tag: ["audit_untrusted_source"] } }],
      },
      // Delivery is at-least-once (Filebeat re-reads after a restart, Logstash replays its queue after a crash):
      // a hash of the original line is the document id, so a replayed entry is refused by `create` (409) instead
      // of stored twice.
      {
        plugin: "fingerprint",
        settings: { source: ["message"], method: "SHA256", target: "[@metadata][fingerprint]" },
      },
    ],
    output: [
      elasticsearchOutput(input.elasticsearchUrl, {
        // The AuditLogger's index name: zarish-audit-YYYY-MM-DD (ISO date of the entry, UTC). Joda-Time pattern.
        index: `${INDICES.auditPrefix}%{+YYYY-MM-dd}`,
        action: "create",
        document_id: "%{[@metadata][fingerprint]}",
      }),
    ],
  };
}

export interface LogstashSettingsInput {
  /** queue.max_bytes of each pipeline, Logstash notation ("1024mb"). */
  readonly queueMaxBytes: string;
  /** dead_letter_queue.max_bytes of each pipeline. */
  readonly deadLetterQueueMaxBytes: string;
  readonly workers: number;
}

/** pipelines.yml: both pipelines with persisted and dead letter queues. */
export function pipelinesYml(input: LogstashSettingsInput): string {
  const common = {
    "queue.type": "persisted",
    "queue.max_bytes": input.queueMaxBytes,
    "dead_letter_queue.enable": true,
    "dead_letter_queue.max_bytes": input.deadLetterQueueMaxBytes,
  };
  const pipelines = [
    {
      "pipeline.id": PIPELINES.application,
      "path.config": `${LOGSTASH_PIPELINE_DIR}/${PIPELINE_FILES[PIPELINES.application]}`,
      "pipeline.workers": input.workers,
      ...common,
    },
    {
      "pipeline.id": PIPELINES.audit,
      "path.config": `${LOGSTASH_PIPELINE_DIR}/${PIPELINE_FILES[PIPELINES.audit]}`,
      "pipeline.workers": input.workers,
      // The AuditLogger's `event` is a string; ECS mode would treat `event` as an object. Keep its fields as-is.
      "pipeline.ecs_compatibility": "disabled",
      ...common,
    },
  ];
  return `# Generated by components/logging (logstash-config.ts).\n${yaml.dump(pipelines, { lineWidth: -1 })}`;
}

/** logstash.yml: replaces the image's, which points monitoring at http://elasticsearch:9200. */
export function logstashYml(): string {
  const settings = {
    "api.http.host": "0.0.0.0",
    "api.http.port": PORTS.logstashApi,
    "path.data": LOGSTASH_DATA_DIR,
    // Legacy self-monitoring would need its own user; metrics come from the Logstash API and the exporter.
    "xpack.monitoring.enabled": false,
    "log.format": "json",
  };
  return `# Generated by components/logging (logstash-config.ts).\n${yaml.dump(settings, { lineWidth: -1 })}`;
}

/** Every file of the pipelines ConfigMap. */
export function pipelineFiles(input: PipelineInput): Record<string, string> {
  return {
    [PIPELINE_FILES[PIPELINES.application]]: renderPipeline(
      applicationPipeline(input),
      "The seed's pipeline (beats 5044 -> zarish-sphere-YYYY.MM.dd), with audit events routed to zarish-audit.\nGenerated by components/logging (logstash-config.ts).",
    ),
    [PIPELINE_FILES[PIPELINES.audit]]: renderPipeline(
      auditPipeline(input),
      "The AuditLogger's entries -> zarish-audit-YYYY-MM-DD.\nGenerated by components/logging (logstash-config.ts).",
    ),
  };
}
