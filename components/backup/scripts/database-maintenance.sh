#!/usr/bin/env bash
# database-maintenance.sh: the database part of the seed's daily maintenance, run by a CronJob outside business
# hours.
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE  libpq connection (PGDATABASE required)
#   MAINTENANCE_REINDEX          "true" enables the weekly REINDEX ... CONCURRENTLY (default false)
#   MAINTENANCE_REINDEX_WEEKDAY  ISO weekday it runs on, 1 = Monday ... 7 = Sunday (default 7)
#   MAINTENANCE_LOCK_TIMEOUT     how long a step waits for a lock before giving up (default 60s)
#
# Steps: VACUUM (ANALYZE) of the database; a report of invalid indexes (left behind by a failed CREATE INDEX or
# REINDEX CONCURRENTLY; they cost writes and serve no reads); and, only when enabled and only on the configured
# weekday, REINDEX DATABASE ... CONCURRENTLY.
#
# Departures from the seed (daily-maintenance.sh), and why:
# - No `REINDEX DATABASE` (without CONCURRENTLY): it takes locks that block writes to each table, and reads that
#   use its indexes, for as long as the rebuild takes; in a clinic's working day that is an outage. Routine
#   reindexing is rarely needed at all (autovacuum, B-tree deduplication since PostgreSQL 13), so the concurrent
#   rebuild is opt-in, weekly, in the maintenance window. It needs twice the index space while it runs, and it
#   requires ownership of the database, which a dedicated maintenance role may not have.
# - logrotate, curl health checks, clamscan and metric scraping belong to other parts of the platform (the
#   logging stack, Prometheus probes, Falco), not to a database job; backup verification is verify-restore.sh.
# - `set -euo pipefail`: the seed ignored every failure and always printed "completed".
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

require_env PGDATABASE
require_tools psql

lock_timeout=${MAINTENANCE_LOCK_TIMEOUT:-60s}
weekday=${MAINTENANCE_REINDEX_WEEKDAY:-7}
[[ "${weekday}" =~ ^[1-7]$ ]] || die "MAINTENANCE_REINDEX_WEEKDAY must be 1..7 (got '${weekday}')"

psql_db() {
  PGOPTIONS="-c lock_timeout=${lock_timeout}" psql -X --no-password --set=ON_ERROR_STOP=1 --quiet "$@"
}

log "VACUUM (ANALYZE) ${PGDATABASE}"
psql_db -c 'VACUUM (ANALYZE)' || die "VACUUM (ANALYZE) of ${PGDATABASE} failed"

invalid=$(psql_db -At -c "
  SELECT format('%s (table %s)', i.indexrelid::regclass, i.indrelid::regclass)
  FROM pg_index i WHERE NOT i.indisvalid ORDER BY 1") || die "cannot read pg_index"
if [[ -n "${invalid}" ]]; then
  log "WARNING: invalid indexes (drop and recreate them, or REINDEX INDEX CONCURRENTLY):"
  printf '%s\n' "${invalid}" >&2
fi

if is_true "${MAINTENANCE_REINDEX:-false}"; then
  if [[ "$(date -u +%u)" == "${weekday}" ]]; then
    log "REINDEX CONCURRENTLY of every index in ${PGDATABASE}"
    # No lock timeout here: a concurrent rebuild cut short leaves an invalid index behind (reported above).
    lock_timeout=0 psql_db -v db="${PGDATABASE}" <<'SQL' || die "REINDEX CONCURRENTLY of ${PGDATABASE} failed"
REINDEX DATABASE CONCURRENTLY :"db";
SQL
  else
    log "REINDEX CONCURRENTLY enabled for weekday ${weekday}; today is $(date -u +%u), skipped"
  fi
fi

log "maintenance of ${PGDATABASE} complete"
