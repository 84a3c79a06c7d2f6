import type { RuleFile } from "../types";

/**
 * The seed's "security" group (security-monitoring.yml): names, thresholds and `for` kept. The seed's
 * expressions compared single series; an attack spread over pods, users or routes stayed below every
 * per-series threshold, so the rates are summed per job. The seed had no descriptions; they are added.
 */
export const securityRules: RuleFile = {
  file: "security.rules.yml",
  groups: [
    {
      name: "security",
      rules: [
        {
          name: "FailedAuthenticationAttempts",
          // Seed: rate(zarish_auth_failures_total[5m]) > 10 per series; summed per job (see above).
          expr: "sum by (job) (rate(zarish_auth_failures_total[5m])) > 10",
          for: "1m",
          severity: "warning",
          summary: "High rate of failed authentication attempts",
          description:
            '{{ $value | printf "%.1f" }} failed authentication attempts per second on {{ $labels.job }} over the last 5 minutes (threshold 10/s).',
          inhibitGroup: "authentication",
        },
        {
          name: "UnauthorizedAPIAccess",
          // Seed: rate(http_requests_total{status="401"}[5m]) > 5 per series; summed per job (see above).
          expr: 'sum by (job) (rate(http_requests_total{status="401"}[5m])) > 5',
          for: "2m",
          severity: "critical",
          summary: "Unauthorized API access detected",
          description:
            '{{ $value | printf "%.1f" }} requests per second to {{ $labels.job }} were refused with 401 Unauthorized over the last 5 minutes (threshold 5/s).',
          inhibitGroup: "authentication",
        },
        {
          name: "SuspiciousDataAccess",
          // Seed: increase(zarish_patient_access_total[1h]) > 1000 per series. The series that matter are the
          // application's own labels (who accessed what); the per-pod split is an artefact of scraping every
          // replica, so only the target labels are summed away and one user behind three replicas counts once.
          expr: "sum without (instance, pod) (increase(zarish_patient_access_total[1h])) > 1000",
          for: "5m",
          severity: "warning",
          summary: "Unusual data access pattern detected",
          description:
            '{{ $value | printf "%.0f" }} patient records were accessed in the last hour through {{ $labels.job }} by the identity in this alert\'s labels (threshold 1000 per hour).',
        },
      ],
    },
  ],
};
