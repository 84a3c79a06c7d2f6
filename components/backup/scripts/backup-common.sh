# shellcheck shell=bash
# backup-common.sh: sourced (never run) by the backup scripts mounted next to it from the same ConfigMap.
# Logging, argument checks, the AWS CLI call with the optional S3-compatible endpoint and KMS key, the archive
# checks and the choice of "the newest backup". Logs go to stderr; stdout is reserved for each script's result.

SCRIPT_NAME=$(basename "${BASH_SOURCE[1]:-$0}" .sh)

log() {
  printf '%s %s: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "${SCRIPT_NAME}" "$*" >&2
}

die() {
  log "ERROR: $*"
  exit 1
}

# require_env NAME...: every named variable must be set and non-empty.
require_env() {
  local name missing=()
  for name in "$@"; do
    if [[ -z "${!name:-}" ]]; then missing+=("${name}"); fi
  done
  if ((${#missing[@]} > 0)); then die "required environment variable(s) not set: ${missing[*]}"; fi
}

# require_tools NAME...: every tool must be on PATH.
require_tools() {
  local tool missing=()
  for tool in "$@"; do
    if ! command -v "${tool}" >/dev/null 2>&1; then missing+=("${tool}"); fi
  done
  if ((${#missing[@]} > 0)); then die "required tool(s) not on PATH: ${missing[*]}"; fi
}

# is_true VALUE: "true", "1" or "yes" (any case).
is_true() {
  case "${1,,}" in
    true | 1 | yes) return 0 ;;
    *) return 1 ;;
  esac
}

# aws_cli ARGS...: the AWS CLI, pointed at S3_ENDPOINT_URL when set (an S3-compatible server, or a VPC endpoint).
aws_cli() {
  local endpoint=()
  if [[ -n "${S3_ENDPOINT_URL:-}" ]]; then endpoint=(--endpoint-url "${S3_ENDPOINT_URL}"); fi
  aws "${endpoint[@]}" "$@"
}

# upload FILE KEY SHA256 [METADATA] [CONTENT_TYPE]: one PutObject (multipart for large files) of FILE to s3://BACKUP_BUCKET/KEY
# with the checksum in the object's metadata, so archive and checksum are written, or fail, together (a sidecar
# object could be left behind alone). SSE-KMS with KMS_KEY_ID when set; otherwise the bucket default applies.
upload() {
  local file=$1 key=$2 sha=$3 extra=${4:-} type=${5:-application/gzip}
  local sse=()
  if [[ -n "${KMS_KEY_ID:-}" ]]; then sse=(--sse aws:kms --sse-kms-key-id "${KMS_KEY_ID}"); fi
  aws_cli s3 cp "${file}" "s3://${BACKUP_BUCKET}/${key}" \
    --only-show-errors --no-progress \
    --content-type "${type}" \
    --metadata "sha256=${sha}${extra:+,${extra}}" \
    "${sse[@]}"
}

# download KEY FILE: GetObject of s3://BACKUP_BUCKET/KEY into FILE; prints the sha256 the object's metadata
# records. Body and metadata come from the same response, so they belong to the same object version.
download() {
  local key=$1 file=$2
  aws_cli s3api get-object --bucket "${BACKUP_BUCKET}" --key "${key}" \
    --query 'Metadata.sha256' --output text "${file}"
}

sha256_of() {
  local sum
  sum=$(sha256sum "$1")
  printf '%s\n' "${sum%% *}"
}

# safe_name NAME: the name as it appears in object keys (anything outside [A-Za-z0-9_-] becomes "_").
safe_name() {
  printf '%s' "$1" | tr -c 'A-Za-z0-9_-' '_'
}

# utc_stamp: YYYYmmdd_HHMMSS, taken once so that the folder and the file name of one backup always agree (the
# seed calls `date` three times and can put a backup taken at midnight into the wrong month).
utc_stamp() {
  date -u +%Y%m%d_%H%M%S
}

# stamp_epoch YYYYmmdd_HHMMSS: seconds since the epoch.
stamp_epoch() {
  local s=$1
  date -u -d "${s:0:4}-${s:4:2}-${s:6:2} ${s:9:2}:${s:11:2}:${s:13:2}" +%s
}

# verify_dump_archive FILE: the gzip stream is intact (gzip -t) AND it holds a complete pg_dump archive:
# pg_restore reads its table of contents and then every entry and data block, rendering the whole restore
# script to /dev/null. Anything that is not a pg_dump archive, or one cut short anywhere (a failed dump, a
# truncated upload or download), fails here.
verify_dump_archive() {
  local file=$1
  gzip -t "${file}" 2>/dev/null || {
    log "archive ${file##*/} is not a valid gzip stream (truncated or corrupt)"
    return 1
  }
  # `cat` drains what pg_restore leaves unread, so gzip never dies of SIGPIPE (which pipefail would report).
  if ! gzip -dc "${file}" | { pg_restore --file=/dev/null && cat >/dev/null; }; then
    log "archive ${file##*/} is not a complete pg_dump archive (pg_restore could not read all of it)"
    return 1
  fi
}

# backup_keys PREFIX: every object key under PREFIX/, one per line.
backup_keys() {
  # With --output text the CLI applies the query to each page; "None" marks an empty page.
  aws_cli s3api list-objects-v2 --bucket "${BACKUP_BUCKET}" --prefix "${1%/}/" \
    --query 'Contents[].[Key]' --output text
}

# newest_backup_key PREFIX SUFFIX [NAME]: the key under PREFIX/ named <NAME>_YYYYmmdd_HHMMSS<SUFFIX> with the
# latest timestamp (any name when NAME is empty). The timestamp in the name, not LastModified, decides: a copied
# or replicated object keeps its name but not its LastModified. Prints nothing when there is none.
newest_backup_key() {
  local prefix=$1 suffix=$2 name=${3:-} listing pattern
  listing=$(backup_keys "${prefix}") || die "cannot list s3://${BACKUP_BUCKET}/${prefix%/}/"
  if [[ -n "${name}" ]]; then name=$(safe_name "${name}"); else name='[A-Za-z0-9_-]+'; fi
  pattern="(^|/)${name}_[0-9]{8}_[0-9]{6}${suffix//./\\.}\$"
  printf '%s\n' "${listing}" | tr '\t' '\n' | { grep -E "${pattern}" || true; } |
    sed -E "s/^(.*_([0-9]{8}_[0-9]{6})${suffix//./\\.})\$/\\2 \\1/" | sort | tail -n 1 | cut -d' ' -f2-
}

# key_stamp KEY: the YYYYmmdd_HHMMSS part of a backup key.
key_stamp() {
  local base=${1##*/}
  base=${base%%.*}
  printf '%s\n' "${base: -15}"
}
