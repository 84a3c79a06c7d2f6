#!/usr/bin/env bash
# health-report.sh: the seed's weekly health report, for the database and its backups.
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE  libpq connection (PGDATABASE required; pg_monitor is enough)
#   HEALTH_REPORT_COUNT_TABLES  tables whose rows are counted (default "patients encounters observations", the
#                       seed's; resolved through the search_path, reported "absent" if they do not exist)
#   BACKUP_BUCKET       bucket of the database backups; with BACKUP_PREFIX the age of the newest one is reported
#   KUBERNETES_BACKUP_BUCKET, KUBERNETES_BACKUP_PREFIX  the same for the Kubernetes object backups (the bucket
#                       defaults to BACKUP_BUCKET)
#   REPORT_PREFIX       when set (with BACKUP_BUCKET), the report is also stored at
#                       $REPORT_PREFIX/YYYY/health-report_YYYYmmdd_HHMMSS.txt
#   S3_ENDPOINT_URL, KMS_KEY_ID  as for backup-database.sh
#
# The report goes to stdout, where the cluster's log shipping picks it up (and to S3 when REPORT_PREFIX is set).
#
# Departures from the seed (weekly-health-report.sh), and why:
# - No `mail`: a CronJob has no MTA; the report is a log record (searchable in Kibana) and an S3 object.
# - Its host checks (uptime, free, df, systemctl, journalctl, curl of /metrics) describe one VM, not a cluster:
#   nodes and services are reported by Prometheus and Alertmanager, logs by the logging stack.
# - Its SQL, fixed: the record counts fail the whole report if one table is missing (now "absent"); the seed's
#   table-size view (performance-tuning.sql) concatenated `'.'tablename` without `||` and built unquoted names;
#   its slow-query view used total_time/mean_time, renamed total_exec_time/mean_exec_time in PostgreSQL 13.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

require_env PGDATABASE
require_tools psql

work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "${work_root%/}/health-report.XXXXXX")
trap 'rm -rf "${work}"' EXIT
stamp=$(utc_stamp)
report="${work}/health-report_${stamp}.txt"

{
  printf 'ZARISH SPHERE Health Report - %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  printf '========================================\n'
} >"${report}"

psql -X --no-password --set=ON_ERROR_STOP=1 --quiet \
  -v count_tables="${HEALTH_REPORT_COUNT_TABLES:-patients encounters observations}" >>"${report}" <<'SQL' ||
\pset footer off
\pset null '-'
\echo
\echo 'Database'
SELECT current_database() AS database,
       split_part(version(), ' on ', 1) AS version,
       date_trunc('second', now() - pg_postmaster_start_time()) AS uptime,
       pg_size_pretty(pg_database_size(current_database())) AS size;

\echo 'Connections'
SELECT coalesce(state, 'background') AS state, count(*) AS connections
FROM pg_stat_activity WHERE datname = current_database() GROUP BY 1 ORDER BY 2 DESC;
SELECT count(*) AS server_connections, current_setting('max_connections')::int AS max_connections
FROM pg_stat_activity;

\echo 'Transactions open for more than one hour'
SELECT pid, usename AS user, state, date_trunc('second', now() - xact_start) AS open_for,
       left(regexp_replace(query, '\s+', ' ', 'g'), 80) AS query
FROM pg_stat_activity WHERE xact_start < now() - interval '1 hour' ORDER BY xact_start;

\echo 'Record counts'
SELECT t AS table,
       CASE WHEN to_regclass(t) IS NULL THEN 'absent'
            ELSE (xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %s', to_regclass(t)),
                                                     false, true, '')))[1]::text END AS rows
FROM unnest(string_to_array(:'count_tables', ' ')) AS t
WHERE t <> '';

\echo 'Largest tables'
SELECT c.oid::regclass AS table,
       pg_size_pretty(pg_total_relation_size(c.oid)) AS total,
       pg_size_pretty(pg_relation_size(c.oid)) AS table_size,
       pg_size_pretty(pg_indexes_size(c.oid)) AS index_size
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 15;

\echo 'Dead tuples and (auto)vacuum'
SELECT relid::regclass AS table, n_live_tup AS live, n_dead_tup AS dead,
       round(100.0 * n_dead_tup / nullif(n_live_tup + n_dead_tup, 0), 1) AS dead_pct,
       greatest(last_vacuum, last_autovacuum) AS last_vacuum,
       greatest(last_analyze, last_autoanalyze) AS last_analyze
FROM pg_stat_user_tables ORDER BY n_dead_tup DESC LIMIT 10;

\echo 'Activity since statistics reset'
SELECT round(100.0 * blks_hit / nullif(blks_hit + blks_read, 0), 2) AS cache_hit_pct,
       xact_commit AS commits, xact_rollback AS rollbacks, deadlocks, conflicts,
       pg_size_pretty(temp_bytes) AS temp_files, stats_reset
FROM pg_stat_database WHERE datname = current_database();

\echo 'Invalid indexes'
SELECT indexrelid::regclass AS index, indrelid::regclass AS table FROM pg_index WHERE NOT indisvalid;

\echo 'Replication'
SELECT application_name, client_addr, state, sync_state, replay_lag FROM pg_stat_replication;

SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements') AS has_statements \gset
\if :has_statements
\echo 'Statements slower than one second on average'
SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 100) AS query, calls,
       round(total_exec_time::numeric, 1) AS total_ms, round(mean_exec_time::numeric, 1) AS mean_ms, rows,
       round(100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0), 1) AS hit_pct
FROM pg_stat_statements WHERE mean_exec_time > 1000 ORDER BY total_exec_time DESC LIMIT 10;
\else
\echo 'Statements: pg_stat_statements is not installed in this database'
\endif
SQL
  die "database queries for the report failed"

# backup_age BUCKET PREFIX SUFFIX [NAME]: one report line about the newest backup under PREFIX.
backup_age() {
  local BACKUP_BUCKET=$1 key hours
  key=$(newest_backup_key "$2" "$3" "${4:-}")
  if [[ -z "${key}" ]]; then
    printf '%s: NO BACKUP under s3://%s/%s/\n' "$2" "${BACKUP_BUCKET}" "$2"
    return
  fi
  hours=$((($(date -u +%s) - $(stamp_epoch "$(key_stamp "${key}")")) / 3600))
  printf '%s: newest s3://%s/%s, %sh old\n' "$2" "${BACKUP_BUCKET}" "${key}" "${hours}"
}

if [[ -n "${BACKUP_BUCKET:-}" ]]; then
  {
    printf '\nBackups\n'
    if [[ -n "${BACKUP_PREFIX:-}" ]]; then backup_age "${BACKUP_BUCKET}" "${BACKUP_PREFIX}" .sql.gz "${PGDATABASE}"; fi
    if [[ -n "${KUBERNETES_BACKUP_PREFIX:-}" ]]; then
      backup_age "${KUBERNETES_BACKUP_BUCKET:-${BACKUP_BUCKET}}" "${KUBERNETES_BACKUP_PREFIX}" .tar.gz kubernetes
    fi
  } >>"${report}"
fi

printf '\nReport generated at %s\n' "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" >>"${report}"
cat "${report}"

if [[ -n "${REPORT_PREFIX:-}" ]]; then
  require_env BACKUP_BUCKET
  key="${REPORT_PREFIX%/}/${stamp:0:4}/${report##*/}"
  upload "${report}" "${key}" "$(sha256_of "${report}")" "" text/plain ||
    die "upload of the report to s3://${BACKUP_BUCKET}/${key} failed"
  log "report stored at s3://${BACKUP_BUCKET}/${key}"
fi
