#!/usr/bin/env bash
# A Hearth cluster on loopback: three nats-server nodes clustered with
# JetStream, a MinIO, gateways (--replicas 3) and runners, each on free
# random ports, every process in a session (and process group) of its own.
# It waits until every part is ready, prints the URLs, the admin key and
# example commands, and on Ctrl-C (SIGINT or SIGTERM) stops everything it
# started, by process group, waiting for each to exit.
#
#   deploy/local/cluster.sh [--runners N] [--gateways M] [--data DIR] [--timeout SECONDS] [--keep]
#   go tool task cluster -- --runners 5 --gateways 3
#
# Binaries: hearth and nats-server are built from this module into DATA/bin
# unless HEARTH_BIN / NATS_SERVER_BIN name them; MinIO is MINIO_BIN,
# HEARTH_MINIO_BIN or .cache/bin/minio (go tool task minio).
# DATA (a new temp dir unless --data; a temp dir is removed when the
# cluster stops cleanly, kept when something failed or with --keep) holds:
# bin/, logs/NAME.log, nats-I/ (each node's JetStream store) and
# nats-I.conf, minio/, runner-I/cache, admin.key, secrets.key and the MinIO
# credentials (s3-access-key, s3-secret-key), all mode 0600; cluster.env
# (the URLs, sourceable) and pids ("PID NAME" per line; each PID is also
# its process group).
set -euo pipefail

# A shell cannot trap a signal ignored when it started (as SIGINT is in a
# background job of a script): start again with SIGINT at its default, so
# that Ctrl-C, or SIGINT to this script's process group, tears down.
if [ -z "${HEARTH_CLUSTER_REEXEC:-}" ] && ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null) &&
	[ -n "$ign" ] && (((0x$ign & 0x2) != 0)) && env --default-signal=INT true 2>/dev/null; then
	HEARTH_CLUSTER_REEXEC=1 exec env --default-signal=INT "$BASH" "$0" "$@"
fi

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

runners=3 gateways=2 data="" timeout=90 keep=0
while [ $# -gt 0 ]; do
	case $1 in
	--runners) runners=${2:?--runners needs a number}; shift 2 ;;
	--runners=*) runners=${1#*=}; shift ;;
	--gateways) gateways=${2:?--gateways needs a number}; shift 2 ;;
	--gateways=*) gateways=${1#*=}; shift ;;
	--data) data=${2:?--data needs a directory}; shift 2 ;;
	--data=*) data=${1#*=}; shift ;;
	--timeout) timeout=${2:?--timeout needs seconds}; shift 2 ;;
	--timeout=*) timeout=${1#*=}; shift ;;
	--keep) keep=1; shift ;;
	-h | --help) usage; exit 0 ;;
	--) shift ;;
	*) echo "cluster.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
for v in runners gateways timeout; do
	[[ ${!v} =~ ^[0-9]+$ ]] || { echo "cluster.sh: --$v must be a whole number, not ${!v}" >&2; exit 2; }
done
[ "$gateways" -ge 1 ] || { echo "cluster.sh: --gateways must be at least 1" >&2; exit 2; }
[ "$runners" -le 64 ] && [ "$gateways" -le 16 ] || { echo "cluster.sh: at most 64 runners and 16 gateways" >&2; exit 2; }

root=$(cd "$(dirname "$0")/../.." && pwd)
minio=${MINIO_BIN:-${HEARTH_MINIO_BIN:-$root/.cache/bin/minio}}
[ -x "$minio" ] || { echo "cluster.sh: no MinIO at $minio; build it with: go tool task minio" >&2; exit 1; }
command -v curl >/dev/null || { echo "cluster.sh: needs curl" >&2; exit 1; }
command -v setsid >/dev/null || { echo "cluster.sh: needs setsid (util-linux)" >&2; exit 1; }

# Only what this script sets reaches the parts: no HEARTH_* of the caller
# (an API key, another NATS URL) but the log settings and, if given, the
# admin and secrets keys.
admin_key=${HEARTH_ADMIN_KEY:-} secrets_key=${HEARTH_SECRETS_KEY:-}
for v in $(compgen -e | grep '^HEARTH_' || true); do
	case $v in HEARTH_LOG_LEVEL | HEARTH_LOG_FORMAT | HEARTH_BIN) ;; *) unset "$v" ;; esac
done

umask 077
tmpdata=0
if [ -z "$data" ]; then
	data=$(mktemp -d "${TMPDIR:-/tmp}/hearth-cluster.XXXXXX")
	tmpdata=1
fi
mkdir -p "$data"
data=$(cd "$data" && pwd)
logs=$data/logs
mkdir -p "$logs" "$data/bin"
: >"$data/pids"

pids=() names=()
stopping=0
# stop ends every process group started, the hearth roles first (gateways
# drain while NATS is still there), then MinIO and NATS; it waits for each
# group to be empty, and kills what is left after the deadline.
stop() {
	local rc=$?
	[ "$stopping" = 1 ] && return
	stopping=1
	trap '' INT TERM
	local tier p i forced=0
	for tier in hearth infra; do
		local group=()
		for i in "${!pids[@]}"; do
			case ${names[i]} in gateway-* | runner-*) [ "$tier" = hearth ] || continue ;; *) [ "$tier" = infra ] || continue ;; esac
			group+=("${pids[i]}")
		done
		[ ${#group[@]} -gt 0 ] || continue
		for p in "${group[@]}"; do kill -TERM -- "-$p" 2>/dev/null || true; done
		local deadline=$((SECONDS + 40))
		for p in "${group[@]}"; do
			while group_alive "$p" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
			if group_alive "$p"; then
				echo "cluster.sh: process group $p did not stop in 40 s; killing it" >&2
				kill -KILL -- "-$p" 2>/dev/null || true
				forced=1
			fi
			wait "$p" 2>/dev/null || true
		done
	done
	if [ "$tmpdata" = 1 ] && [ "$keep" = 0 ]; then
		if [ "$rc" = 0 ] && [ "$forced" = 0 ]; then
			rm -rf "$data"
		else
			echo "cluster.sh: kept $data for its logs" >&2
		fi
	fi
	[ "$forced" = 0 ] || exit 1
}
# Stopping on SIGINT or SIGTERM is the way to end the cluster: exit 0 once
# every part has stopped by itself, 1 if one had to be killed.
trap stop EXIT
trap 'exit 0' INT TERM

# alive: the process exists and is not a zombie waiting to be reaped.
alive() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}
# group_alive: the leader is alive or another process of its group is.
group_alive() {
	alive "$1" && return 0
	wait "$1" 2>/dev/null || true # reap the leader, so that kill -0 sees the rest
	kill -0 -- "-$1" 2>/dev/null
}

# start NAME CMD...: runs CMD in a new session (so its pid is its process
# group), in DATA, with output in logs/NAME.log.
start() {
	local name=$1
	shift
	(cd "$data" && exec setsid "$@" >"$logs/$name.log" 2>&1 </dev/null) &
	pids+=($!)
	names+=("$name")
	echo "$! $name" >>"$data/pids"
}

die() {
	echo "cluster.sh: $*" >&2
	exit 1
}

# ready NAME WHAT CMD...: polls CMD until it succeeds, up to the deadline,
# while every part started so far is alive.
ready() {
	local name=$1 what=$2 i
	shift 2
	local deadline=$((SECONDS + timeout))
	until "$@" >/dev/null 2>&1; do
		for i in "${!pids[@]}"; do
			if ! alive "${pids[i]}"; then
				echo "cluster.sh: ${names[i]} exited while starting; the end of $logs/${names[i]}.log:" >&2
				tail -n 20 "$logs/${names[i]}.log" >&2 || true
				exit 1
			fi
		done
		[ $SECONDS -lt $deadline ] || die "$name: $what not ready after ${timeout}s (see $logs/$name.log)"
		sleep 0.1
	done
}

# Free ports: random ones below the kernel's ephemeral range (where neither
# port 0 binds nor outgoing connections land), not bound by any socket in
# /proc/net/tcp*, nothing answering on them, not picked before.
read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range || eph_lo=32768
port_lo=20000 port_hi=$((eph_lo - 1))
if [ $((port_hi - port_lo)) -lt 2000 ]; then port_lo=10000; fi
picked=" "
freeport() {
	local p hex tries=0
	while :; do
		tries=$((tries + 1))
		[ $tries -lt 1000 ] || die "no free port found"
		p=$((port_lo + (RANDOM * 32768 + RANDOM) % (port_hi - port_lo + 1)))
		case $picked in *" $p "*) continue ;; esac
		hex=$(printf ':%04X ' "$p")
		if cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | grep -qi -- "$hex"; then continue; fi
		if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then continue; fi
		picked+="$p "
		port=$p
		return
	done
}

# Binaries.
hearth=${HEARTH_BIN:-}
nats=${NATS_SERVER_BIN:-}
if [ -z "$hearth" ]; then
	echo "building hearth into $data/bin…"
	(cd "$root" && go build -o "$data/bin/hearth" ./cmd/hearth) || die "go build ./cmd/hearth failed"
	hearth=$data/bin/hearth
fi
if [ -z "$nats" ]; then
	echo "building nats-server (the module's version) into $data/bin…"
	(cd "$root" && go build -o "$data/bin/nats-server" github.com/nats-io/nats-server/v2) || die "go build nats-server failed"
	nats=$data/bin/nats-server
fi
[ -x "$hearth" ] || die "no hearth binary at $hearth"
[ -x "$nats" ] || die "no nats-server binary at $nats"

# Keys, kept in DATA across runs on the same --data (the secrets sealed
# with the secrets key stay readable).
newkey() { head -c 48 /dev/urandom | base64 | tr -d '=+/\n'; }
if [ -n "$admin_key" ]; then
	printf '%s\n' "$admin_key" >"$data/admin.key"
elif [ -s "$data/admin.key" ]; then
	admin_key=$(cat "$data/admin.key")
else
	admin_key=$(newkey)
	printf '%s\n' "$admin_key" >"$data/admin.key"
fi
[ ${#admin_key} -ge 32 ] || die "the admin key must be at least 32 characters"
if [ -n "$secrets_key" ]; then
	printf '%s\n' "$secrets_key" >"$data/secrets.key"
elif [ ! -s "$data/secrets.key" ]; then
	head -c 32 /dev/urandom | base64 >"$data/secrets.key"
fi
[ -s "$data/s3-access-key" ] || echo hearth >"$data/s3-access-key"
[ -s "$data/s3-secret-key" ] || newkey >"$data/s3-secret-key"
chmod 600 "$data/admin.key" "$data/secrets.key" "$data/s3-access-key" "$data/s3-secret-key"

# NATS: three nodes, each with its client, cluster and monitoring port.
nodes=3
declare -a nc_port cl_port mon_port
for i in $(seq 1 $nodes); do
	freeport; nc_port[i]=$port
	freeport; cl_port[i]=$port
	freeport; mon_port[i]=$port
done
routes=""
for i in $(seq 1 $nodes); do routes+="    nats-route://127.0.0.1:${cl_port[i]}"$'\n'; done
nats_url=""
for i in $(seq 1 $nodes); do nats_url+="${nats_url:+,}nats://127.0.0.1:${nc_port[i]}"; done
for i in $(seq 1 $nodes); do
	mkdir -p "$data/nats-$i"
	cat >"$data/nats-$i.conf" <<EOF
server_name: nats-$i
listen: 127.0.0.1:${nc_port[i]}
http: 127.0.0.1:${mon_port[i]}
max_payload: 8MB
jetstream {
  store_dir: "$data/nats-$i"
  max_file_store: 2GB
  max_memory_store: 256MB
}
cluster {
  name: hearth-local
  listen: 127.0.0.1:${cl_port[i]}
  routes: [
$routes  ]
}
EOF
	start "nats-$i" "$nats" -c "$data/nats-$i.conf"
done

freeport; s3_port=$port
freeport; console_port=$port
s3_url=http://127.0.0.1:$s3_port
mkdir -p "$data/minio"
MINIO_ROOT_USER=$(cat "$data/s3-access-key") MINIO_ROOT_PASSWORD=$(cat "$data/s3-secret-key") \
	MINIO_BROWSER=off MINIO_UPDATE=off MINIO_CI_CD=1 \
	start minio "$minio" server "$data/minio" --address "127.0.0.1:$s3_port" --console-address "127.0.0.1:$console_port" --quiet

accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
get() { curl -fsS -o /dev/null --max-time 2 "$1"; }
for i in $(seq 1 $nodes); do
	ready "nats-$i" "client port ${nc_port[i]}" accepts "${nc_port[i]}"
done
# JetStream is ready when every node's /healthz says so (meta leader known).
for i in $(seq 1 $nodes); do
	ready "nats-$i" "JetStream (/healthz)" get "http://127.0.0.1:${mon_port[i]}/healthz"
done
ready minio "/minio/health/live" get "$s3_url/minio/health/live"
echo "NATS (3 nodes, JetStream) and MinIO are ready"

conn=(--nats "$nats_url" --s3-endpoint "$s3_url" --s3-bucket hearth
	--s3-access-key-file "$data/s3-access-key" --s3-secret-key-file "$data/s3-secret-key")
# The gateways start one after another because it is faster: two gateways
# creating the same R3 stream at the same moment on a new cluster both wait
# out a 5 s attempt per store (nats-server 2.15.2 answers neither request;
# each store retries, internal/jsopen), about 35 s in all.
declare -a gw_url
for g in $(seq 1 "$gateways"); do
	freeport
	gw_url[g]=http://127.0.0.1:$port
	HEARTH_ADMIN_KEY=$admin_key start "gateway-$g" "$hearth" gateway --replicas 3 --listen "127.0.0.1:$port" \
		--secrets-key-file "$data/secrets.key" "${conn[@]}"
	ready "gateway-$g" "${gw_url[g]}/readyz" get "${gw_url[g]}/readyz"
done
echo "gateways are ready"

for r in $(seq 1 "$runners"); do
	mkdir -p "$data/runner-$r/cache"
	start "runner-$r" "$hearth" runner --id "runner-$r" --cache-dir "$data/runner-$r/cache" "${conn[@]}"
done
# The runners are ready when gateway 1 lists every one (their heartbeats).
runners_seen() {
	local n
	n=$(printf 'header = "Authorization: Bearer %s"\n' "$admin_key" |
		curl -fsS --max-time 2 -K - "${gw_url[1]}/v1/runners" | grep -o '"id":"runner-[0-9]*"' | sort -u | wc -l)
	[ "$n" -ge "$runners" ]
}
if [ "$runners" -gt 0 ]; then
	ready runners "registration with gateway 1" runners_seen
	echo "runners are ready"
fi

{
	echo "HEARTH_NATS_URL=$nats_url"
	echo "HEARTH_S3_ENDPOINT=$s3_url"
	echo "HEARTH_GATEWAYS=$(
		IFS=,
		echo "${gw_url[*]}"
	)"
	echo "HEARTH_GATEWAY=${gw_url[1]}"
	echo "HEARTH_ADMIN_KEY_FILE=$data/admin.key"
	echo "HEARTH_DATA=$data"
} >"$data/cluster.env"

echo
echo "Hearth cluster is running: $nodes NATS nodes (JetStream, replicas 3), MinIO, $gateways gateway(s), $runners runner(s)."
for g in $(seq 1 "$gateways"); do printf '  gateway %-3s %s\n' "$g" "${gw_url[g]}"; done
for i in $(seq 1 $nodes); do printf '  nats %-6s nats://127.0.0.1:%s (monitoring http://127.0.0.1:%s)\n' "$i" "${nc_port[i]}" "${mon_port[i]}"; done
printf '  NATS URL    %s\n' "$nats_url"
printf '  MinIO       %s (bucket hearth; credentials in %s/s3-access-key, s3-secret-key)\n' "$s3_url" "$data"
printf '  admin key   %s\n' "$admin_key"
printf '              (in %s/admin.key, mode 0600)\n' "$data"
printf '  data        %s\n' "$data"
printf '  logs        %s/logs\n' "$data"
printf '  pids        %s/pids\n' "$data"
cat <<EOF

Try:
  export HEARTH_API_KEY=\$(cat $data/admin.key)
  curl -H "Authorization: Bearer \$HEARTH_API_KEY" -H 'Content-Type: application/wasm' --data-binary @functions/hello/hello.wasm -X PUT ${gw_url[1]}/v1/functions/hello
  curl -H "Authorization: Bearer \$HEARTH_API_KEY" -d Hearth ${gw_url[$gateways]}/v1/functions/hello/invoke
  curl -H "Authorization: Bearer \$HEARTH_API_KEY" ${gw_url[1]}/v1/runners
  $hearth invoke --gateway ${gw_url[$gateways]} hello --data Hearth

Press Ctrl-C to stop.
EOF

# Serve until a signal, or until a part exits on its own (then stop all).
while :; do
	wait -n || true
	[ "$stopping" = 1 ] && break
	for i in "${!pids[@]}"; do
		if ! alive "${pids[i]}"; then
			echo "cluster.sh: ${names[i]} exited; stopping the cluster. The end of $logs/${names[i]}.log:" >&2
			tail -n 20 "$logs/${names[i]}.log" >&2 || true
			exit 1
		fi
	done
done
