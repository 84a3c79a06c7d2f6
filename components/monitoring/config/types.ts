/**
 * Alert rules as typed data. Every rule becomes one Prometheus alerting rule with the labels and annotations the
 * on-call engineer and Alertmanager rely on, so nothing about an alert lives only in YAML.
 */

/**
 * The severities the rules use. The seed's incident policy has four levels (critical, high, medium, low); the
 * rules use the three names the Prometheus ecosystem uses, mapped as critical = critical, high = warning,
 * medium and low = info. Alertmanager still routes high/medium/low for alerts that come from other sources.
 */
export type Severity = "critical" | "warning" | "info";

/**
 * Names of the inhibition groups. Alerts of one group describe one symptom at two strengths (a certificate
 * expiring in 30 days and in 7 days); while the critical one fires, Alertmanager silences the warning one with
 * the same `equal` labels, so the on-call engineer gets one page, not two.
 */
export type InhibitGroupName =
  | "http-slo"
  | "authentication"
  | "filesystem"
  | "certificate-expiry"
  | "database-backup"
  | "restore-verification"
  | "elasticsearch-health"
  | "service-availability";

export interface InhibitGroup {
  readonly name: InhibitGroupName;
  /** Labels that must be equal on the critical and the warning alert (missing on both counts as equal). */
  readonly equal: readonly string[];
}

export interface AlertRule {
  /** The alertname; also names the runbook, docs/runbooks/<name>.md. */
  readonly name: string;
  /** PromQL; true (non-empty) while the problem exists. */
  readonly expr: string;
  /** How long the expression must hold before the alert fires (Prometheus duration); omitted fires at once. */
  readonly for?: string;
  readonly severity: Severity;
  /** One line, the notification title. May use {{ $labels.x }}. */
  readonly summary: string;
  /** What is wrong and with what value; may use {{ $labels.x }} and {{ $value }}. */
  readonly description: string;
  /** Set when a critical alert of the same group makes this one redundant (or this one silences others). */
  readonly inhibitGroup?: InhibitGroupName;
}

export interface RuleGroup {
  /** Prometheus rule group name (unique across files). */
  readonly name: string;
  readonly rules: readonly AlertRule[];
}

/** One rule file: its file name in the rules ConfigMap and the groups it holds. */
export interface RuleFile {
  /** e.g. "application.rules.yml"; matches the rule_files glob of prometheus.yml. */
  readonly file: string;
  readonly groups: readonly RuleGroup[];
}
