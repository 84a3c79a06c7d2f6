import type { RuleFile } from "../types";

/**
 * The monitoring system watching itself: a scrape target that stopped answering, a configuration change that
 * did not load, notifications that do not leave, and the Watchdog that proves the whole chain works.
 */
export const platformRules: RuleFile = {
  file: "platform.rules.yml",
  groups: [
    {
      name: "monitoring-self",
      rules: [
        {
          name: "TargetDown",
          expr: "up == 0",
          for: "5m",
          severity: "warning",
          summary: "Scrape target {{ $labels.job }} {{ $labels.instance }} is down",
          description:
            "Prometheus has not been able to scrape {{ $labels.instance }} of job {{ $labels.job }} for 5 minutes: its metrics, and the alerts built on them, are missing.",
          inhibitGroup: "service-availability",
        },
        {
          name: "PrometheusConfigReloadFailed",
          expr: "prometheus_config_last_reload_successful == 0",
          for: "10m",
          severity: "warning",
          summary: "Prometheus configuration reload failed",
          description:
            "Prometheus {{ $labels.instance }} could not load its latest configuration or rules and still runs the previous ones.",
        },
        {
          name: "AlertmanagerConfigReloadFailed",
          expr: "alertmanager_config_last_reload_successful == 0",
          for: "10m",
          severity: "warning",
          summary: "Alertmanager configuration reload failed",
          description:
            "Alertmanager {{ $labels.instance }} could not load its latest configuration and still routes with the previous one.",
        },
        {
          name: "AlertmanagerNotificationsFailing",
          // A wrong receiver secret (webhook, routing key, SMTP password) fails only when a notification is sent;
          // this is how it becomes visible. It is routed like any warning, so another channel carries it.
          expr: "sum by (namespace, job, instance, integration) (rate(alertmanager_notifications_failed_total[5m])) > 0",
          for: "15m",
          severity: "warning",
          summary: "Alertmanager cannot deliver {{ $labels.integration }} notifications",
          description:
            'Alertmanager {{ $labels.instance }} failed to send {{ $labels.integration }} notifications for 15 minutes ({{ $value | printf "%.2f" }} failures per second).',
        },
        {
          name: "Watchdog",
          // Always firing. Its daily e-mail (the info route's 24h repeat) proves that Prometheus evaluates rules,
          // reaches Alertmanager and that Alertmanager delivers: when it stops arriving, alerting is broken.
          expr: "vector(1)",
          severity: "info",
          summary: "Alerting pipeline heartbeat",
          description:
            "This alert always fires. If its daily notification stops arriving, Prometheus, Alertmanager or the mail relay is broken.",
        },
      ],
    },
  ],
};
