#!/usr/bin/env bash
# backup-database.sh: one verified, compressed logical backup of a PostgreSQL database, uploaded to S3.
#
# Environment:
#   PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE  libpq connection (PGDATABASE required)
#   BACKUP_BUCKET       bucket name (required)
#   BACKUP_PREFIX       key prefix, e.g. "database" (required)
#   S3_ENDPOINT_URL     optional S3-compatible endpoint, passed to the AWS CLI as --endpoint-url
#   KMS_KEY_ID          optional KMS key for SSE-KMS (--sse aws:kms); otherwise the bucket default encryption
#   BACKUP_WORK_DIR     where the archive is staged (default: $TMPDIR or /tmp; an emptyDir in the cluster)
#   PG_DUMP_LOCK_WAIT_TIMEOUT  how long pg_dump waits for a table lock before failing (default 300s)
#
# Uploads s3://$BACKUP_BUCKET/$BACKUP_PREFIX/YYYY/MM/<db>_YYYYmmdd_HHMMSS.sql.gz with its sha256 in the object
# metadata, and prints that key as the last line of stdout. On any failure it exits non-zero and uploads nothing.
#
# Departures from the seed (database-backup.sh), and why:
# - `set -o pipefail`: the seed's `pg_dump | gzip` takes gzip's exit status, so a failed pg_dump (wrong password,
#   lost connection, a permission error half-way) left a valid, truncated .gz that passed `gzip -t` and was
#   uploaded as a good backup.
# - pg_dump's custom format (uncompressed, -Z0) inside gzip, under the issue's `.sql.gz` key layout: `gzip -t`
#   proves the compression layer, and `pg_restore` reading every entry and data block proves the dump is whole.
#   Custom rather than plain SQL because only pg_restore --single-transaction restores it atomically: a plain
#   dump wraps its large objects in its own BEGIN/COMMIT, which commits a `psql --single-transaction` half-way
#   (the round-trip test caught this). It also lets a restore skip owners and grants (RESTORE_NO_OWNER).
#   `gzip -dc <key> | pg_restore -f -` turns it into SQL for a reader.
# - No `find -delete`: retention is the bucket's lifecycle rule, which also covers old versions; the staging
#   directory is removed when the script exits, whatever the outcome.
# - One timestamp, in UTC, for both the folder and the file name.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

require_env PGDATABASE BACKUP_BUCKET BACKUP_PREFIX
require_tools pg_dump pg_restore gzip sha256sum aws

work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "${work_root%/}/backup-database.XXXXXX")
trap 'rm -rf "${work}"' EXIT

stamp=$(utc_stamp)
db=$(safe_name "${PGDATABASE}")
name="${db}_${stamp}.sql.gz"
key="${BACKUP_PREFIX%/}/${stamp:0:4}/${stamp:4:2}/${name}"
archive="${work}/${name}"

log "dumping database ${PGDATABASE} from ${PGHOST:-local socket}:${PGPORT:-5432}"
# --no-password: a job must fail, never wait at a prompt. The lock timeout stops pg_dump from queueing behind an
# ACCESS EXCLUSIVE lock for hours (and blocking every later query on that table behind itself).
if ! pg_dump --format=custom --compress=0 --no-password --lock-wait-timeout="${PG_DUMP_LOCK_WAIT_TIMEOUT:-300s}" |
  gzip -6 >"${archive}"; then
  die "pg_dump of ${PGDATABASE} failed; nothing uploaded"
fi

log "verifying ${name}"
verify_dump_archive "${archive}" || die "verification of ${name} failed; nothing uploaded"
sha=$(sha256_of "${archive}")
size=$(wc -c <"${archive}")

log "uploading ${size} bytes to s3://${BACKUP_BUCKET}/${key} (sha256 ${sha})"
upload "${archive}" "${key}" "${sha}" "database=${db},format=pg_dump-custom-gzip" ||
  die "upload to s3://${BACKUP_BUCKET}/${key} failed"

log "backup complete: s3://${BACKUP_BUCKET}/${key}"
printf '%s\n' "${key}"
