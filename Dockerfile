# The etcd health dashboard's container image: `npm run build:standalone` in a full Node image, and only its output
# (dist/standalone: the server, Next's build, the runtime modules) in a slim one, run as uid 65532 from a read-only
# root filesystem.
#
#   docker build -t etcd-dashboard:0.1.0 --build-arg SOURCE_URL=<repository URL> .
#
# On a kubeadm control-plane node: the container runs as 65532, and kubeadm keeps the client key root-only (0600), so
# give that uid's group a copy first:
#
#   install -d -o root -g 65532 -m 0750 /etc/etcd-dashboard/pki
#   install -o root -g 65532 -m 0640 -t /etc/etcd-dashboard/pki /etc/kubernetes/pki/etcd/ca.crt \
#     /etc/kubernetes/pki/etcd/healthcheck-client.crt /etc/kubernetes/pki/etcd/healthcheck-client.key
#   docker run -d --name etcd-dashboard --read-only --tmpfs /tmp --cap-drop ALL \
#     --security-opt no-new-privileges -p 127.0.0.1:3000:3000 \
#     -v etcd-dashboard-data:/var/lib/etcd-dashboard \
#     -v /etc/etcd-dashboard/pki:/etc/etcd-dashboard/pki:ro \
#     -e ETCDCTL_ENDPOINTS=https://10.0.0.11:2379,https://10.0.0.12:2379,https://10.0.0.13:2379 \
#     -e ETCDCTL_CACERT=/etc/etcd-dashboard/pki/ca.crt \
#     -e ETCDCTL_CERT=/etc/etcd-dashboard/pki/healthcheck-client.crt \
#     -e ETCDCTL_KEY=/etc/etcd-dashboard/pki/healthcheck-client.key \
#     etcd-dashboard:0.1.0
#
# The endpoints are the members' own addresses: 127.0.0.1:2379 is the container's loopback, not the node's (or add
# --network host). A config file (ETCD_DASHBOARD_CONFIG) is mounted read-only the same way. Restore tests need the
# cluster's etcd release (etcd, etcdctl, etcdutl), which the image does not carry: mount a folder of them and name it
# under etcdBinaries in the config, or they are reported as not restore-tested.
#
# Both images are pinned by their exact Node.js release tag, not by digest: the machines this is built and tested on
# cannot reach a registry to resolve one. Add @sha256:<digest> after the tag where your registry policy requires it.

# Build: the full bookworm image has python3, make and g++, should better-sqlite3 have to compile its addon.
FROM node:20.20.2-bookworm AS build
WORKDIR /build
ENV NEXT_TELEMETRY_DISABLED=1
# Dependencies alone first, so a source change reuses this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:standalone

# Run: the same Node.js release on the same Debian (bookworm, glibc 2.36), so the better-sqlite3 addon built above
# loads. Slim rather than gcr.io/distroless/nodejs20-debian12: distroless publishes no Node.js version tags (only
# latest, nonroot, debug), so it can be pinned only by digest, which we cannot resolve here; it is also slimmer by
# the shell, which this image does not use but an operator debugging a volume does.
FROM node:20.20.2-bookworm-slim
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="etcd-health-dashboard" \
      org.opencontainers.image.description="A web dashboard for etcd cluster health: quorum, members, alarms over mutual TLS." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="${SOURCE_URL}"

ENV NODE_ENV=production \
    HOSTNAME=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/var/lib/etcd-dashboard \
    NEXT_TELEMETRY_DISABLED=1

# A numeric non-root user (Kubernetes' runAsNonRoot can check a number, not a name), with a passwd entry so that
# os.userInfo() and HOME work. --no-log-init: a high uid would otherwise grow a sparse lastlog into the layer.
RUN groupadd --gid 65532 etcd-dashboard \
    && useradd --uid 65532 --gid 65532 --no-log-init --no-create-home --home-dir /var/lib/etcd-dashboard \
      --shell /usr/sbin/nologin etcd-dashboard \
    && install -d -o 65532 -g 65532 -m 0700 /var/lib/etcd-dashboard

WORKDIR /app
# Owned by root and not writable by 65532, like a read-only root filesystem; node_modules first, as it changes least.
COPY --from=build --chown=root:root /build/dist/standalone/node_modules ./node_modules
COPY --from=build --chown=root:root /build/dist/standalone/package.json ./package.json
COPY --from=build --chown=root:root /build/dist/standalone/public ./public
COPY --from=build --chown=root:root /build/dist/standalone/.next ./.next
COPY --from=build --chown=root:root /build/dist/standalone/server ./server

USER 65532:65532
# The database and the snapshots. Declared after the folder is made, so a new named volume starts owned by 65532.
VOLUME ["/var/lib/etcd-dashboard"]
EXPOSE 3000
# The server closes its listener on SIGTERM and exits within 3 s.
STOPSIGNAL SIGTERM
# Ready, not merely alive: configuration loaded, database writable, every cluster polled once. Node's own fetch, as
# the image has no curl; the start period covers the first poll of slow clusters.
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT}/readyz`, { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "server/server.mjs"]
