#!/usr/bin/env bash
# backup-kubernetes.sh: exports Kubernetes objects as YAML, encrypts the Secrets on the client, and uploads one
# archive to S3.
#
# Environment:
#   BACKUP_BUCKET       bucket name (required)
#   BACKUP_PREFIX       key prefix, e.g. "kubernetes" (required)
#   BACKUP_KINDS        space-separated resource kinds exported as plain YAML (required; the ClusterRole of the
#                       job is generated from the same list)
#   BACKUP_SECRETS      "true" to include Secrets, encrypted (default true)
#   SECRETS_PUBLIC_KEY_FILE  PEM RSA public key (>= 2048 bits) Secrets are encrypted to (required with secrets)
#   S3_ENDPOINT_URL     optional S3-compatible endpoint, passed to the AWS CLI as --endpoint-url
#   KMS_KEY_ID          optional KMS key for SSE-KMS; otherwise the bucket default encryption
#   BACKUP_WORK_DIR     staging directory (default: $TMPDIR or /tmp; a memory-backed emptyDir in the cluster)
#
# Uploads $BACKUP_PREFIX/YYYY/MM/kubernetes_YYYYmmdd_HHMMSS.tar.gz (sha256 in the object metadata) holding
# <kind>.yaml per kind, secrets.yaml.enc + secrets.key.enc, and MANIFEST; prints the key last on stdout. On any
# failure it exits non-zero and uploads nothing.
#
# Departures from the seed (kubernetes-backup.sh), and why:
# - Secrets: the seed piped them to `ansible-vault encrypt`, which needs the vault password in the cluster (so
#   anyone who can read the job can decrypt every backup) and a tool no official image ships. Here they are
#   encrypted to an RSA public key: a fresh random 256-bit key encrypts the YAML (openssl enc, AES-256-CBC,
#   PBKDF2), and that key is encrypted with RSA-OAEP (SHA-256) to the public key. Only the offline private key
#   decrypts (docs/runbooks/restore-kubernetes-objects.md). `openssl cms` would be the standard envelope, but it
#   needs an X.509 certificate, and the configuration holds a bare public key. Plain-text Secrets never reach
#   a file: kubectl's output is piped straight into openssl.
# - No MAC over the ciphertext: anyone holding the public key can produce a valid-looking archive, so a MAC
#   would not prove origin; integrity comes from the sha256 metadata, bucket versioning and Object Lock.
# - One archive uploaded once (the seed's `aws s3 sync` of a directory could leave half a backup behind), and
#   `set -o pipefail`, so a failed `kubectl get` is an error, not an empty file.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
# shellcheck source=backup-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/backup-common.sh"

require_env BACKUP_BUCKET BACKUP_PREFIX BACKUP_KINDS
require_tools kubectl openssl tar gzip sha256sum aws

with_secrets=false
if is_true "${BACKUP_SECRETS:-true}"; then
  with_secrets=true
  require_env SECRETS_PUBLIC_KEY_FILE
  bits=$(openssl pkey -pubin -in "${SECRETS_PUBLIC_KEY_FILE}" -noout -text 2>/dev/null |
    sed -nE 's/^(RSA )?Public-Key: \(([0-9]+) bit\).*/\2/p') || bits=""
  [[ -n "${bits}" ]] || die "${SECRETS_PUBLIC_KEY_FILE} is not a PEM RSA public key"
  ((bits >= 2048)) || die "${SECRETS_PUBLIC_KEY_FILE} is a ${bits}-bit RSA key; at least 2048 bits are required"
fi

work_root=${BACKUP_WORK_DIR:-${TMPDIR:-/tmp}}
work=$(mktemp -d "${work_root%/}/backup-kubernetes.XXXXXX")
trap 'rm -rf "${work}"' EXIT
export_dir="${work}/export"
mkdir -m 700 "${export_dir}"

stamp=$(utc_stamp)
name="kubernetes_${stamp}.tar.gz"
key="${BACKUP_PREFIX%/}/${stamp:0:4}/${stamp:4:2}/${name}"
archive="${work}/${name}"

count_items() {
  local n
  n=$(grep -c '^- apiVersion:' "$1" || true)
  printf '%s\n' "${n:-0}"
}

{
  printf 'ZARISH SPHERE Kubernetes object backup\ncreated: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  printf 'kubectl: %s\n' "$(kubectl version --client 2>/dev/null | head -n 1 || true)"
} >"${export_dir}/MANIFEST"

read -r -a kinds <<<"${BACKUP_KINDS}"
for kind in "${kinds[@]}"; do
  [[ "${kind}" =~ ^[a-z0-9.-]+$ ]] || die "invalid kind '${kind}' in BACKUP_KINDS"
  [[ "${kind}" != secret* ]] || die "secrets are exported only encrypted (BACKUP_SECRETS), never in BACKUP_KINDS"
  log "exporting ${kind}"
  kubectl get "${kind}" --all-namespaces --output=yaml >"${export_dir}/${kind}.yaml" ||
    die "kubectl get ${kind} failed; nothing uploaded"
  printf '%s.yaml: %s items\n' "${kind}" "$(count_items "${export_dir}/${kind}.yaml")" >>"${export_dir}/MANIFEST"
done

if [[ "${with_secrets}" == true ]]; then
  log "exporting secrets, encrypted to ${SECRETS_PUBLIC_KEY_FILE}"
  data_key="${work}/data.key"
  (
    umask 077
    openssl rand -hex 32 >"${data_key}"
  )
  openssl pkeyutl -encrypt -pubin -inkey "${SECRETS_PUBLIC_KEY_FILE}" \
    -pkeyopt rsa_padding_mode:oaep -pkeyopt rsa_oaep_md:sha256 -pkeyopt rsa_mgf1_md:sha256 \
    -in "${data_key}" -out "${export_dir}/secrets.key.enc" || die "cannot encrypt the data key"
  kubectl get secrets --all-namespaces --output=yaml |
    openssl enc -aes-256-cbc -pbkdf2 -iter 100000 -salt -pass "file:${data_key}" \
      -out "${export_dir}/secrets.yaml.enc" || die "kubectl get secrets or its encryption failed; nothing uploaded"
  rm -f "${data_key}"
  cat >>"${export_dir}/MANIFEST" <<'EOF'
secrets.yaml.enc: kubectl get secrets -A -o yaml, openssl enc -aes-256-cbc -pbkdf2 -iter 100000 -salt
secrets.key.enc: its passphrase (openssl rand -hex 32), openssl pkeyutl RSA-OAEP sha256/mgf1 sha256
EOF
fi

log "packing ${name}"
tar -C "${export_dir}" -czf "${archive}" . || die "cannot create ${name}"
gzip -t "${archive}" || die "${name} failed gzip -t; nothing uploaded"
tar -tzf "${archive}" >/dev/null || die "${name} is not a readable tar archive; nothing uploaded"
sha=$(sha256_of "${archive}")

log "uploading to s3://${BACKUP_BUCKET}/${key} (sha256 ${sha})"
upload "${archive}" "${key}" "${sha}" "format=kubernetes-yaml-tar-gzip" || die "upload to s3://${BACKUP_BUCKET}/${key} failed"

log "backup complete: s3://${BACKUP_BUCKET}/${key}"
printf '%s\n' "${key}"
