#!/usr/bin/env bash
# bench-opencv.sh: spoofsense check against the OpenCV pipeline (../shared/bench/opencv_pipeline.py)
# on the first 100 live and 100 spoof dev photos, one core each (taskset -c $CPU), whole-process CPU
# time (user + system), alternating, $ROUNDS rounds: like for like (--crops single, the two
# MiniFASNets) and the default (three nets, three crops), with AVX-512 and with AVX2
# (GODEBUG=cpu.avx512f=off). `make bench-e2e` runs it; the README quotes its ratios.
set -euo pipefail
BIN=${BIN:-bin/spoofsense}
SHARED=${SHARED:-../shared}
ROUNDS=${ROUNDS:-3}
CPU=${CPU:-1}
dev=$(realpath "$SHARED/data/dev")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/photos/live" "$work/photos/spoof"
for label in live spoof; do
	ls "$dev/$label" | grep -i '\.jpe\?g$' | sort | head -100 | while read -r f; do ln -s "$dev/$label/$f" "$work/photos/$label/$f"; done
done

# cpu CMD... prints the CPU seconds CMD took (its output is discarded).
cpu() {
	/usr/bin/time -f '%U %S' -o "$work/t" taskset -c "$CPU" "$@" >/dev/null 2>&1
	awk '{print $1 + $2}' "$work/t"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", a / b }'; }
single=(--crops single --nets MiniFASNetV2,MiniFASNetV1SE)
for r in $(seq "$ROUNDS"); do
	cv=$(cpu /usr/bin/python3 "$SHARED/bench/opencv_pipeline.py" "$work/cv.csv" "live=$work/photos/live/*" "spoof=$work/photos/spoof/*")
	check=("$BIN" check --workers 1 --quiet --exit-zero -o ndjson)
	s5=$(cpu "${check[@]}" "${single[@]}" "$work/photos")
	s2=$(cpu env GODEBUG=cpu.avx512f=off "${check[@]}" "${single[@]}" "$work/photos")
	d5=$(cpu "${check[@]}" "$work/photos")
	d2=$(cpu env GODEBUG=cpu.avx512f=off "${check[@]}" "$work/photos")
	echo "round $r: opencv ${cv}s | like for like: avx512 $(ratio "$s5" "$cv"), avx2 $(ratio "$s2" "$cv") | default: avx512 $(ratio "$d5" "$cv"), avx2 $(ratio "$d2" "$cv")"
done
