#!/bin/sh
# Idempotent set-up of the logging stack's Elasticsearch cluster, run by the elasticsearch-bootstrap Job
# (components/logging/bootstrap.ts). What it sends is generated from typed data (bootstrap-requests.ts) into
# $REQUESTS_DIR: requests.tsv lists one request per line, tab-separated:
#   method  path  body-file  password-env  expected-substring  allow-missing  description
# ("-" for an empty field). A password is never in the ConfigMap: the body file holds the other fields and this
# script inserts "password" from the named environment variable (a Secret). Every request is safe to repeat.
# Then it publishes the logging CA certificate (public) to a ConfigMap in each namespace of $CA_NAMESPACES, so
# clients there can verify the stack's TLS endpoints.
#
# Environment: ES_URL, ELASTIC_PASSWORD, REQUESTS_DIR, CA_FILE (CA bundle for ES_URL), optional
# WAIT_SECONDS (default 600), CA_NAMESPACES (space-separated), CA_CONFIGMAP, KUBERNETES_API, SA_DIR.
set -eu

: "${ES_URL:?ES_URL is required}"
: "${ELASTIC_PASSWORD:?ELASTIC_PASSWORD is required}"
: "${REQUESTS_DIR:?REQUESTS_DIR is required}"
: "${CA_FILE:?CA_FILE is required}"
WAIT_SECONDS="${WAIT_SECONDS:-600}"
CA_NAMESPACES="${CA_NAMESPACES:-}"
CA_CONFIGMAP="${CA_CONFIGMAP:-logging-ca}"
KUBERNETES_API="${KUBERNETES_API:-https://kubernetes.default.svc}"
SA_DIR="${SA_DIR:-/var/run/secrets/kubernetes.io/serviceaccount}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
umask 077

fail() {
  echo "bootstrap: $*" >&2
  exit 1
}

# Only letters and digits: the password is placed into JSON and curl config text without escaping.
check_password() {
  case "$1" in
    "" | *[!A-Za-z0-9]*) fail "$2 must be a non-empty alphanumeric password" ;;
  esac
}
check_password "$ELASTIC_PASSWORD" ELASTIC_PASSWORD
printf 'user = "elastic:%s"\n' "$ELASTIC_PASSWORD" >"$work/auth.conf"

# es METHOD PATH [BODY_FILE] -> prints the HTTP status; the response body is in $work/response.
es() {
  if [ $# -ge 3 ]; then
    curl --silent --show-error --cacert "$CA_FILE" -K "$work/auth.conf" --max-time 60 \
      -X "$1" -H 'Content-Type: application/json' --data-binary "@$3" \
      --output "$work/response" --write-out '%{http_code}' "$ES_URL$2" || true
  else
    curl --silent --show-error --cacert "$CA_FILE" -K "$work/auth.conf" --max-time 60 \
      -X "$1" --output "$work/response" --write-out '%{http_code}' "$ES_URL$2" || true
  fi
}

echo "bootstrap: waiting for $ES_URL (at most ${WAIT_SECONDS}s)"
waited=0
until [ "$(es GET '/_cluster/health?wait_for_status=yellow&timeout=5s')" = 200 ]; do
  waited=$((waited + 10))
  [ "$waited" -le "$WAIT_SECONDS" ] || fail "Elasticsearch did not become available within ${WAIT_SECONDS}s"
  sleep 10
done

tab="$(printf '\t')"
count=0
while IFS="$tab" read -r method path body password_env expect allow_missing description; do
  case "$method" in "" | \#*) continue ;; esac
  count=$((count + 1))
  echo "bootstrap: $description ($method $path)"
  payload="$work/payload.json"
  if [ "$body" = "-" ]; then
    payload=""
  elif [ "$password_env" = "-" ]; then
    cp "$REQUESTS_DIR/$body" "$payload"
  else
    password="$(printenv "$password_env" || true)"
    check_password "$password" "$password_env"
    rest="$(cat "$REQUESTS_DIR/$body")"
    rest="${rest#\{}"
    if [ "$rest" = "}" ]; then
      printf '{"password":"%s"}' "$password" >"$payload"
    else
      printf '{"password":"%s",%s' "$password" "$rest" >"$payload"
    fi
  fi
  if [ -n "$payload" ]; then
    status="$(es "$method" "$path" "$payload")"
    rm -f "$payload"
  else
    status="$(es "$method" "$path")"
  fi
  if [ "$status" = 404 ] && [ "$allow_missing" = "yes" ]; then
    echo "bootstrap:   not present yet"
    continue
  fi
  case "$status" in
    2??) ;;
    *) fail "$method $path answered HTTP $status: $(head -c 2000 "$work/response")" ;;
  esac
  if [ "$expect" != "-" ] && ! grep -qF -- "$expect" "$work/response"; then
    fail "$method $path: the response does not contain $expect: $(head -c 2000 "$work/response")"
  fi
done <"$REQUESTS_DIR/requests.tsv"
[ "$count" -gt 0 ] || fail "no request found in $REQUESTS_DIR/requests.tsv"

if [ -n "$CA_NAMESPACES" ]; then
  # A JSON merge patch of the ConfigMap's data: the PEM's newlines as \n (PEM has no quote or backslash).
  pem="$(awk 'BEGIN { ORS = "" } { sub(/\r$/, ""); printf "%s\\n", $0 }' "$CA_FILE")"
  printf '{"data":{"ca.crt":"%s"}}' "$pem" >"$work/ca-patch.json"
  token="$(cat "$SA_DIR/token")"
  printf 'header = "Authorization: Bearer %s"\n' "$token" >"$work/kube.conf"
  for namespace in $CA_NAMESPACES; do
    echo "bootstrap: publishing the logging CA to ConfigMap $namespace/$CA_CONFIGMAP"
    status="$(curl --silent --show-error --cacert "$SA_DIR/ca.crt" -K "$work/kube.conf" --max-time 30 \
      -X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary "@$work/ca-patch.json" \
      --output "$work/response" --write-out '%{http_code}' \
      "$KUBERNETES_API/api/v1/namespaces/$namespace/configmaps/$CA_CONFIGMAP" || true)"
    case "$status" in
      2??) ;;
      *) fail "publishing the CA to $namespace answered HTTP $status: $(head -c 2000 "$work/response")" ;;
    esac
  done
fi

echo "bootstrap: done ($count requests)"
