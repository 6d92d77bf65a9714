#!/usr/bin/env bash
# Installs, builds and starts both services on data/app.db, as production runs them.
#   npm start                                     (OPENROUTER_API_KEY from the env or .env)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
load_env

ensure_deps backend
ensure_deps frontend
echo "==> building"
(cd "$ROOT/backend" && npm run build --silent)
(cd "$ROOT/frontend" && npm run build --silent)

export DATABASE_PATH="${DATABASE_PATH:-$ROOT/data/app.db}"
BACKEND_PORT="${BACKEND_PORT:-12015}"
FRONTEND_PORT="${FRONTEND_PORT:-12016}"

pids=()
cleanup() { kill -TERM "${pids[@]}" 2>/dev/null || true; wait || true; }
trap cleanup EXIT INT TERM

# The backend's C allocator as in its container (backend/Dockerfile: jemalloc with its
# MALLOC_CONF) when Debian's libjemalloc2 is installed; the system's malloc otherwise.
(
  cd "$ROOT/backend"
  if service_allocator 2>/dev/null; then
    export LD_PRELOAD="$SERVICE_LD_PRELOAD" MALLOC_CONF="$SERVICE_MALLOC_CONF"
  fi
  NODE_ENV=production PORT="$BACKEND_PORT" exec node --max-semi-space-size=16 dist/main.js
) &
pids+=($!)
(cd "$ROOT/frontend" && NODE_ENV=production PORT="$FRONTEND_PORT" BACKEND_URL="http://127.0.0.1:$BACKEND_PORT" exec node --max-semi-space-size=16 dist/server/main.js) &
pids+=($!)

echo "==> AI is starting: open http://localhost:$FRONTEND_PORT (database: $DATABASE_PATH)"
# Stops both when either exits.
wait -n
