#!/usr/bin/env bash
# The decode stage beside cv2.imdecode on the same photos, one core: builds preprocess's test
# binary, then runs BenchmarkDecodeDev200 and imdecode.py alternately ROUNDS times pinned to
# CORE, and prints each pair's ms/photo and their ratio (spoofsense / imdecode). Both sides
# report the fastest of 20 passes over the 200 photos, which is robust to a busy machine.
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
for i in $(seq "$rounds"); do
  go_ms=$(cd "$root/preprocess" && SPOOFSENSE_SHARED="$shared" taskset -c "$core" "$bin" \
    -test.run '^$' -test.bench '^BenchmarkDecodeDev200$/^reused$' -test.cpu 1 -test.benchtime 1x -test.count 20 |
    awk '/ms\/photo/ { for (i = 1; i < NF; i++) if ($(i+1) == "ms/photo" && (m == "" || $i < m)) m = $i }
      END { print m }')
  cv_ms=$(taskset -c "$core" /usr/bin/python3 "$here/imdecode.py" "$shared/data/dev" 200 20 |
    awk '{ print $(NF-1) }')
  awk -v g="$go_ms" -v c="$cv_ms" -v i="$i" \
    'BEGIN { printf "round %d: spoofsense %.3f ms/photo, cv2.imdecode %.3f ms/photo, ratio %.2f×\n", i, g, c, g / c }'
done
