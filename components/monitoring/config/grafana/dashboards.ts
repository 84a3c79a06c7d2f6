import { JOBS, NON_DISK_FSTYPES } from "../jobs";
import { type BackupRuleArgs, DEFAULT_DATABASE_BACKUP } from "../rules";
import type { Dashboard, Panel } from "./model";

const F = 'facility=~"$facility"';

/** A daily total of one counter, for the stat row of the clinical dashboard. */
function total24h(title: string, metric: string): Panel {
  return {
    title,
    type: "stat",
    width: 6,
    height: 4,
    queries: [{ expr: `sum(increase(${metric}{${F}}[24h]))`, instant: true }],
  };
}

function perHour(title: string, metric: string, by: string): Panel {
  return {
    title,
    type: "timeseries",
    queries: [{ expr: `sum by (${by}) (increase(${metric}{${F}}[1h]))`, legend: `{{${by}}}` }],
  };
}

/** The seed's healthcare metrics (prom-client counters and gauges of the API), per facility. */
export const clinicalDashboard: Dashboard = {
  uid: "zarish-clinical-activity",
  title: "ZARISH SPHERE / Clinical activity",
  description: "Registrations, encounters, medications, laboratory tests, data quality and active users per facility.",
  tags: ["zarish-sphere", "clinical"],
  timeFrom: "now-24h",
  variables: [{ name: "facility", label: "Facility", metric: "zarish_patient_registrations_total" }],
  rows: [
    {
      title: "Last 24 hours",
      panels: [
        total24h("Patient registrations", "zarish_patient_registrations_total"),
        total24h("Clinical encounters", "zarish_clinical_encounters_total"),
        total24h("Medications administered", "zarish_medication_administered_total"),
        total24h("Laboratory tests completed", "zarish_lab_tests_completed_total"),
      ],
    },
    {
      title: "Per hour",
      panels: [
        perHour("Patient registrations by type", "zarish_patient_registrations_total", "registration_type"),
        perHour("Clinical encounters by type", "zarish_clinical_encounters_total", "encounter_type"),
        perHour("Medications administered by route", "zarish_medication_administered_total", "route"),
        perHour("Laboratory tests completed by priority", "zarish_lab_tests_completed_total", "priority"),
      ],
    },
    {
      title: "Data quality and usage",
      panels: [
        {
          title: "Data quality score",
          description: "Average of the application's 0-100 data quality score over resource types.",
          type: "gauge",
          width: 6,
          min: 0,
          max: 100,
          thresholds: [{ color: "red" }, { from: 80, color: "yellow" }, { from: 95, color: "green" }],
          queries: [{ expr: `avg(zarish_data_quality_score{${F}})`, instant: true }],
        },
        {
          title: "Data quality score by resource type",
          type: "timeseries",
          width: 9,
          min: 0,
          max: 100,
          queries: [{ expr: `avg by (resource_type) (zarish_data_quality_score{${F}})`, legend: "{{resource_type}}" }],
        },
        {
          title: "Active users by role",
          type: "timeseries",
          width: 9,
          queries: [{ expr: `sum by (user_role) (zarish_active_users_total{${F}})`, legend: "{{user_role}}" }],
        },
      ],
    },
  ],
};

const J = 'job=~"$job"';

/** The API and FHIR server: request rate, errors and latency (the golden signals the alerts are built on). */
export const apiDashboard: Dashboard = {
  uid: "zarish-api",
  title: "ZARISH SPHERE / API",
  description: "Request rate, errors and latency of the API and FHIR server, with the thresholds of the alerts.",
  tags: ["zarish-sphere", "api"],
  variables: [{ name: "job", label: "Service", metric: "http_requests_total" }],
  rows: [
    {
      title: "Traffic and errors",
      panels: [
        {
          title: "Request rate",
          type: "timeseries",
          unit: "reqps",
          queries: [{ expr: `sum by (job) (rate(http_requests_total{${J}}[$__rate_interval]))`, legend: "{{job}}" }],
        },
        {
          title: "Requests by status",
          type: "timeseries",
          unit: "reqps",
          queries: [
            { expr: `sum by (status) (rate(http_requests_total{${J}}[$__rate_interval]))`, legend: "{{status}}" },
          ],
        },
        {
          title: "5xx error ratio",
          description: "HighErrorRate fires above 5% for 2 minutes.",
          type: "timeseries",
          unit: "percentunit",
          thresholds: [{ color: "green" }, { from: 0.05, color: "red" }],
          queries: [
            {
              expr: `sum by (job) (rate(http_requests_total{${J}, status=~"5.."}[$__rate_interval])) / sum by (job) (rate(http_requests_total{${J}}[$__rate_interval]))`,
              legend: "{{job}}",
            },
          ],
        },
        {
          title: "401 Unauthorized and failed logins",
          description: "UnauthorizedAPIAccess fires above 5/s, FailedAuthenticationAttempts above 10/s.",
          type: "timeseries",
          unit: "reqps",
          queries: [
            {
              expr: `sum by (job) (rate(http_requests_total{${J}, status="401"}[$__rate_interval]))`,
              legend: "401 {{job}}",
            },
            {
              expr: "sum by (job) (rate(zarish_auth_failures_total[$__rate_interval]))",
              legend: "failed logins {{job}}",
            },
          ],
        },
      ],
    },
    {
      title: "Latency and availability",
      panels: [
        {
          title: "Response time percentiles",
          description: "HighResponseTime fires when the 95th percentile stays above 1 s for 5 minutes.",
          type: "timeseries",
          unit: "s",
          queries: [0.5, 0.95, 0.99].map((q) => ({
            expr: `histogram_quantile(${q}, sum by (le, job) (rate(http_request_duration_seconds_bucket{${J}}[$__rate_interval])))`,
            legend: `p${Math.round(q * 100)} {{job}}`,
          })),
        },
        {
          title: "Instances up",
          type: "timeseries",
          queries: [{ expr: `sum by (job) (up{job=~"${JOBS.api}|${JOBS.fhir}"})`, legend: "{{job}}" }],
        },
      ],
    },
  ],
};

const FS = `fstype!~"${NON_DISK_FSTYPES}"`;

/** The platform itself: nodes, backups, certificates, logging and the alerting pipeline. */
export function platformDashboard(backup: BackupRuleArgs = DEFAULT_DATABASE_BACKUP): Dashboard {
  const cronJob = `namespace="${backup.namespace}", cronjob="${backup.cronJob}"`;
  return {
    uid: "zarish-platform",
    title: "ZARISH SPHERE / Platform",
    description: "Nodes, database backups, certificates, Elasticsearch and the alerting pipeline.",
    tags: ["zarish-sphere", "platform"],
    rows: [
      {
        title: "Nodes",
        panels: [
          {
            title: "CPU busy by node",
            type: "timeseries",
            unit: "percentunit",
            max: 1,
            queries: [
              {
                expr: 'avg by (instance) (1 - rate(node_cpu_seconds_total{mode="idle"}[$__rate_interval]))',
                legend: "{{instance}}",
              },
            ],
          },
          {
            title: "Memory available by node",
            description: "NodeMemoryPressure fires below 10% for 15 minutes.",
            type: "timeseries",
            unit: "percentunit",
            max: 1,
            thresholds: [{ color: "red" }, { from: 0.1, color: "green" }],
            queries: [{ expr: "node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes", legend: "{{instance}}" }],
          },
          {
            title: "Filesystem free",
            description: "DiskSpaceLow fires below 10%.",
            type: "timeseries",
            unit: "percentunit",
            max: 1,
            queries: [
              {
                expr: `node_filesystem_avail_bytes{${FS}} / node_filesystem_size_bytes{${FS}}`,
                legend: "{{instance}} {{mountpoint}}",
              },
            ],
          },
          {
            title: "Nodes not Ready",
            type: "stat",
            width: 6,
            thresholds: [{ color: "green" }, { from: 1, color: "red" }],
            queries: [
              {
                expr: 'count(kube_node_status_condition{condition="Ready", status="true"} == 0) or vector(0)',
                instant: true,
              },
            ],
          },
          {
            title: "Scrape targets down",
            type: "stat",
            width: 6,
            thresholds: [{ color: "green" }, { from: 1, color: "red" }],
            queries: [{ expr: "count(up == 0) or vector(0)", instant: true }],
          },
        ],
      },
      {
        title: "Backups and certificates",
        panels: [
          {
            title: "Hours since the last successful database backup",
            description: `DatabaseBackupTooOld fires above ${backup.maxAgeHours} hours.`,
            type: "stat",
            width: 6,
            unit: "h",
            thresholds: [{ color: "green" }, { from: backup.maxAgeHours, color: "red" }],
            queries: [
              { expr: `(time() - max(kube_cronjob_status_last_successful_time{${cronJob}})) / 3600`, instant: true },
            ],
          },
          {
            title: "Failed database backup jobs",
            type: "stat",
            width: 6,
            thresholds: [{ color: "green" }, { from: 1, color: "red" }],
            queries: [
              {
                expr: `count(kube_job_failed{namespace="${backup.namespace}", condition="true"} == 1) or vector(0)`,
                instant: true,
              },
            ],
          },
          {
            title: "Days until certificate expiry",
            description: "CertificateExpiringSoon warns below 30 days, CertificateExpiryImminent pages below 7.",
            type: "table",
            unit: "d",
            thresholds: [{ color: "red" }, { from: 7, color: "yellow" }, { from: 30, color: "green" }],
            queries: [
              {
                expr: "(certmanager_certificate_expiration_timestamp_seconds - time()) / 86400",
                legend: "{{namespace}}/{{name}}",
                instant: true,
              },
            ],
          },
        ],
      },
      {
        title: "Logging and alerting",
        panels: [
          {
            title: "Elasticsearch cluster health",
            type: "stat",
            width: 6,
            valueText: {
              0: { text: "green", color: "green" },
              1: { text: "yellow", color: "yellow" },
              2: { text: "red", color: "red" },
            },
            queries: [
              {
                expr: 'max(elasticsearch_cluster_health_status{color="yellow"}) + 2 * max(elasticsearch_cluster_health_status{color="red"})',
                instant: true,
              },
            ],
          },
          {
            title: "Unassigned Elasticsearch shards",
            type: "stat",
            width: 6,
            thresholds: [{ color: "green" }, { from: 1, color: "yellow" }],
            queries: [{ expr: "sum(elasticsearch_cluster_health_unassigned_shards)", instant: true }],
          },
          {
            title: "Firing alerts by severity",
            type: "timeseries",
            queries: [{ expr: 'sum by (severity) (ALERTS{alertstate="firing"})', legend: "{{severity}}" }],
          },
        ],
      },
    ],
  };
}
