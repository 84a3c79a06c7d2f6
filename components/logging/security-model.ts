import { INDICES, USERS } from "./names";

/**
 * The cluster's roles and users, least privilege per client. The `elastic` superuser is used only by the
 * bootstrap Job and the readiness probe; every workload has its own user, so a leaked password opens one door.
 */

export interface RoleBody {
  readonly cluster: readonly string[];
  readonly indices: readonly { readonly names: readonly string[]; readonly privileges: readonly string[] }[];
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** What a client outside the stack may do. */
export type ElasticsearchClientAccess = "logs-reader" | "jaeger-writer";

export const ROLE_NAMES = {
  logstashWriter: "logstash_writer",
  exporter: "zarish_metrics_exporter",
  "logs-reader": "zarish_logs_reader",
  "jaeger-writer": "zarish_jaeger_writer",
} as const;

const meta = (description: string) => ({ managed_by: "zarish-sphere-ops", description });

export const ROLES: Readonly<Record<string, RoleBody>> = {
  // Logstash only appends: create_doc (no update, no delete, no overwrite of an existing audit document) and
  // create_index for the daily indices. Templates and ILM are the bootstrap Job's, so no manage_* privilege.
  [ROLE_NAMES.logstashWriter]: {
    cluster: ["monitor"],
    indices: [
      {
        names: [`${INDICES.applicationPrefix}*`, `${INDICES.auditPrefix}*`],
        privileges: ["create_doc", "create_index"],
      },
    ],
    metadata: meta("Logstash: appends to the application and audit indices"),
  },
  // What the Prometheus exporter reads (its README): cluster and index stats, snapshot status.
  [ROLE_NAMES.exporter]: {
    cluster: ["monitor", "monitor_snapshot"],
    indices: [{ names: ["*"], privileges: ["monitor", "view_index_metadata"] }],
    metadata: meta("elasticsearch-exporter: cluster, node, index and snapshot statistics"),
  },
  // Dashboards (Grafana) read application logs. Not the audit trail: who looked at which patient is itself
  // sensitive, and is read in Kibana by people with a named account.
  [ROLE_NAMES["logs-reader"]]: {
    cluster: ["monitor"],
    indices: [{ names: [`${INDICES.applicationPrefix}*`], privileges: ["read", "view_index_metadata"] }],
    metadata: meta("Read-only access to the application log indices"),
  },
  // Jaeger's Elasticsearch storage: it creates its own templates and daily indices, and its index cleaner
  // deletes old ones; confined to the jaeger-* indices.
  [ROLE_NAMES["jaeger-writer"]]: {
    cluster: ["monitor", "manage_index_templates", "manage_ilm"],
    indices: [
      {
        names: ["jaeger-*"],
        privileges: ["create_index", "delete_index", "write", "read", "view_index_metadata", "manage"],
      },
    ],
    metadata: meta("Jaeger span storage: owns the jaeger-* indices"),
  },
};

export interface UserSpec {
  readonly username: string;
  readonly roles: readonly string[];
  readonly fullName: string;
  /** Environment variable of the bootstrap Job holding the password (from a Secret). */
  readonly passwordEnv: string;
}

/** Environment variable name for a user's password in the bootstrap Job. */
export function passwordEnvFor(username: string): string {
  return `PASSWORD_${username.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/** The platform's own users (clients outside the stack are added by clientUser). */
export function platformUsers(): UserSpec[] {
  return [
    {
      username: USERS.logstashWriter,
      roles: [ROLE_NAMES.logstashWriter],
      fullName: "Logstash",
      passwordEnv: passwordEnvFor(USERS.logstashWriter),
    },
    {
      username: USERS.exporter,
      roles: [ROLE_NAMES.exporter],
      fullName: "Prometheus elasticsearch-exporter",
      passwordEnv: passwordEnvFor(USERS.exporter),
    },
  ];
}

export function clientUser(username: string, access: ElasticsearchClientAccess): UserSpec {
  return {
    username,
    roles: [ROLE_NAMES[access]],
    fullName: `Platform client ${username}`,
    passwordEnv: passwordEnvFor(username),
  };
}

/** Names no client user may take: built-in users and the platform's own. */
export const RESERVED_USERNAMES: readonly string[] = [
  ...Object.values(USERS),
  "apm_system",
  "beats_system",
  "logstash_system",
  "remote_monitoring_user",
  "kibana",
];
