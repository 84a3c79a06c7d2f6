import { join } from "node:path";
import test from "ava";
import * as yaml from "js-yaml";
import { ALERTMANAGER_SECRET_KEYS, INHIBIT_GROUPS, renderAlertmanagerConfig } from "../components/monitoring/config";
import type { AlertingConfig } from "../config/types";
import { runTool, tempDir, writeFiles } from "./promtool/check";

const ALERTING: AlertingConfig = {
  emailTo: ["ops@zarishsphere.com", "oncall@zarishsphere.com"],
  emailFrom: "alertmanager@zarishsphere.com",
  smarthost: "smtp.zarishsphere.com:587",
  smtpUsername: "alertmanager",
  slackChannel: "#zarish-alerts",
  smsEmailTo: ["8801700000000@sms.example.net"],
};

const SECRETS = {
  [ALERTMANAGER_SECRET_KEYS.slackWebhookUrl]: "https://hooks.slack.com/services/T000/B000/XXXX\n",
  [ALERTMANAGER_SECRET_KEYS.pagerDutyRoutingKey]: "0123456789abcdef0123456789abcdef\n",
  [ALERTMANAGER_SECRET_KEYS.smtpPassword]: "not-a-real-password\n",
};

/** alertmanager.yml in a temp dir with dummy credential files where it says they are. */
function staged(alerting: AlertingConfig = ALERTING): { file: string; text: string; secretsDir: string } {
  const dir = tempDir("alertmanager");
  const secretsDir = writeFiles(join(dir, "secrets"), SECRETS);
  const text = renderAlertmanagerConfig({ alerting, secretsDir });
  writeFiles(dir, { "alertmanager.yml": text });
  return { file: join(dir, "alertmanager.yml"), text, secretsDir };
}

/** The receivers amtool routes an alert with these labels to. */
function routes(file: string, ...labels: string[]): string[] {
  const r = runTool("amtool", ["config", "routes", "test", `--config.file=${file}`, ...labels]);
  if (r.status !== 0) throw new Error(r.output);
  return r.stdout.trim().split(",");
}

interface Receiver {
  name: string;
  pagerduty_configs?: Record<string, unknown>[];
  slack_configs?: Record<string, unknown>[];
  email_configs?: Record<string, unknown>[];
}

test("amtool check-config accepts the rendered alertmanager.yml", (t) => {
  const { file } = staged();
  const r = runTool("amtool", ["check-config", file]);
  t.is(r.status, 0, r.output);
  t.regex(r.output, /SUCCESS/);
  t.regex(r.output, new RegExp(`${INHIBIT_GROUPS.length} inhibit rules`));
});

test("amtool check-config rejects an unknown receiver field (the check can fail)", (t) => {
  const { text } = staged();
  const dir = writeFiles(tempDir("alertmanager-broken"), {
    "am.yml": text.replace("routing_key_file:", "routing_key_path:"),
  });
  t.not(runTool("amtool", ["check-config", join(dir, "am.yml")]).status, 0);
});

test("critical reaches the pager, SMS, Slack and e-mail", (t) => {
  const { file } = staged();
  t.deepEqual(routes(file, "severity=critical", "alertname=HighErrorRate"), ["pager", "sms", "slack", "email"]);
  const verify = runTool("amtool", [
    "config",
    "routes",
    "test",
    `--config.file=${file}`,
    "--verify.receivers=pager,sms,slack,email",
    "severity=critical",
  ]);
  t.is(verify.status, 0, verify.output);
  const wrong = runTool("amtool", [
    "config",
    "routes",
    "test",
    `--config.file=${file}`,
    "--verify.receivers=email",
    "severity=critical",
  ]);
  t.not(wrong.status, 0, "amtool must fail when the receivers differ");
});

test("warning and high reach Slack and e-mail, not the pager", (t) => {
  const { file } = staged();
  t.deepEqual(routes(file, "severity=warning"), ["slack", "email"]);
  t.deepEqual(routes(file, "severity=high"), ["slack", "email"]);
});

test("info, medium, low and unlabelled alerts reach e-mail only", (t) => {
  const { file } = staged();
  for (const severity of ["info", "medium", "low"])
    t.deepEqual(routes(file, `severity=${severity}`), ["email"], severity);
  t.deepEqual(routes(file, "alertname=Unlabelled"), ["email"]);
});

test("each receiver is the channel it is named after, with credentials read from the mounted files", (t) => {
  const { text, secretsDir } = staged();
  const config = yaml.load(text) as { global: Record<string, unknown>; receivers: Receiver[] };
  const byName = new Map(config.receivers.map((r) => [r.name, r]));
  t.deepEqual(byName.get("pager")?.pagerduty_configs?.[0].routing_key_file, `${secretsDir}/pagerduty-routing-key`);
  t.deepEqual(byName.get("slack")?.slack_configs?.[0].api_url_file, `${secretsDir}/slack-webhook-url`);
  t.is(byName.get("slack")?.slack_configs?.[0].channel, "#zarish-alerts");
  t.is(byName.get("email")?.email_configs?.[0].to, "ops@zarishsphere.com, oncall@zarishsphere.com");
  t.is(byName.get("sms")?.email_configs?.[0].to, "8801700000000@sms.example.net");
  t.is(byName.get("sms")?.email_configs?.[0].html, "");
  t.is(config.global.smtp_auth_password_file, `${secretsDir}/smtp-password`);
  t.is(config.global.smtp_auth_username, "alertmanager");
  t.is(config.global.smtp_smarthost, "smtp.zarishsphere.com:587");
  for (const secret of Object.values(SECRETS))
    t.false(text.includes(secret.trim()), "a credential leaked into the file");
});

test("repeat intervals follow the seed's escalation times", (t) => {
  const { text } = staged();
  const route = (
    yaml.load(text) as { route: { repeat_interval: string; routes: { matchers: string[]; repeat_interval: string }[] } }
  ).route;
  const repeat = Object.fromEntries(route.routes.map((r) => [r.matchers[0], r.repeat_interval]));
  t.deepEqual(repeat, {
    'severity="critical"': "30m",
    'severity=~"warning|high"': "1h",
    'severity="medium"': "4h",
    'severity=~"info|low"': "24h",
  });
  t.is(route.repeat_interval, "24h");
});

test("a critical alert silences the warning of its inhibition group", (t) => {
  const { text } = staged();
  const rules = (yaml.load(text) as { inhibit_rules: Record<string, string[]>[] }).inhibit_rules;
  t.is(rules.length, INHIBIT_GROUPS.length);
  const cert = rules.find((r) => r.source_matchers.includes('inhibit_group="certificate-expiry"'));
  t.deepEqual(cert, {
    source_matchers: ['severity="critical"', 'inhibit_group="certificate-expiry"'],
    target_matchers: ['severity="warning"', 'inhibit_group="certificate-expiry"'],
    equal: ["namespace", "name"],
  });
});

test("without SMS gateways, critical still reaches the pager and two more channels", (t) => {
  const { file, text } = staged({ ...ALERTING, smsEmailTo: [] });
  t.is(runTool("amtool", ["check-config", file]).status, 0);
  t.deepEqual(routes(file, "severity=critical"), ["pager", "slack", "email"]);
  t.false(text.includes("name: sms"));
});

test("without an SMTP user, no SMTP authentication is configured", (t) => {
  const { file, text } = staged({ ...ALERTING, smtpUsername: "" });
  t.is(runTool("amtool", ["check-config", file]).status, 0);
  t.false(text.includes("smtp_auth"));
});

test("the default secrets directory is /etc/alertmanager/secrets", (t) => {
  const text = renderAlertmanagerConfig({ alerting: ALERTING });
  t.regex(text, /routing_key_file: \/etc\/alertmanager\/secrets\/pagerduty-routing-key/);
  t.regex(text, /api_url_file: \/etc\/alertmanager\/secrets\/slack-webhook-url/);
  t.regex(text, /smtp_auth_password_file: \/etc\/alertmanager\/secrets\/smtp-password/);
});

test("an empty team mailbox list is refused", (t) => {
  t.throws(() => renderAlertmanagerConfig({ alerting: { ...ALERTING, emailTo: [] } }), {
    message: /alerting.emailTo must name at least one address/,
  });
});

test("an address that is not an e-mail address is refused", (t) => {
  t.throws(() => renderAlertmanagerConfig({ alerting: { ...ALERTING, smsEmailTo: ["+8801700000000"] } }), {
    message: /alerting e-mail address "\+8801700000000" is not an e-mail address/,
  });
});

test("a smarthost without a port is refused", (t) => {
  t.throws(() => renderAlertmanagerConfig({ alerting: { ...ALERTING, smarthost: "smtp.zarishsphere.com" } }), {
    message: /alerting.smarthost must be host:port \(got "smtp.zarishsphere.com"\)/,
  });
});

test("an empty Slack channel is refused", (t) => {
  t.throws(() => renderAlertmanagerConfig({ alerting: { ...ALERTING, slackChannel: "" } }), {
    message: /alerting.slackChannel must not be empty/,
  });
});

test("a relative secrets directory is refused", (t) => {
  t.throws(() => renderAlertmanagerConfig({ alerting: ALERTING, secretsDir: "secrets" }), {
    message: /secretsDir must be an absolute path \(got "secrets"\)/,
  });
});
