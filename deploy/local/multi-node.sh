#!/usr/bin/env bash
# Runs a small Hearth cluster on this machine: nats-server (via go run),
# MinIO, one gateway and two runners, on loopback ports, with data in a temp
# dir. Ctrl-C stops everything it started (by process group, never by name).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
hearth=${HEARTH_BIN:-$root/bin/hearth}
minio=${MINIO_BIN:-$root/.cache/bin/minio}
[ -x "$hearth" ] || { echo "build hearth first: go tool task build" >&2; exit 1; }
[ -x "$minio" ] || { echo "build MinIO first: go tool task minio" >&2; exit 1; }
data=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done; wait; rm -rf "$data"; }
trap cleanup EXIT INT TERM

start() { setsid "$@" & pids+=($!); }

start go run github.com/nats-io/nats-server/v2@v2.15.2 -a 127.0.0.1 -p 14222 -js -sd "$data/nats"
MINIO_ROOT_USER=hearth MINIO_ROOT_PASSWORD=hearth-secret start "$minio" server "$data/minio" --address 127.0.0.1:19000 --console-address 127.0.0.1:19001 --quiet
until curl -sf http://127.0.0.1:19000/minio/health/live >/dev/null; do sleep 0.2; done

export HEARTH_NATS_URL=nats://127.0.0.1:14222 HEARTH_S3_ENDPOINT=http://127.0.0.1:19000
export HEARTH_S3_ACCESS_KEY=hearth HEARTH_S3_SECRET_KEY=hearth-secret
# Keys: the bootstrap admin key and the key that seals secrets (docs/security.md).
export HEARTH_ADMIN_KEY=${HEARTH_ADMIN_KEY:-$(head -c32 /dev/urandom | base64 | tr -d '=+/\n')}
export HEARTH_SECRETS_KEY=${HEARTH_SECRETS_KEY:-$(head -c32 /dev/urandom | base64)}
until (exec 3<>/dev/tcp/127.0.0.1/14222) 2>/dev/null; do sleep 0.2; done   # NATS accepts connections
start "$hearth" gateway --listen 127.0.0.1:18080
start "$hearth" runner --cache-dir "$data/cache-1"
start "$hearth" runner --cache-dir "$data/cache-2"
echo "gateway: http://127.0.0.1:18080 — deploy with: HEARTH_API_KEY=$HEARTH_ADMIN_KEY $hearth deploy hello functions/hello/hello.wasm --gateway http://127.0.0.1:18080"
wait
