#!/usr/bin/env bash
# The benchmark suite (see docs/benchmarks.md): installs what is missing, then runs
# bench/src/main.ts. `npm run bench` (short, the default) or `npm run bench -- --full`.
# Other flags: --no-build (reuse backend/dist and frontend/dist), --only relay,db,ui,soak,
# --soak-seconds N, --soak-streams N, --json FILE, --report-json FILE, --node BIN (the Node
# that runs the services; default: the containers' version, installed by ensure_service_node),
# --backend-env KEY=VALUE,… (every backend's environment; default: its container's allocator).
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"

# The bench runs the fake from source with its own tsx; backend/ and frontend/ need their
# dev dependencies only to build.
ensure_system_packages >&2
ensure_deps bench >&2
if [[ " $* " != *" --no-build "* ]]; then
  for pkg in backend frontend; do ensure_deps "$pkg" >&2; done
fi

# 1,000 concurrent streams hold thousands of sockets: raise the soft limit for every
# process the bench starts (as far as the hard limit allows).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

node_flag=()
if [[ " $* " != *" --node "* ]]; then
  ensure_service_node >&2
  node_flag=(--node "$SERVICE_NODE")
fi

# The backend's C allocator as in its container (backend/Dockerfile: jemalloc, MALLOC_CONF).
allocator_flag=()
if [[ " $* " != *" --backend-env "* ]]; then
  service_allocator >&2
  allocator_flag=(--backend-env "LD_PRELOAD=$SERVICE_LD_PRELOAD,MALLOC_CONF=$SERVICE_MALLOC_CONF")
fi

cd "$ROOT/bench"
exec node --import tsx src/main.ts "${node_flag[@]}" "${allocator_flag[@]}" "$@"
