#!/usr/bin/env bash
# image-test.sh IMAGE: runs the spoofsense image for real and checks it as an operator would use it
# (make image-test; ENGINE is "docker" or "podman [flags]", SHARED the folder holding data/dev).
#
#   - image: built FROM scratch (one layer), OCI labels, numeric non-root USER, a HEALTHCHECK;
#   - run with --read-only, --cap-drop=all and no-new-privileges: /readyz turns ready (timed);
#     the process runs as uid 65532 with no capabilities on a read-only root;
#   - POST /antispoofing: a live and a spoof dev photo get the right verdict, bad base64 gets the
#     contract's 200 {"success": false, "message": "Invalid base64 string"}; API keys given by
#     SPOOFSENSE_API_KEYS are enforced (none or a wrong one: 401);
#   - the image's HEALTHCHECK command passes (and fails against a port nothing serves);
#   - stop: with a slow upload in flight and two clients sending requests across the stop,
#     /readyz fails first, the in-flight request is answered, every request gets a whole answer
#     or a refused connection (or, as the port closes, a reset before any byte of an answer
#     for a connection the server never accepted), never a cut answer; every image the server
#     scored reached its client; the process exits 0 well within the grace period;
#   - podman only: `podman kube play` of deploy/kubernetes/deployment.yaml with this image
#     answers /antispoofing through its port, with the API key from the Secret.
# Every container, pod and secret it makes is removed when it ends, also on failure.
set -euo pipefail

image=${1:?usage: image-test.sh IMAGE}
: "${ENGINE:?set ENGINE to docker or podman (with its flags)}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
SHARED=${SHARED:-$repo/../shared}
dev=$SHARED/data/dev
read -ra engine <<<"$ENGINE"
E() { "${engine[@]}" "$@"; }
podman=false
if [ "${engine[0]}" = podman ]; then
  podman=true
  # As the Makefile sets it: this project's machines need no default ulimits (deploy/podman).
  export CONTAINERS_CONF=${CONTAINERS_CONF:-$repo/deploy/podman/containers.conf}
fi

for f in "$dev/live/image_T1.jpg" "$dev/spoof/image_F1.jpg"; do
  [ -f "$f" ] || { echo "image-test: $f is missing: set SHARED to the folder holding data/dev" >&2; exit 1; }
done
for c in curl jq base64; do
  command -v "$c" >/dev/null || { echo "image-test: $c is not installed" >&2; exit 1; }
done

tag=spoofsense-image-test-$$
tmp=$(mktemp -d)
played=""
cleanup() {
  rc=$?
  if [ "$rc" != 0 ]; then
    for c in $(E ps -aq --filter "label=$tag" 2>/dev/null); do
      echo "--- logs of container $c (last 20 lines)" >&2
      E logs "$c" 2>&1 | tail -20 >&2 || true
    done
  fi
  if [ -n "$played" ]; then
    E kube down "$played" >/dev/null 2>&1 || true
    E secret rm "$tag-keys" >/dev/null 2>&1 || true
  fi
  E ps -aq --filter "label=$tag" | xargs -r "${engine[@]}" rm -f >/dev/null 2>&1 || true
  rm -rf "$tmp"
  [ "$rc" = 0 ] && echo "image-test: all checks passed" || echo "image-test: FAILED" >&2
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "image-test: FAIL: $*" >&2; exit 1; }
ok() { echo "image-test: ok: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

printf '{"data": "%s"}' "$(base64 -w0 "$dev/live/image_T1.jpg")" >"$tmp/live.json"
printf '{"data": "%s"}' "$(base64 -w0 "$dev/spoof/image_F1.jpg")" >"$tmp/spoof.json"
printf '{"data": "not base64!"}' >"$tmp/bad.json"

# post URL BODY [KEY]: POST /antispoofing; prints the status and leaves the body in $tmp/out.
post() {
  curl -sS -o "$tmp/out" -w '%{http_code}' --max-time 30 -H 'Content-Type: application/json' \
    ${3:+-H "x-api-key: $3"} --data-binary "@$2" "$1/antispoofing"
}
# wait_ready URL SECONDS: polls /readyz until it answers 200.
wait_ready() {
  local deadline=$(($(date +%s) + $2))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1/readyz")" = 200 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
# host_port CONTAINER: the host port published for the container's 8080.
host_port() { local p; p=$(E port "$1" 8080/tcp | head -1); echo "${p##*:}"; }

# --- The image itself.
E image inspect "$image" >/dev/null 2>&1 || fail "no image $image: run make image first"
user=$(E image inspect --format '{{.Config.User}}' "$image")
[ "$user" = 65532:65532 ] || fail "image USER is \"$user\", want 65532:65532"
layers=$(E image inspect --format '{{len .RootFS.Layers}}' "$image")
[ "$layers" = 1 ] || fail "image has $layers layers, want 1 (FROM scratch plus one COPY)"
for l in version source licenses; do
  v=$(E image inspect --format "{{index .Config.Labels \"org.opencontainers.image.$l\"}}" "$image")
  [ -n "$v" ] && [ "$v" != "<no value>" ] || fail "image has no org.opencontainers.image.$l label"
done
hc=$(E image inspect --format '{{json .Config.Healthcheck}}' "$image")
[ "$(jq -r '.Test[0]' <<<"$hc")" = CMD ] || fail "image HEALTHCHECK is $hc, want a CMD (podman build needs --format docker)"
mapfile -t hccmd < <(jq -r '.Test[1:][]' <<<"$hc")
size=$(E image inspect --format '{{.Size}}' "$image")
ok "image $image: FROM scratch, 1 layer, $(awk -v s="$size" 'BEGIN { printf "%.1f MiB", s / 1048576 }'), USER $user, OCI labels, HEALTHCHECK ${hccmd[*]}"

# --- Run it as locked down as an orchestrator would.
key1=test-key-$RANDOM$RANDOM
key2=test-key-$RANDOM$RANDOM
runflags=(--read-only --cap-drop=all --security-opt=no-new-privileges)
$podman && runflags+=(--read-only-tmpfs=false) # podman would mount tmpfs on /tmp, /run, /var/tmp
start=$(now)
E run -d --name "$tag-main" --label "$tag" "${runflags[@]}" -p 127.0.0.1::8080 \
  -e "SPOOFSENSE_API_KEYS=$key1,$key2" -e SPOOFSENSE_DRAIN_DELAY=2s -e SPOOFSENSE_MAX_INFLIGHT=2 \
  "$image" >/dev/null 2>"$tmp/run.err" || fail "$ENGINE run failed: $(cat "$tmp/run.err")"
url=http://127.0.0.1:$(host_port "$tag-main")
wait_ready "$url" 60 || fail "/readyz did not answer 200 within 60 s of the start"
ready_s=$(since "$start")
# logs: every line of the JSON log, without what the engine itself prints on stderr.
logs() { E logs "$1" 2>&1 | jq -cR 'fromjson? | select(type == "object")'; }
warm=$(logs "$tag-main" | jq -r 'select(.msg == "ready") | .warmup_ms' | head -1)
ok "/readyz answered 200 ${ready_s} s after the run command (models loaded and self-tested in ${warm:-?} ms)"

pid=$(E inspect --format '{{.State.Pid}}' "$tag-main")
[ -r "/proc/$pid/status" ] || fail "cannot read /proc/$pid/status of the container's process on this host"
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status")
[ "$uids" = "65532 65532 65532 65532" ] || fail "the process runs with uids $uids, want 65532 (non-root)"
capeff=$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")
[ "$capeff" = 0000000000000000 ] || fail "the process has capabilities $capeff, want none"
rootmnt=$(awk '$5 == "/" { print $6 }' "/proc/$pid/mountinfo")
[[ "$rootmnt" == ro,* || "$rootmnt" == ro ]] || fail "the root file system is mounted $rootmnt, want ro"
ok "the process runs as uid 65532, no capabilities (CapEff $capeff), root file system $rootmnt"

# --- The API contract on real photos.
st=$(post "$url" "$tmp/live.json" "$key1")
[ "$st" = 200 ] && jq -e '.success == true and .model_output.pred_idx == "real"' "$tmp/out" >/dev/null ||
  fail "live photo image_T1.jpg: $st $(cat "$tmp/out"), want 200 success, pred_idx real"
ok "live photo image_T1.jpg: $(cat "$tmp/out")"
st=$(post "$url" "$tmp/spoof.json" "$key2")
[ "$st" = 200 ] && jq -e '.success == true and .model_output.pred_idx == "spoof"' "$tmp/out" >/dev/null ||
  fail "spoof photo image_F1.jpg: $st $(cat "$tmp/out"), want 200 success, pred_idx spoof"
ok "spoof photo image_F1.jpg: $(cat "$tmp/out")"
st=$(post "$url" "$tmp/bad.json" "$key1")
[ "$st" = 200 ] && [ "$(jq -cS . "$tmp/out")" = '{"message":"Invalid base64 string","success":false}' ] ||
  fail "bad base64: $st $(cat "$tmp/out"), want 200 {\"success\": false, \"message\": \"Invalid base64 string\"}"
ok "bad base64: $st $(cat "$tmp/out")"
st=$(post "$url" "$tmp/live.json")
[ "$st" = 401 ] && jq -e '.error == "unauthorized"' "$tmp/out" >/dev/null || fail "no API key: $st $(cat "$tmp/out"), want 401"
st=$(post "$url" "$tmp/live.json" wrong-key)
[ "$st" = 401 ] && jq -e '.error == "unauthorized"' "$tmp/out" >/dev/null || fail "wrong API key: $st $(cat "$tmp/out"), want 401"
ok "API keys from SPOOFSENSE_API_KEYS: both keys accepted; none or a wrong one gets 401"

# --- The HEALTHCHECK, as the engine runs it, and proof that it can fail.
E exec "$tag-main" "${hccmd[@]}" || fail "the HEALTHCHECK command ${hccmd[*]} failed in the container"
if $podman; then
  E healthcheck run "$tag-main" 2>/dev/null || fail "podman healthcheck run failed"
fi
if E exec "$tag-main" /spoofsense serve --healthcheck http://127.0.0.1:1/readyz 2>/dev/null; then
  fail "the healthcheck command passes against a port nothing serves"
fi
ok "HEALTHCHECK passes$($podman && echo " (exec and podman healthcheck run)"), and fails against a closed port"

# --- Stop across load. A slow upload (about 5 s at 20 kB/s) is in flight when the stop comes and
# until after the drain;
# two clients send requests on new connections until they are refused five times in a row.
{
  curl -sS -o "$tmp/slow.out" -w '%{http_code}' --max-time 60 --limit-rate 20k -H 'Content-Type: application/json' \
    -H "x-api-key: $key1" --data-binary "@$tmp/live.json" "$url/antispoofing" >"$tmp/slow.status" 2>"$tmp/slow.err"
  rc=$?
  now >"$tmp/slow.done"
  exit "$rc"
} &
slow=$!
client() {
  local n=0 refused=0 t0 rc code
  t0=$(date +%s)
  while [ "$refused" -lt 5 ] && [ "$n" -lt 400 ] && [ $(($(date +%s) - t0)) -lt 40 ]; do
    n=$((n + 1))
    rc=0
    rm -f "$tmp/c$1.body"
    out=$(curl -sS -o "$tmp/c$1.body" -w '%{http_code} %{size_header} %{size_download}' --max-time 30 -H 'Content-Type: application/json' \
      -H "x-api-key: $key2" --data-binary "@$tmp/spoof.json" "$url/antispoofing" 2>>"$tmp/c$1.err") || rc=$?
    read -r code hbytes bbytes <<<"$out"
    if [ "$rc" = 0 ] && [ "$code" = 200 ] && jq -e '.model_output.pred_idx == "spoof"' "$tmp/c$1.body" >/dev/null 2>&1; then
      echo answered; refused=0
    elif [ "$rc" = 7 ]; then
      echo refused; refused=$((refused + 1)); sleep 0.05
    elif { [ "$rc" = 52 ] || [ "$rc" = 55 ] || [ "$rc" = 56 ]; } && [ "$hbytes" = 0 ] && [ "$bbytes" = 0 ]; then
      # Reset while sending or before one byte of an answer (curl 55, 56; 52 empty reply): the
      # connection was still in the kernel's accept queue when the port closed, so the server
      # never read it (checked against its log below) and a client may send it again.
      echo unaccepted; refused=$((refused + 1))
    else
      echo "broken: curl exit $rc, status $code, $hbytes header and $bbytes body bytes: $(head -c 200 "$tmp/c$1.body" 2>/dev/null)"; refused=0
    fi
  done >"$tmp/c$1.log"
}
client 1 &
c1=$!
client 2 &
c2=$!
sleep 1
answered_before=$(cat "$tmp"/c*.log | grep -c '^answered' || true)
[ "$answered_before" -gt 0 ] || fail "no request answered in the second before the stop"
stop_started=$(now)
E stop -t 20 "$tag-main" >/dev/null 2>&1 &
stopper=$!
# /readyz fails during the drain delay while the clients are still answered.
ready_failed=""
for _ in $(seq 200); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/readyz" || true)
  if [ "$code" = 503 ]; then ready_failed=$(since "$stop_started"); break; fi
  sleep 0.01
done
[ -n "$ready_failed" ] || fail "/readyz did not turn 503 after the stop signal"
wait "$stopper" || fail "$ENGINE stop failed"
stop_s=$(since "$stop_started")
code=$(E inspect --format '{{.State.ExitCode}}' "$tag-main")
[ "$code" = 0 ] || fail "the container exited $code on stop, want 0"
awk -v s="$stop_s" 'BEGIN { exit !(s < 20) }' || fail "stop took $stop_s s, the grace period is 20 s"
wait "$slow" || fail "the in-flight request failed: $(cat "$tmp/slow.err")"
[ "$(cat "$tmp/slow.status")" = 200 ] && jq -e '.model_output.pred_idx == "real"' "$tmp/slow.out" >/dev/null ||
  fail "the request in flight at the stop got $(cat "$tmp/slow.status") $(cat "$tmp/slow.out")"
wait "$c1" "$c2"
answered=$(cat "$tmp"/c*.log | grep -c '^answered' || true)
refused=$(cat "$tmp"/c*.log | grep -c '^refused' || true)
if grep -h '^broken' "$tmp"/c*.log >&2; then
  fail "requests across the stop were cut or reset (above); want whole answers or refused connections"
fi
unaccepted=$(cat "$tmp"/c*.log | grep -c '^unaccepted' || true)
[ "$refused" -gt 0 ] || fail "no connection was refused after the stop: the clients did not run across it"
log=$(logs "$tag-main")
for m in draining "shutting down" stopped; do
  jq -r .msg <<<"$log" | grep -qxF "$m" || fail "no \"$m\" line in the log"
done
# The slow upload (the only live photo of the stop) was answered after the listener closed, so
# the shutdown itself, not only the drain, waited for it.
slow_ms=$(jq -rs '(map(.msg) | index("shutting down")) as $i |
  [.[$i + 1:][] | select(.msg == "request" and .status == 200 and .verdict == "live")][0].duration_ms // empty' <<<"$log")
[ -n "$slow_ms" ] || fail "the log shows no live-photo request answered after \"shutting down\": the request in flight did not span the shutdown"
# Every spoof photo the server scored reached its client: the one of the contract check above and
# each one the clients counted as answered. A request scored but not delivered would show here.
scored=$(jq -s '[.[] | select(.msg == "request" and .verdict == "spoof")] | length' <<<"$log")
[ "$scored" = $((answered + 1)) ] ||
  fail "the server scored $scored spoof photos but the clients got $((answered + 1)) answers: some answers were lost"
ok "stop: /readyz 503 after ${ready_failed} s, exit 0 after ${stop_s} s (drain 2 s, grace 20 s); the upload in flight across the shutdown answered (${slow_ms} ms); across the stop $answered requests answered (as many as the server scored), $refused refused, $unaccepted reset before any byte as the port closed, none cut"

# --- podman kube play of the Deployment, with this image.
if $podman; then
  kport=$((20000 + $$ % 20000))
  played=$tmp/deployment.yaml
  # One replica (kube play makes one pod per replica, and they would share the host port), this
  # image, and the container port published on the loopback; the rest exactly as committed.
  sed -e 's/^\(  replicas:\) .*/\1 1/' \
    -e "s|^\(          image:\) .*|\1 $image|" \
    -e "s|^\(              containerPort: 8080\)$|\1\n              hostPort: $kport\n              hostIP: 127.0.0.1|" \
    "$repo/deploy/kubernetes/deployment.yaml" >"$played"
  grep -q "hostPort: $kport" "$played" && grep -q "replicas: 1" "$played" && grep -q "image: $image" "$played" ||
    fail "deployment.yaml no longer has the replicas, image and containerPort lines this test rewrites"
  sname=spoofsense-api-keys
  kkey=kube-key-$RANDOM$RANDOM
  # Podman 4.3 reads a secretKeyRef from a podman secret holding {"KEY": base64}; it cannot yet
  # take the Secret from the played file.
  grep -q "name: $sname$" "$played" || fail "deployment.yaml no longer takes the API keys from the Secret $sname"
  sed -i "s/name: $sname$/name: $tag-keys/" "$played"
  printf '{"api-keys": "%s"}' "$(printf %s "$kkey" | base64 -w0)" | E secret create "$tag-keys" - >/dev/null
  E kube play "$played" >/dev/null 2>"$tmp/play.err" || fail "podman kube play failed: $(cat "$tmp/play.err")"
  kurl=http://127.0.0.1:$kport
  wait_ready "$kurl" 60 || fail "kube play: /readyz did not answer 200 within 60 s"
  st=$(post "$kurl" "$tmp/live.json" "$kkey")
  [ "$st" = 200 ] && jq -e '.success == true and .model_output.pred_idx == "real"' "$tmp/out" >/dev/null ||
    fail "kube play: live photo: $st $(cat "$tmp/out")"
  kanswer=$(cat "$tmp/out")
  st=$(post "$kurl" "$tmp/live.json")
  [ "$st" = 401 ] || fail "kube play: no API key got $st, want 401 (the key from the Secret is not enforced)"
  kc=spoofsense-pod-0-spoofsense
  kro=$(E inspect --format '{{.HostConfig.ReadonlyRootfs}} {{.Config.User}}' "$kc")
  [ "$kro" = "true 65532:65532" ] || fail "kube play: container read-only/user is \"$kro\", want \"true 65532:65532\""
  # Podman stops a pod with its own 10 s timeout (it ignores terminationGracePeriodSeconds): the
  # 5 s drain and the shutdown fit in it, and the container exits 0.
  kstop=$(now)
  E pod stop spoofsense-pod-0 >/dev/null 2>&1 || fail "podman pod stop failed"
  kstop=$(since "$kstop")
  kexit=$(E inspect --format '{{.State.ExitCode}}' "$kc")
  [ "$kexit" = 0 ] || fail "kube play: the container exited $kexit on pod stop, want 0"
  E kube down "$played" >/dev/null 2>&1 || fail "podman kube down failed"
  played=""
  E secret rm "$tag-keys" >/dev/null
  ok "podman kube play deploy/kubernetes/deployment.yaml: /antispoofing through port $kport answered $kanswer; no key 401; read-only, uid 65532; pod stop: exit 0 after ${kstop} s"
else
  echo "image-test: $ENGINE has no kube play: the Deployment was checked only against the API types (go test ./deploy/...)"
fi
