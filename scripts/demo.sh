#!/usr/bin/env bash
# One command for a fresh machine: installs what is missing, starts a local 3-member mTLS etcd cluster,
# builds and starts the dashboard against it, and prints the URL. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1

CLUSTER_DIR="${DEMO_CLUSTER_DIR:-.cluster/demo}"
PORT="${PORT:-3000}"
HOST="${DEMO_HOST:-127.0.0.1}"

bash scripts/setup.sh

npx tsx scripts/local-cluster.ts up --dir "$CLUSTER_DIR" --members 3 --base-port "${DEMO_BASE_PORT:-23790}"

dashboard_pid=""
cleanup() {
  trap - EXIT INT TERM
  if [ -n "$dashboard_pid" ] && kill -0 "$dashboard_pid" 2>/dev/null; then
    kill "$dashboard_pid" 2>/dev/null || true
    wait "$dashboard_pid" 2>/dev/null || true
  fi
  echo "demo: stopping the local etcd cluster"
  npx tsx scripts/local-cluster.ts down --dir "$CLUSTER_DIR" || true
}
trap cleanup EXIT INT TERM

# Build when there is no build yet or the sources changed since the last one.
if [ ! -f .next/BUILD_ID ] || [ -n "$(find app components lib public next.config.js package-lock.json -newer .next/BUILD_ID -print -quit 2>/dev/null)" ]; then
  npm run build
fi

eval "$(npx tsx scripts/local-cluster.ts env --dir "$CLUSTER_DIR")"
# The newest etcd this machine has or can get (3.7 built with Go; else Debian's 3.5; last the end-of-life 3.4).
ETCD_LINE_INFO="$(npx tsx scripts/local-cluster.ts status --dir "$CLUSTER_DIR" | head -1)"
ETCDCTL_BIN="$(npx tsx scripts/local-cluster.ts status --dir "$CLUSTER_DIR" | head -1 | sed -E 's/.*etcdctl ([^,]+),.*/\1/')"
# Anonymous viewing on, and an operator account with a fresh password, printed once below.
OPERATOR_PASSWORD="$(npx tsx --conditions=react-server scripts/demo-config.ts --cluster-dir "$CLUSTER_DIR" --out "$CLUSTER_DIR/dashboard.yaml")"
# Started by node directly (not through npm) so the PID we hold is the server's own.
ETCD_DASHBOARD_CONFIG="$CLUSTER_DIR/dashboard.yaml" PORT="$PORT" HOSTNAME="$HOST" node server/server.mjs &
dashboard_pid=$!

for _ in $(seq 1 100); do
  if node -e "fetch(process.argv[1]).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "http://$HOST:$PORT/api/clusters"; then break; fi
  kill -0 "$dashboard_pid" 2>/dev/null || { echo "demo: the dashboard exited; see above" >&2; exit 1; }
  sleep 0.2
done
cat <<MSG

  etcd dashboard:  http://$HOST:$PORT/   (anyone may look; sign in to act)
  operator login:  operator / $OPERATOR_PASSWORD   (shown only now; stored as a hash)
  etcd cluster:    $ETCDCTL_ENDPOINTS (mTLS; certificates in $CLUSTER_DIR/pki)
  etcd version:    $ETCD_LINE_INFO
  try etcdctl:     eval "\$(npm run -s cluster -- env --dir $CLUSTER_DIR)" && $ETCDCTL_BIN endpoint status -w table
  stop a member:   npm run cluster -- stop-member --dir $CLUSTER_DIR --member 1
  start it again:  npm run cluster -- start-member --dir $CLUSTER_DIR --member 1

  Ctrl-C stops the dashboard and the cluster.
MSG
wait "$dashboard_pid"
