#!/usr/bin/env bash
# load.sh IMAGE: the load test the Deployment's resources come from (make image-load). Runs the
# image as one pod of the Deployment's size (--cpus CPUS --memory MEMORY, max-inflight CPUS) and
# sends REQUESTS POST /antispoofing of the two sample dev photos from CONCURRENCY connections at
# once (curl --parallel, one process), to 127.0.0.1 only; prints the requests/s, the statuses,
# the latency percentiles and the container's peak memory. Then, to size the memory limit for the
# worst input the server admits, 2×CPUS requests at once of a generated 49-megapixel JPEG (the
# decoder refuses more than 50). QUEUE and GOMEMLIMIT default to the Deployment's. Bounded:
# every request has a 60 s timeout, the run REQUESTS requests.
set -euo pipefail

image=${1:?usage: load.sh IMAGE}
: "${ENGINE:?set ENGINE to docker or podman (with its flags)}"
REQUESTS=${REQUESTS:-600}
CONCURRENCY=${CONCURRENCY:-16}
CPUS=${CPUS:-2}
MEMORY=${MEMORY:-1536m}
QUEUE=${QUEUE:-16}
GOMEMLIMIT=${GOMEMLIMIT:-1280MiB}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-$repo/../shared}
read -ra engine <<<"$ENGINE"
E() { "${engine[@]}" "$@"; }
[ "${engine[0]}" = podman ] && export CONTAINERS_CONF=${CONTAINERS_CONF:-$repo/deploy/podman/containers.conf}

tmp=$(mktemp -d)
name=spoofsense-load-$$
trap 'E rm -f "$name" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

for f in live/image_T1.jpg spoof/image_F1.jpg; do
  [ -f "$SHARED/data/dev/$f" ] || { echo "load.sh: $SHARED/data/dev/$f is missing: set SHARED" >&2; exit 1; }
done
printf '{"data": "%s"}' "$(base64 -w0 "$SHARED/data/dev/live/image_T1.jpg")" >"$tmp/0.json"
printf '{"data": "%s"}' "$(base64 -w0 "$SHARED/data/dev/spoof/image_F1.jpg")" >"$tmp/1.json"

E run -d --name "$name" --cpus "$CPUS" --memory "$MEMORY" -p 127.0.0.1::8080 \
  -e SPOOFSENSE_MAX_INFLIGHT="$CPUS" -e SPOOFSENSE_QUEUE="$QUEUE" -e GOMEMLIMIT="$GOMEMLIMIT" -e SPOOFSENSE_LOG_LEVEL=warn "$image" >/dev/null 2>"$tmp/run.err" ||
  { echo "load.sh: $ENGINE run failed: $(cat "$tmp/run.err")" >&2; exit 1; }
p=$(E port "$name" 8080/tcp | head -1)
url=http://127.0.0.1:${p##*:}
for _ in $(seq 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/readyz")" = 200 ] && break
  sleep 0.1
done
pid=$(E inspect --format '{{.State.Pid}}' "$name")
memcg=$(awk -F: '$2 == "memory" || $2 == "" { print $3; exit }' "/proc/$pid/cgroup")
peak() {
  local f
  for f in "/sys/fs/cgroup/memory$memcg/memory.max_usage_in_bytes" "/sys/fs/cgroup$memcg/memory.peak"; do
    [ -r "$f" ] && { awk '{ printf "%.0f MiB", $1 / 1048576 }' "$f"; return; }
  done
  echo "unknown"
}

# run N FILE...: N requests cycling through FILEs, CONCURRENCY at once; one "status seconds" line each.
run() {
  local n=$1 i
  shift
  local files=("$@")
  for ((i = 0; i < n; i++)); do
    [ "$i" = 0 ] || echo next
    printf 'url = "%s/antispoofing"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nmax-time = 60\nwrite-out = "%%{http_code} %%{time_total}\\n"\n' \
      "$url" "${files[i % ${#files[@]}]}"
  done >"$tmp/curl.cfg"
  curl --no-progress-meter -Z --parallel-immediate --parallel-max "$CONCURRENCY" -K "$tmp/curl.cfg" || true
}
report() {
  sort -k2,2n | awk -v secs="$2" -v what="$1" '
    { n++; codes[$1]++; t[n] = $2 }
    END {
      s = ""; for (c in codes) s = s sprintf(" %s×%d", c, codes[c])
      printf "%s: %d requests in %.1f s = %.1f requests/s; status%s; latency p50 %.0f ms, p99 %.0f ms\n",
        what, n, secs, n / secs, s, 1000 * t[int(n * 0.5) + 1], 1000 * t[int(n * 0.99) + 1]
    }'
}

run 20 "$tmp/0.json" "$tmp/1.json" >/dev/null # warm the connection pool and the caches
t0=$(date +%s.%N)
run "$REQUESTS" "$tmp/0.json" "$tmp/1.json" >"$tmp/results"
secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
report "load ($CONCURRENCY clients, --cpus $CPUS --memory $MEMORY, max-inflight $CPUS)" "$secs" <"$tmp/results"
echo "peak memory after the load: $(peak)"

# The worst input: 7000×7000 (49 MP) JPEG, CPUS running and as many queued.
(cd "$repo" && go run ./deploy/image/bigjpeg 7000 7000) >"$tmp/big.jpg"
printf '{"data": "%s"}' "$(base64 -w0 "$tmp/big.jpg")" >"$tmp/big.json"
CONCURRENCY=$((CPUS * 2)) run "$((CPUS * 4))" "$tmp/big.json" >"$tmp/big"
report "49-megapixel JPEG ($(($(stat -c %s "$tmp/big.jpg") / 1024)) KiB), $((CPUS * 2)) at once" 1 <"$tmp/big" | sed 's/ in 1.0 s = .* requests\/s;//'
echo "peak memory after the 49-megapixel images: $(peak)"
state=$(E inspect --format '{{.State.Status}} oom={{.State.OOMKilled}}' "$name")
echo "container: $state"
