#!/usr/bin/env bash
# Runs every check CI runs, from a fresh clone: installs what is missing (npm packages,
# Debian's chromium and nginx), then npm audit of the production dependencies, then per package
# format, lint (zero warnings), tsc and tests, then
# the end-to-end browser suite against the production builds, then the benchmark suite's short
# run as a smoke test.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_system_packages
# The e2e suite and the bench start the services on the containers' Node (SERVICE_NODE).
ensure_service_node

packages=(tools/fake-openrouter backend frontend e2e bench)
for pkg in "${packages[@]}"; do ensure_deps "$pkg"; done

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

run_package() {
  local pkg="$1" name
  name="$(basename "$pkg")"
  echo "==> $pkg: format, lint, typecheck"
  (cd "$ROOT/$pkg" && npm run --silent format && npm run --silent lint && npm run --silent typecheck)
  echo "==> $pkg: tests"
  (cd "$ROOT/$pkg" && npx vitest run --reporter=default --reporter=json --outputFile.json="$results/$name.json")
}

# Production dependencies against npm's advisories (scripts/audit.sh): a high or critical one,
# or an advisory endpoint that cannot be asked, fails the run in the closing line below.
bash "$ROOT/scripts/audit.sh" "$results/audit.json" || true

for pkg in tools/fake-openrouter backend frontend; do run_package "$pkg"; done

echo "==> production builds for the end-to-end suite"
(cd "$ROOT/backend" && npm run --silent build)
(cd "$ROOT/frontend" && npm run --silent build)
run_package e2e

# The benchmark suite's short run (bench/, docs/benchmarks.md) as a smoke test on the same
# builds: it fails on errors (broken streams, failed requests, crashes), never on timings.
# Its checks are counted in the closing line below.
echo "==> bench: format, typecheck, short run"
(cd "$ROOT/bench" && npm run --silent format && npm run --silent typecheck)
if ! bash "$ROOT/bench/run.sh" --short --no-build --report-json "$results/bench.json"; then
  [ -f "$results/bench.json" ] ||
    echo '{"numPassedTests":0,"numFailedTests":1,"numPendingTests":0,"numTodoTests":0}' >"$results/bench.json"
fi

# One closing line over every suite, in the plain form CI reads.
node -e '
  const fs = require("fs"), path = require("path");
  let passed = 0, failed = 0, skipped = 0;
  for (const f of fs.readdirSync(process.argv[1])) {
    const r = JSON.parse(fs.readFileSync(path.join(process.argv[1], f), "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ""));
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
' "$results"
