#!/usr/bin/env bash
# The whole app against the fake OpenRouter, for trying it without a key:
# models named fake/* stream canned answers that echo what you wrote.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_deps tools/fake-openrouter
FAKE_PORT="${FAKE_PORT:-12099}"
(cd "$ROOT/tools/fake-openrouter" && PORT="$FAKE_PORT" exec npx tsx src/main.ts) &
fake_pid=$!
trap 'kill -TERM $fake_pid 2>/dev/null || true' EXIT

export OPENROUTER_BASE_URL="http://127.0.0.1:$FAKE_PORT/api/v1"
export OPENROUTER_API_KEY="sk-or-fake-demo-key"
export DATABASE_PATH="${DATABASE_PATH:-$ROOT/data/demo.db}"
echo "==> demo: fake OpenRouter on $OPENROUTER_BASE_URL, database $DATABASE_PATH"
bash "$ROOT/scripts/start.sh"
