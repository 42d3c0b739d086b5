#!/usr/bin/env bash
# The decode stage beside cv2.imdecode on the same photos, one core: builds preprocess's test
# binary, then runs BenchmarkDecodeDev200/reused and imdecode.py alternately ROUNDS times pinned
# to CORE, and prints each pair's ms/photo and their ratio (spoofsense / imdecode). Both sides
# report the fastest of 20 passes over the 200 photos, in wall time and in process CPU time
# (which leaves out the time other processes held the core: the fairer figure on a busy machine).
# Usage: bench-decode.sh SHARED [ROUNDS] [CORE]
set -euo pipefail
shared=${1:?usage: bench-decode.sh SHARED [ROUNDS] [CORE]}
rounds=${2:-3}
core=${3:-0}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
bin=$(mktemp -d)/preprocess.test
trap 'rm -rf "$(dirname "$bin")"' EXIT
(cd "$root" && go test -c -o "$bin" ./preprocess/)
# min UNIT: the smallest figure given in UNIT on the input's benchmark lines.
min() { awk -v u="$1" '{ for (i = 1; i < NF; i++) if ($(i+1) == u && (m == "" || $i + 0 < m + 0)) m = $i } END { print m }'; }
for i in $(seq "$rounds"); do
  go_out=$(cd "$root/preprocess" && SPOOFSENSE_SHARED="$shared" taskset -c "$core" "$bin" \
    -test.run '^$' -test.bench '^BenchmarkDecodeDev200$/^reused$' -test.cpu 1 -test.benchtime 1x -test.count 20)
  cv_out=$(taskset -c "$core" /usr/bin/python3 "$here/imdecode.py" "$shared/data/dev" 200 20)
  awk -v g="$(min ms/photo <<<"$go_out")" -v c="$(min ms/photo <<<"$cv_out")" \
    -v gc="$(min cpu-ms/photo <<<"$go_out")" -v cc="$(min cpu-ms/photo <<<"$cv_out")" -v i="$i" \
    'BEGIN { printf "round %d: spoofsense %.3f ms/photo (cpu %.3f), cv2.imdecode %.3f (cpu %.3f), ratio %.2f× (cpu %.2f×)\n", i, g, gc, c, cc, g / c, gc / cc }'
done
