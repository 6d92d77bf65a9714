#!/usr/bin/env bash
# Renders the nginx template into a config file nginx can include in its http block.
#
#   NGINX_SERVER_NAME=ai.example.com \
#   NGINX_TLS_CERT=/etc/letsencrypt/live/ai.example.com/fullchain.pem \
#   NGINX_TLS_KEY=/etc/letsencrypt/live/ai.example.com/privkey.pem \
#   FRONTEND_UPSTREAM=192.168.88.18:12016 \
#   deploy/nginx/render.sh /etc/nginx/conf.d/ai.conf [TEMPLATE]
#
# Variables (NGINX_HTTP_PORT and NGINX_HTTPS_PORT default to 80 and 443; the others are
# required): NGINX_SERVER_NAME NGINX_HTTP_PORT NGINX_HTTPS_PORT NGINX_TLS_CERT NGINX_TLS_KEY
# FRONTEND_UPSTREAM. Only these names are replaced: nginx's own $variables stay intact.
# Uses envsubst (Debian package gettext-base) when present, plain bash otherwise; both give
# the same output. The output is written atomically (temp file + rename).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

usage() {
  echo "usage: $0 OUTPUT_FILE [TEMPLATE]   (variables from the environment; see the header)" >&2
  exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
out="$1"
template="${2:-$here/templates/ai.conf.template}"
[[ -f "$template" ]] || { echo "render.sh: template not found: $template" >&2; exit 1; }

export NGINX_HTTP_PORT="${NGINX_HTTP_PORT:-80}"
export NGINX_HTTPS_PORT="${NGINX_HTTPS_PORT:-443}"

vars=(NGINX_SERVER_NAME NGINX_HTTP_PORT NGINX_HTTPS_PORT NGINX_TLS_CERT NGINX_TLS_KEY FRONTEND_UPSTREAM)

fail() {
  echo "render.sh: $*" >&2
  exit 1
}

for name in "${vars[@]}"; do
  value="${!name-}"
  [[ -n "$value" ]] || fail "$name is not set"
  # A value ends up inside an nginx directive: nothing that could end or open one.
  [[ "$value" != *[\;\{\}\$\'\"\\]* && "$value" != *$'\n'* ]] ||
    fail "$name contains a character not allowed in the config: $value"
done
for name in NGINX_HTTP_PORT NGINX_HTTPS_PORT; do
  [[ "${!name}" =~ ^[0-9]+$ && "${!name}" -ge 1 && "${!name}" -le 65535 ]] ||
    fail "$name must be a port number (1-65535), got: ${!name}"
done
for name in NGINX_TLS_CERT NGINX_TLS_KEY FRONTEND_UPSTREAM; do
  [[ "${!name}" != *[[:space:]]* ]] || fail "$name must not contain spaces: ${!name}"
done
[[ "$FRONTEND_UPSTREAM" =~ ^[^:/]+:[0-9]+$ || "$FRONTEND_UPSTREAM" =~ ^\[[0-9A-Fa-f:.]+\]:[0-9]+$ ]] ||
  fail "FRONTEND_UPSTREAM must be host:port (e.g. frontend:12016), got: $FRONTEND_UPSTREAM"

mkdir -p "$(dirname "$out")"
tmp="$(mktemp "$(dirname "$out")/.render.XXXXXX")"
trap 'rm -f "$tmp"' EXIT

if command -v envsubst >/dev/null 2>&1; then
  # Only the listed names: '${A} ${B} ...'.
  envsubst "$(printf '${%s} ' "${vars[@]}")" <"$template" >"$tmp"
else
  content="$(<"$template")"
  for name in "${vars[@]}"; do
    content="${content//"\${$name}"/"${!name}"}"
  done
  printf '%s\n' "$content" >"$tmp"
fi

# Any placeholder left means the template uses a name this script does not know.
if grep -n '\${[A-Za-z_][A-Za-z0-9_]*}' "$tmp" >&2; then
  fail "unrendered placeholder(s) above in $template"
fi

chmod 0644 "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
