#!/usr/bin/env bash
# Every test: installs what is missing, then lint, types, format, unit and integration tests (real etcd),
# the production build, the end-to-end suite in Chromium (real etcd, real dashboard) and five fault drills.
# Each step starts what it needs and stops it by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n=== %s ===\n' "$*"; }

step setup
bash scripts/setup.sh

step "route types"
npx next typegen
step lint
npm run lint
step typecheck
npm run typecheck
step format
npm run format:check
step "unit and integration tests"
npm run test:unit
step "production build"
npm run build
step "end-to-end tests"
npm run test:e2e
# The drills the e2e suite does not already cover, to keep the whole run well under 15 minutes; `npm run drills`
# runs all ten (about 3 minutes).
step "fault drills: frozen member, foreign CA, disk full mid-snapshot, dashboard killed mid-snapshot, API fuzz"
npm run drills -- drills/member-frozen.drill.ts drills/foreign-ca.drill.ts drills/snapshot-disk-full.drill.ts \
  drills/dashboard-killed.drill.ts drills/api-fuzz.drill.ts
