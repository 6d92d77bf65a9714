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

# Loads a root .env file when present (KEY=value lines), without overriding the environment.
load_env() {
  [ -f "$ROOT/.env" ] || return 0
  while IFS='=' read -r key value; do
    [[ "$key" =~ ^[A-Z_][A-Z0-9_]*$ ]] || continue
    [ -n "${!key:-}" ] || export "$key=$value"
  done < "$ROOT/.env"
}
