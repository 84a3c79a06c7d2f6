#!/usr/bin/env bash
# restore-database.sh: restores one backup made by backup-database.sh into an empty PostgreSQL database.
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE  libpq connection to the TARGET database (PGDATABASE required;
#                       the database must exist and be empty: create it first, see the runbook)
#   BACKUP_BUCKET       bucket name (required)
#   BACKUP_KEY          object key to restore; default: the newest backup under BACKUP_PREFIX
#   BACKUP_PREFIX       key prefix searched when BACKUP_KEY is empty, e.g. "database"
#   BACKUP_SOURCE_DATABASE  when choosing the newest backup, only backups of this database (default: any)
#   S3_ENDPOINT_URL     optional S3-compatible endpoint, passed to the AWS CLI as --endpoint-url
#   BACKUP_WORK_DIR     where the archive is staged (default: $TMPDIR or /tmp)
#   RESTORE_ANALYZE     run ANALYZE after the restore (default true; a dump carries no planner statistics)
#   RESTORE_NO_OWNER    "true" restores without owners and grants (--no-owner --no-privileges), for a server
#                       that lacks the source's roles; default false (a faithful copy)
#
# Order of work: download, then verify (sha256 from the object's metadata, gzip -t, a complete pg_dump archive),
# and only then touch the target, with pg_restore --single-transaction (which implies --exit-on-error): one
# transaction that commits only if every statement succeeded. On any failure it exits non-zero and the target is
# as it was. Prints the restored key last on stdout.
#
# Departures from the seed (point-in-time-recovery.sh), and why: the seed restored with `gunzip | psql` outside a
# transaction and without ON_ERROR_STOP, so a bad archive left a half-restored database that it then swapped in
# for production with DROP DATABASE; it never checked the archive first; and its `pg_basebackup -t "$TIME"` is
# not a point-in-time recovery at all (-t is --target, where to write the base backup). Point-in-time recovery
# needs WAL archiving; see docs/runbooks/restore-database.md.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

require_env PGDATABASE BACKUP_BUCKET
require_tools psql pg_restore gzip sha256sum aws

key=${BACKUP_KEY:-}
if [[ -z "${key}" ]]; then
  require_env BACKUP_PREFIX
  key=$(newest_backup_key "${BACKUP_PREFIX}" .sql.gz "${BACKUP_SOURCE_DATABASE:-}")
  [[ -n "${key}" ]] ||
    die "no backup${BACKUP_SOURCE_DATABASE:+ of ${BACKUP_SOURCE_DATABASE}} under s3://${BACKUP_BUCKET}/${BACKUP_PREFIX%/}/"
  log "newest backup: ${key}"
fi

work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "${work_root%/}/restore-database.XXXXXX")
trap 'rm -rf "${work}"' EXIT
archive="${work}/archive.sql.gz"

log "downloading s3://${BACKUP_BUCKET}/${key}"
expected=$(download "${key}" "${archive}") || die "download of s3://${BACKUP_BUCKET}/${key} failed"
[[ "${expected}" =~ ^[0-9a-f]{64}$ ]] ||
  die "s3://${BACKUP_BUCKET}/${key} has no sha256 metadata (not written by backup-database.sh); refusing it"
actual=$(sha256_of "${archive}")
[[ "${actual}" == "${expected}" ]] ||
  die "checksum mismatch for ${key}: object metadata says ${expected}, downloaded ${actual}; refusing it"
verify_dump_archive "${archive}" || die "${key} failed verification; the target was not touched"
log "archive verified (sha256 ${actual})"

psql_target() {
  psql -X --no-password --set=ON_ERROR_STOP=1 --quiet "$@"
}

# Relations outside the system schemas, other than those an extension owns: a restore into a non-empty database
# would collide with what is there (and fail), or worse, mix two databases. Refuse before starting.
existing=$(psql_target -At -c "
  SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'
    AND NOT EXISTS (SELECT 1 FROM pg_depend d
                    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')") ||
  die "cannot connect to the target database ${PGDATABASE}"
[[ "${existing}" == 0 ]] ||
  die "target database ${PGDATABASE} is not empty (${existing} relations); restore into a new, empty database"

restore_options=(--single-transaction --exit-on-error --no-password --dbname="${PGDATABASE}")
if is_true "${RESTORE_NO_OWNER:-false}"; then restore_options+=(--no-owner --no-privileges); fi

log "restoring into ${PGDATABASE} (one transaction)"
# If gzip fails half-way, pg_restore meets a truncated archive and fails inside its transaction; `cat` drains
# input pg_restore leaves unread, so a successful restore is never reported as failed by gzip's SIGPIPE.
if ! gzip -dc "${archive}" | { pg_restore "${restore_options[@]}" && cat >/dev/null; }; then
  die "restore of ${key} into ${PGDATABASE} failed; the transaction was rolled back and the target is unchanged"
fi

if is_true "${RESTORE_ANALYZE:-true}"; then
  log "analyzing ${PGDATABASE}"
  psql_target -c 'ANALYZE' >/dev/null || die "restore committed, but ANALYZE failed; run ANALYZE by hand"
fi

log "restore complete: ${key} -> ${PGDATABASE}"
printf '%s\n' "${key}"
