#!/usr/bin/env bash
# verify-restore.sh: proves the newest database backup restores, by restoring it into a scratch database on the
# same server and comparing per-table row counts with the live source database.
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE  libpq connection to the SOURCE database (PGDATABASE required);
#                       the user needs CREATEDB, read access to every table (pg_read_all_data), and the right
#                       to create the dump's extensions
#   BACKUP_BUCKET, BACKUP_PREFIX   where backup-database.sh writes (required)
#   BACKUP_KEY          verify this object instead of the newest backup of PGDATABASE
#   S3_ENDPOINT_URL     optional S3-compatible endpoint, passed to the AWS CLI as --endpoint-url
#   VERIFY_DATABASE     scratch database name (default: <PGDATABASE>_restore_verify); dropped afterwards
#   VERIFY_MAX_AGE_HOURS        the newest backup must be younger than this (default 26: a daily backup, late)
#   VERIFY_ROW_TOLERANCE_PERCENT  allowed drift per table between backup and now, in % of the source rows (default 5)
#   VERIFY_ROW_TOLERANCE_ROWS     ...or this many rows, whichever is larger (default 100)
#   VERIFY_KEEP_DATABASE  "true" keeps the scratch database for inspection
#   VERIFY_NO_OWNER     restore without owners and grants (default true: the scratch copy is owned by this user,
#                       which then needs no membership in the application's roles; row counts do not depend on it)
#
# The seed's "backup verification" listed yesterday's files (`find /backups -mtime -1`), which proves a file
# exists, not that it restores. The source keeps changing after the backup, so counts are compared within a
# tolerance (0 and 0 demand equality); a table missing from the backup counts as 0 rows there. Prints one line
# per table and exits non-zero if the restore fails, the backup is too old, or any table drifts too far.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

require_env PGDATABASE BACKUP_BUCKET BACKUP_PREFIX
require_tools psql aws awk sort

source_db=${PGDATABASE}
scratch=${VERIFY_DATABASE:-${source_db}_restore_verify}
max_age_hours=${VERIFY_MAX_AGE_HOURS:-26}
tolerance_percent=${VERIFY_ROW_TOLERANCE_PERCENT:-5}
tolerance_rows=${VERIFY_ROW_TOLERANCE_ROWS:-100}
marker="zarish restore verification scratch database"
[[ "${scratch}" != "${source_db}" ]] || die "VERIFY_DATABASE must differ from PGDATABASE (${source_db})"
for n in "${max_age_hours}" "${tolerance_percent}" "${tolerance_rows}"; do
  [[ "${n}" =~ ^[0-9]+$ ]] || die "tolerances and ages must be whole numbers (got '${n}')"
done

psql_on() {
  local db=$1
  shift
  psql -X --no-password --set=ON_ERROR_STOP=1 --quiet -d "${db}" "$@"
}

key=${BACKUP_KEY:-}
if [[ -z "${key}" ]]; then
  key=$(newest_backup_key "${BACKUP_PREFIX}" .sql.gz "${source_db}")
  [[ -n "${key}" ]] || die "no backup of ${source_db} under s3://${BACKUP_BUCKET}/${BACKUP_PREFIX%/}/"
  age_hours=$((($(date -u +%s) - $(stamp_epoch "$(key_stamp "${key}")")) / 3600))
  ((age_hours < max_age_hours)) ||
    die "newest backup ${key} is ${age_hours}h old (limit ${max_age_hours}h): the backup job is not running"
  log "newest backup: ${key} (${age_hours}h old)"
fi

work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "${work_root%/}/verify-restore.XXXXXX")

# Drops the scratch database, but only one this script created (it carries the marker comment): a name collision
# with a real database must never destroy it.
drop_scratch() {
  psql_on "${source_db}" -v db="${scratch}" -v marker="${marker}" >/dev/null <<'SQL'
SELECT format('DROP DATABASE %I', datname) FROM pg_database
WHERE datname = :'db' AND shobj_description(oid, 'pg_database') = :'marker' \gexec
SQL
}

cleanup() {
  rm -rf "${work}"
  if is_true "${VERIFY_KEEP_DATABASE:-false}"; then
    log "keeping scratch database ${scratch}"
  else
    drop_scratch || log "WARNING: could not drop scratch database ${scratch}"
  fi
}
trap cleanup EXIT

drop_scratch || die "cannot drop the previous scratch database ${scratch}"
exists=$(psql_on "${source_db}" -At -v db="${scratch}" <<'SQL'
SELECT count(*) FROM pg_database WHERE datname = :'db';
SQL
) || die "cannot connect to ${source_db}"
[[ "${exists}" == 0 ]] || die "a database named ${scratch} exists and was not created by this script; not touching it"

# template0 (an empty database, whatever was added to template1) with the source's encoding and collation.
log "creating scratch database ${scratch}"
psql_on "${source_db}" -v db="${scratch}" -v marker="${marker}" >/dev/null <<'SQL' ||
SELECT format('CREATE DATABASE %I TEMPLATE template0 ENCODING %L LC_COLLATE %L LC_CTYPE %L',
              :'db', pg_encoding_to_char(encoding), datcollate, datctype)
FROM pg_database WHERE datname = current_database() \gexec
COMMENT ON DATABASE :"db" IS :'marker';
SQL
  die "cannot create scratch database ${scratch} (the backup user needs CREATEDB)"

PGDATABASE=${scratch} BACKUP_KEY=${key} RESTORE_ANALYZE=false RESTORE_NO_OWNER=${VERIFY_NO_OWNER:-true} \
  "$(dirname "${BASH_SOURCE[0]}")/restore-database.sh" >/dev/null ||
  die "restore of ${key} into the scratch database failed"

# Exact row counts of every table (partitions counted once, in their leaf tables), one "schema.table<TAB>rows" per
# line. query_to_xml runs the generated count for each table inside this one read-only statement.
count_rows() {
  psql_on "$1" -At -F $'\t' -c "
    SELECT format('%I.%I', n.nspname, c.relname),
           (xpath('/row/n/text()', query_to_xml(
              format('SELECT count(*) AS n FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_(toast|temp)'
    ORDER BY 1" | LC_ALL=C sort
}
count_rows "${source_db}" >"${work}/source.tsv" || die "cannot count rows in ${source_db}"
count_rows "${scratch}" >"${work}/restored.tsv" || die "cannot count rows in ${scratch}"

log "comparing row counts (tolerance ${tolerance_percent}% or ${tolerance_rows} rows per table)"
awk -F '\t' -v pct="${tolerance_percent}" -v rows="${tolerance_rows}" -v key="${key}" '
  FNR == NR { restored[$1] = $2; next }
  {
    tables++
    got = ($1 in restored) ? restored[$1] : 0
    diff = $2 - got; if (diff < 0) diff = -diff
    allowed = $2 * pct / 100; if (allowed < rows) allowed = rows
    status = diff <= allowed ? "ok" : "MISMATCH"
    if (status != "ok") bad++
    printf "%s\t%s\tsource=%d\trestored=%d%s\n", status, $1, $2, got, ($1 in restored) ? "" : " (not in backup)"
    delete restored[$1]
  }
  END {
    for (t in restored) printf "note\t%s\tin the backup only (dropped since?)\trestored=%d\n", t, restored[t]
    printf "restore verification of %s: %d tables, %d beyond tolerance\n", key, tables, bad
    exit (bad > 0)
  }' "${work}/restored.tsv" "${work}/source.tsv" || die "row counts of the restored backup differ from ${source_db}"

log "restore verification passed: ${key}"
