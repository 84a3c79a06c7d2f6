import { INDICES } from "./names";

/**
 * Index lifecycle (ILM) policies and composable index templates for the two index families, as typed request
 * bodies. The bootstrap Job PUTs them as they are built here; tests assert on them directly.
 *
 * Both families are daily indices without rollover (the seed's names are date-stamped), so ILM's min_age counts
 * from the index creation day: "delete after N days" is a delete phase with min_age Nd.
 */

/** Who owns these objects in the cluster; written into every `_meta` and checked before overwriting. */
export const MANAGED_BY = "zarish-sphere-ops";
/** HIPAA (45 CFR 164.316(b)(2)(i)) keeps required documentation six years; the audit trail is kept as long. */
export const AUDIT_MIN_RETENTION_DAYS_PROD = 2192;
/** Bump when a template's shape changes, so the cluster shows which revision it holds. */
export const TEMPLATE_VERSION = 1;

export const LIFECYCLE_NAMES = {
  applicationPolicy: "zarish-sphere-logs",
  auditPolicy: "zarish-audit-retention",
  applicationTemplate: "zarish-sphere-logs",
  auditTemplate: "zarish-audit",
} as const;

export interface IlmPhase {
  readonly min_age: string;
  readonly actions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface IlmPolicyBody {
  readonly policy: {
    readonly _meta: Readonly<Record<string, unknown>>;
    readonly phases: Readonly<Record<"hot" | "warm" | "delete", IlmPhase | undefined>>;
  };
}

export interface IndexTemplateBody {
  readonly index_patterns: readonly string[];
  readonly priority: number;
  readonly version: number;
  readonly _meta: Readonly<Record<string, unknown>>;
  readonly template: {
    readonly settings: Readonly<Record<string, unknown>>;
    readonly mappings: Readonly<Record<string, unknown>>;
  };
}

/** Application logs: kept `retentionDays` days, then deleted. */
export function applicationLogPolicy(retentionDays: number): IlmPolicyBody {
  return {
    policy: {
      _meta: {
        managed_by: MANAGED_BY,
        description: "Daily zarish-sphere-* application log indices",
        retention_days: retentionDays,
      },
      phases: {
        hot: { min_age: "0ms", actions: { set_priority: { priority: 100 } } },
        warm: undefined,
        delete: { min_age: `${retentionDays}d`, actions: { delete: {} } },
      },
    },
  };
}

/**
 * The audit trail: after a week an index is made read-only (late events for it go to Logstash's dead letter
 * queue, none is lost) and merged down; it is deleted only after `retentionDays`.
 */
export function auditLogPolicy(retentionDays: number): IlmPolicyBody {
  return {
    policy: {
      _meta: {
        managed_by: MANAGED_BY,
        description: "Daily zarish-audit-* indices of the AuditLogger: the HIPAA audit trail",
        retention_days: retentionDays,
        protected: true,
      },
      phases: {
        hot: { min_age: "0ms", actions: { set_priority: { priority: 100 } } },
        warm: {
          min_age: "7d",
          actions: { readonly: {}, forcemerge: { max_num_segments: 1 }, set_priority: { priority: 50 } },
        },
        delete: { min_age: `${retentionDays}d`, actions: { delete: {} } },
      },
    },
  };
}

/** The JSON ILM accepts: phases left undefined are omitted. */
export function ilmRequestBody(body: IlmPolicyBody): Record<string, unknown> {
  const phases = Object.fromEntries(Object.entries(body.policy.phases).filter(([, phase]) => phase !== undefined));
  return { policy: { _meta: body.policy._meta, phases } };
}

/** Replicas the cluster can hold: one copy per other node, capped. A one-node cluster gets none (else yellow). */
export function replicasFor(nodes: number, cap: number): number {
  return Math.max(0, Math.min(cap, nodes - 1));
}

const keyword = { type: "keyword" } as const;
const shipperFields = {
  fields: { properties: { service: keyword, environment: keyword, log_type: keyword } },
  service: keyword,
  environment: keyword,
  tags: keyword,
};

export function applicationIndexTemplate(input: {
  readonly nodes: number;
  readonly retentionDays: number;
}): IndexTemplateBody {
  return {
    index_patterns: [`${INDICES.applicationPrefix}*`],
    priority: 200,
    version: TEMPLATE_VERSION,
    _meta: {
      managed_by: MANAGED_BY,
      description: "Application logs shipped by Filebeat through Logstash",
      retention_days: input.retentionDays,
    },
    template: {
      settings: {
        "index.lifecycle.name": LIFECYCLE_NAMES.applicationPolicy,
        "index.number_of_shards": 1,
        "index.number_of_replicas": replicasFor(input.nodes, 1),
        // JSON-parsed application logs bring their own fields; bound the mapping rather than fail on growth.
        "index.mapping.total_fields.limit": 2000,
      },
      mappings: { properties: { "@timestamp": { type: "date" }, ...shipperFields } },
    },
  };
}

/**
 * The audit template. Its `_meta` marks it as owned and protected: the bootstrap Job refuses to overwrite a
 * template of this name that another owner wrote, and verifies after writing that a new audit index resolves to
 * the audit retention policy (no higher-priority template overrides it). No other user of the cluster has the
 * manage_index_templates privilege (see security-model.ts), so only the `elastic` superuser could change it.
 */
export function auditIndexTemplate(input: {
  readonly nodes: number;
  readonly retentionDays: number;
}): IndexTemplateBody {
  return {
    index_patterns: [`${INDICES.auditPrefix}*`],
    // Above the application template and anything a product installs by default (Elastic's own use 100-200).
    priority: 500,
    version: TEMPLATE_VERSION,
    _meta: {
      managed_by: MANAGED_BY,
      description: "HIPAA audit trail written by the AuditLogger; do not modify outside zarish-sphere-ops",
      retention_days: input.retentionDays,
      protected: true,
    },
    template: {
      settings: {
        "index.lifecycle.name": LIFECYCLE_NAMES.auditPolicy,
        "index.number_of_shards": 1,
        // The audit trail is kept on every node of a 3-node cluster.
        "index.number_of_replicas": replicasFor(input.nodes, 2),
      },
      mappings: {
        // The AuditLogger's fields, typed; anything else the shipper adds is still mapped dynamically.
        properties: {
          "@timestamp": { type: "date" },
          timestamp: { type: "date" },
          event: keyword,
          user: keyword,
          resource: keyword,
          action: keyword,
          // Free-form (changes, before/after): one field in the mapping however many keys it has.
          details: { type: "flattened" },
          // A malformed address must not cost the event: it is kept in _source, only not indexed as an IP.
          ipAddress: { type: "ip", ignore_malformed: true },
          userAgent: { type: "keyword", ignore_above: 1024 },
          facility: keyword,
          sessionId: keyword,
          log_type: keyword,
          // The original line, kept as evidence but not searchable (the parsed fields are).
          message: { type: "text", index: false },
          ...shipperFields,
        },
      },
    },
  };
}
