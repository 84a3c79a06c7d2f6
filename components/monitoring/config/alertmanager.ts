import type { AlertingConfig } from "../../../config/types";
import { INHIBIT_GROUP_LABEL, INHIBIT_GROUPS } from "./rules";
import { toYaml } from "./yaml";

/**
 * Keys of the Kubernetes Secret the Alertmanager workload mounts at `secretsDir`: each file holds one credential,
 * which alertmanager.yml names by path (slack api_url_file, pagerduty routing_key_file, smtp_auth_password_file),
 * so the rendered configuration, and the ConfigMap holding it, contain no secret.
 * All three `_file` fields exist in Alertmanager 0.25 (amtool here) and 0.27 (the image).
 */
export const ALERTMANAGER_SECRET_KEYS = {
  slackWebhookUrl: "slack-webhook-url",
  pagerDutyRoutingKey: "pagerduty-routing-key",
  smtpPassword: "smtp-password",
} as const;

export const DEFAULT_ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets";

/** Receiver names: one per channel of the seed's incident policy, so routing tests name channels. */
export const RECEIVERS = { pager: "pager", sms: "sms", slack: "slack", email: "email" } as const;

export interface AlertmanagerConfigArgs {
  /** Addresses, relay and Slack channel (config.monitoring.alerting). */
  readonly alerting: AlertingConfig;
  /** Directory where the receiver-credentials Secret is mounted. Default: DEFAULT_ALERTMANAGER_SECRETS_DIR. */
  readonly secretsDir?: string;
}

/**
 * The seed's incident-response policy as routes. Severity names: the rules emit critical / warning / info; the
 * policy's high, medium and low are accepted too (alerts may come from other senders) and mapped as
 * high = warning and low = info, medium keeping its own 4-hour repeat.
 *
 * | policy   | channels                     | response / escalation | repeat_interval |
 * | critical | pager, sms, slack, email     | 15 min / 30 min       | 30m             |
 * | high     | slack, email (+ warning)     | 30 min / 1 h          | 1h              |
 * | medium   | email                        | 2 h / 4 h             | 4h              |
 * | low      | email (+ info)               | 24 h / 72 h           | 24h             |
 *
 * The repeat interval is the escalation time: an alert still firing when escalation is due is sent again to
 * every channel of its severity. Each channel is its own receiver, reached through `continue: true` sibling
 * routes, so `amtool config routes test` lists exactly the channels a severity reaches.
 */
export function renderAlertmanagerConfig(args: AlertmanagerConfigArgs): string {
  const a = args.alerting;
  const dir = (args.secretsDir ?? DEFAULT_ALERTMANAGER_SECRETS_DIR).replace(/\/+$/, "");
  const problems: string[] = [];
  const email = /^[^\s@,]+@[^\s@,]+$/;
  if (a.emailTo.length === 0) problems.push("alerting.emailTo must name at least one address");
  for (const to of [...a.emailTo, ...a.smsEmailTo, a.emailFrom]) {
    if (!email.test(to)) problems.push(`alerting e-mail address "${to}" is not an e-mail address`);
  }
  if (!/^[^\s:]+:\d+$/.test(a.smarthost)) problems.push(`alerting.smarthost must be host:port (got "${a.smarthost}")`);
  if (a.slackChannel.trim() === "") problems.push("alerting.slackChannel must not be empty");
  if (!dir.startsWith("/")) problems.push(`secretsDir must be an absolute path (got "${dir}")`);
  if (problems.length > 0) throw new Error(`alertmanager.yml: ${problems.join("; ")}`);

  const file = (key: keyof typeof ALERTMANAGER_SECRET_KEYS) => `${dir}/${ALERTMANAGER_SECRET_KEYS[key]}`;
  const subject = "[{{ .Status | toUpper }}] {{ .CommonLabels.severity }}: {{ .CommonLabels.alertname }}";
  const hasSms = a.smsEmailTo.length > 0;

  const receivers = [
    {
      name: RECEIVERS.pager,
      pagerduty_configs: [
        {
          routing_key_file: file("pagerDutyRoutingKey"),
          send_resolved: true,
          severity: "{{ .CommonLabels.severity }}",
          links: [{ href: "{{ .CommonAnnotations.runbook_url }}", text: "Runbook" }],
        },
      ],
    },
    ...(hasSms
      ? [
          {
            // E-mail-to-SMS gateways turn the subject and plain text into a text message: no HTML, one line.
            name: RECEIVERS.sms,
            email_configs: [
              {
                to: a.smsEmailTo.join(", "),
                send_resolved: true,
                headers: { Subject: subject },
                html: "",
                text: "{{ .CommonAnnotations.summary }}",
              },
            ],
          },
        ]
      : []),
    {
      name: RECEIVERS.slack,
      slack_configs: [
        {
          api_url_file: file("slackWebhookUrl"),
          channel: a.slackChannel,
          send_resolved: true,
          title: subject,
          text: "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}",
        },
      ],
    },
    {
      name: RECEIVERS.email,
      email_configs: [{ to: a.emailTo.join(", "), send_resolved: true, headers: { Subject: subject } }],
    },
  ];

  const fanOut = (names: readonly string[]) =>
    names.map((receiver, i) => ({ receiver, ...(i < names.length - 1 ? { continue: true } : {}) }));
  const critical = [RECEIVERS.pager, ...(hasSms ? [RECEIVERS.sms] : []), RECEIVERS.slack, RECEIVERS.email];

  return toYaml(
    {
      global: {
        resolve_timeout: "5m",
        smtp_smarthost: a.smarthost,
        smtp_from: a.emailFrom,
        smtp_require_tls: true,
        ...(a.smtpUsername === ""
          ? {}
          : { smtp_auth_username: a.smtpUsername, smtp_auth_password_file: file("smtpPassword") }),
      },
      route: {
        // Anything without a known severity still reaches the team mailbox.
        receiver: RECEIVERS.email,
        group_by: ["alertname", "namespace", "job"],
        group_wait: "30s",
        group_interval: "5m",
        repeat_interval: "24h",
        routes: [
          {
            matchers: ['severity="critical"'],
            group_wait: "10s",
            group_interval: "1m",
            repeat_interval: "30m",
            routes: fanOut(critical),
          },
          {
            matchers: ['severity=~"warning|high"'],
            repeat_interval: "1h",
            routes: fanOut([RECEIVERS.slack, RECEIVERS.email]),
          },
          { matchers: ['severity="medium"'], receiver: RECEIVERS.email, repeat_interval: "4h" },
          { matchers: ['severity=~"info|low"'], receiver: RECEIVERS.email, repeat_interval: "24h" },
        ],
      },
      // A critical alert silences the warning of the same inhibition group about the same object (see
      // INHIBIT_GROUPS): one page for "certificate expires in 5 days", not a page plus a 30-day warning.
      inhibit_rules: INHIBIT_GROUPS.map((g) => ({
        source_matchers: ['severity="critical"', `${INHIBIT_GROUP_LABEL}="${g.name}"`],
        target_matchers: ['severity="warning"', `${INHIBIT_GROUP_LABEL}="${g.name}"`],
        equal: [...g.equal],
      })),
      receivers,
    },
    "components/monitoring/config/alertmanager.ts",
  );
}
