import { JOBS, NON_DISK_FSTYPES } from "../jobs";
import type { RuleFile } from "../types";

const FS = `fstype!~"${NON_DISK_FSTYPES}"`;

/**
 * The seed's "zarish-sphere-critical" group (zarish_sphere_rules.yml): names, thresholds and `for` durations
 * kept, expressions corrected where the seed's PromQL did not measure what its description says. Plus the
 * availability alerts that start the seed's System Outage runbook.
 */
export const applicationRules: RuleFile = {
  file: "application.rules.yml",
  groups: [
    {
      name: "zarish-sphere-critical",
      rules: [
        {
          name: "HighErrorRate",
          // Seed: rate(http_requests_total{status=~"5.."}[5m]) > 0.05, i.e. more than 0.05 failed requests per
          // second on any single series (one pod, one route). That pages for 3 errors a minute on a busy day and
          // says nothing when a quiet clinic's every request fails. Its description calls it an error *rate*, so
          // the threshold is read as a ratio: more than 5% of all requests answered 5xx, summed per job so that
          // replicas and routes are counted together. 0/0 (no traffic) is NaN and does not fire.
          expr: [
            `sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))`,
            "/",
            "sum by (job) (rate(http_requests_total[5m]))",
            "> 0.05",
          ].join("\n"),
          for: "2m",
          severity: "critical",
          summary: "High error rate on {{ $labels.job }}",
          description:
            "{{ $value | humanizePercentage }} of the requests to {{ $labels.job }} failed with a 5xx status over the last 5 minutes (threshold 5%).",
          inhibitGroup: "http-slo",
        },
        {
          name: "HighResponseTime",
          // Seed: histogram_quantile over per-series rates without aggregation computes a quantile per pod and
          // route from a handful of samples; quantiles must be taken over buckets summed by (le, job).
          expr: "histogram_quantile(0.95, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
          for: "5m",
          severity: "warning",
          summary: "High response time on {{ $labels.job }}",
          description:
            "The 95th percentile response time of {{ $labels.job }} is {{ $value | humanizeDuration }} over the last 5 minutes (threshold 1s).",
          inhibitGroup: "http-slo",
        },
        {
          name: "DatabaseConnectionsHigh",
          // Seed: pg_stat_activity_count > 80 compares each (datname, state) series alone, so 79 idle plus 79
          // active connections never fire. Connections exhaust max_connections together: sum them per server.
          expr: "sum by (namespace, job, instance) (pg_stat_activity_count) > 80",
          for: "3m",
          severity: "warning",
          summary: "Database connections high",
          description:
            "{{ $value }} connections are open on the PostgreSQL server behind {{ $labels.instance }} (all databases and states; threshold 80).",
        },
        {
          name: "DiskSpaceLow",
          // Seed: every filesystem node-exporter reports, including tmpfs and container overlays (noise) and
          // read-only mounts (cannot be fixed and cannot fill). `for: 1m` is the seed's and is kept: free space
          // below 10% does not flap, and the slow trend is NodeFilesystemPredictedFull's job.
          expr: [
            `node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}} * 100 < 10`,
            `and node_filesystem_readonly{${FS}} == 0`,
          ].join("\n"),
          for: "1m",
          severity: "critical",
          summary: "Disk space low on {{ $labels.instance }} {{ $labels.mountpoint }}",
          description:
            'Only {{ $value | printf "%.1f" }}% disk space available on {{ $labels.mountpoint }} ({{ $labels.device }}) of node {{ $labels.instance }}.',
          inhibitGroup: "filesystem",
        },
      ],
    },
    {
      name: "zarish-sphere-availability",
      rules: [
        {
          name: "ZarishSphereServiceDown",
          // Not in the seed's rules, but its incident policy makes a system outage critical: no API or FHIR
          // target answering. absent(up == 1) also fires when the Deployment has no pods at all (no targets).
          expr: [JOBS.api, JOBS.fhir]
            .map((job) => `label_replace(absent(up{job="${job}"} == 1), "job", "${job}", "", "")`)
            .join("\nor\n"),
          for: "2m",
          severity: "critical",
          summary: "{{ $labels.job }} is down",
          description:
            "No {{ $labels.job }} instance has answered Prometheus for 2 minutes: clinical users cannot reach the service.",
          inhibitGroup: "service-availability",
        },
        {
          name: "PostgresDown",
          // The exporter answers (so TargetDown stays quiet) while the database behind it does not.
          expr: "pg_up == 0",
          for: "1m",
          severity: "critical",
          summary: "PostgreSQL is unreachable",
          description:
            "postgres-exporter {{ $labels.instance }} cannot connect to PostgreSQL: reads and writes of patient data fail.",
        },
      ],
    },
  ],
};
