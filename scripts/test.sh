#!/usr/bin/env bash
# Every test: installs what is missing, then lint, types, format, unit and integration tests (real etcd),
# the production and standalone builds, the end-to-end suite in Chromium (real etcd, real dashboard), seven fault
# drills and the deployment files (Dockerfile, Helm chart, static pod, systemd unit).
# Each step starts what it needs and stops it by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n=== %s ===\n' "$*"; }

step setup
bash scripts/setup.sh
# helm and kubeconform for the deployment tests (test/deploy, the last step) build with Go in the background, at the
# lowest CPU priority so the steps in front keep the cores: about 5 minutes on 2 cores the first time, a second once
# cached.
mkdir -p .scratch
# Prometheus and Alertmanager for the end-to-end suite come first (a download, under a minute).
setsid nice -n 19 npx tsx scripts/deploy-tools.ts ensure --monitoring > .scratch/deploy-tools.log 2>&1 &
deploy_tools_pid=$!
# In its own process group, so a run that stops early stops the Go compilers too, by that group's id.
trap 'kill -- "-$deploy_tools_pid" 2>/dev/null || true' EXIT
# Every supported etcd: 3.4 from Debian, 3.5 from Debian sid's packages, 3.6 and 3.7 built with Go (cached).
step "etcd binaries: every supported version"
npm run -s etcd -- ensure all
# The heavy suites run on one version: ETCD_DASHBOARD_ETCD_VERSION, else the newest this machine has.
ETCD_DASHBOARD_ETCD_VERSION="${ETCD_DASHBOARD_ETCD_VERSION:-$(npm run -s etcd -- default)}"
export ETCD_DASHBOARD_ETCD_VERSION
echo "test: the full suites run on etcd $ETCD_DASHBOARD_ETCD_VERSION"

step "route types"
npx next typegen
step "lint and typecheck, side by side (each mostly one core)"
npm run lint &
lint_pid=$!
npm run typecheck &
typecheck_pid=$!
lint_rc=0
wait "$lint_pid" || lint_rc=$?
typecheck_rc=0
wait "$typecheck_pid" || typecheck_rc=$?
if [ "$lint_rc" -ne 0 ] || [ "$typecheck_rc" -ne 0 ]; then
  echo "test: lint exited $lint_rc, typecheck exited $typecheck_rc" >&2
  exit 1
fi
step format
npm run format:check
# Before the unit tests: test/deploy checks the Dockerfile's COPY lines against dist/standalone.
step "production build and the standalone folder (the image, the unit and the static pod run it)"
npm run build:standalone
step "unit and integration tests (etcd $ETCD_DASHBOARD_ETCD_VERSION)"
# The deployment tests run last, so the first build of helm never holds up the rest.
npm run test:unit -- --exclude 'test/deploy/**'
# The tests that talk to etcd (probe, status, alarms, metrics, Secrets census, certificates, snapshot stream,
# verification against that version's own snapshot status, restore; the maintenance runs and the consistency check)
# on every other supported version.
for line in $(npm run -s etcd -- lines); do
  [ "$line" = "$ETCD_DASHBOARD_ETCD_VERSION" ] && continue
  step "integration tests against etcd $line"
  ETCD_DASHBOARD_ETCD_VERSION="$line" npx vitest run lib/etcd lib/snapshots lib/collector/cluster-collector.test.ts \
    lib/maintenance
done
step "end-to-end tests (etcd $ETCD_DASHBOARD_ETCD_VERSION)"
npm run test:e2e
# The end-to-end core on every other version: the healthy view, a member and the leader stopped, quorum lost and
# back, a snapshot taken from the page (verified against that version's etcdutl, its runbook), the NOC wall.
E2E_CORE='a healthy cluster shows|stopping one member, then a second|stopping the leader records|an operator takes a snapshot from the page|through the API is verified|three clusters at 1920'
# 3.4 is end of life: its core is the healthy view and a snapshot from the page (restored with etcdctl, not etcdutl).
E2E_CORE_EOL='a healthy cluster shows|an operator takes a snapshot from the page'
for line in $(npm run -s etcd -- lines); do
  [ "$line" = "$ETCD_DASHBOARD_ETCD_VERSION" ] && continue
  step "end-to-end core against etcd $line"
  core="$E2E_CORE"
  [ "$line" = "3.4" ] && core="$E2E_CORE_EOL"
  ETCD_DASHBOARD_ETCD_VERSION="$line" npx playwright test --grep "$core"
done
# The drills the e2e suite does not already cover, to keep the whole run well under 15 minutes; `npm run drills`
# runs all twelve (about 4 minutes).
step "fault drills: frozen member, foreign CA, disk full mid-snapshot, dashboard killed mid-snapshot, mid-defragment and mid restore test, API fuzz"
npm run drills -- drills/member-frozen.drill.ts drills/foreign-ca.drill.ts drills/snapshot-disk-full.drill.ts \
  drills/dashboard-killed.drill.ts drills/maintenance-killed.drill.ts drills/restore-test-killed.drill.ts \
  drills/api-fuzz.drill.ts
step "deployment: Dockerfile (hadolint), Helm chart (helm, kubeconform), kubeadm static pod, systemd unit"
wait "$deploy_tools_pid" || { cat .scratch/deploy-tools.log; exit 1; }
npx vitest run test/deploy
