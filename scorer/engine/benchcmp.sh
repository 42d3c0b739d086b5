#!/usr/bin/env bash
# benchcmp.sh times the engine on the shipped models, in the SIMD build with each kernel
# variant (avx512, avx2, portable) and in the fallback build, beside onnxruntime on the same
# models, all on one core, and prints the medians and the ratio (ours / onnxruntime's).
# `make bench` runs it from the repository root.
#
# Environment: SHARED (the shared directory with models/ and bench/ort-bench, default
# ../shared), BENCH_COUNT (Go benchmark repetitions, default 5), BENCH_CPU (the core to pin
# to, default 0).
set -euo pipefail

shared=${SHARED:-../shared}
count=${BENCH_COUNT:-5}
pin=()
if command -v taskset >/dev/null; then
	pin=(taskset -c "${BENCH_CPU:-0}")
fi

models=(MiniFASNetV2 MiniFASNetV1SE UltraFace MiniFASNetV2SE128)
ort_files=("$shared/models/MiniFASNetV2.onnx" "$shared/models/MiniFASNetV1SE.onnx" "$shared/bench/version-RFB-320.ort-best.onnx" "$shared/models/MiniFASNetV2SE-128.onnx")

echo "date $(date -u +%F), cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), one core"

ort_json=""
if [ -x "$shared/bench/ort-bench" ]; then
	ort_json=$("${pin[@]}" "$shared/bench/ort-bench" --threads 1 --runs 200 "${ort_files[@]}")
else
	echo "no $shared/bench/ort-bench: onnxruntime column left empty" >&2
fi

# ort_median prints onnxruntime's median milliseconds for the model file $1.
ort_median() {
	printf '%s\n' "$ort_json" | awk -v f="\"model\":\"$1\"" \
		'index($0, f) && match($0, /"median_ms":[0-9.]+/) { print substr($0, RSTART + 12, RLENGTH - 12) }'
}

# go_median prints the median milliseconds of benchmark $1 in the go test output $2.
go_median() {
	printf '%s\n' "$2" | awk -v b="Benchmark$1" '$1 == b { print $3 }' | sort -n |
		awk '{ v[NR] = $1 } END { if (NR) printf "%.3f", (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }'
}

# Rows: the SIMD build with each kernel variant forced through SPOOFSENSE_KERNELS (a variant
# this CPU cannot run is reported and skipped), then the build without GOEXPERIMENT=simd
# (portable kernels only, what `go install` gives).
printf '%-9s %-9s %-18s %10s %10s %7s\n' build kernels model "go ms" "ort ms" ratio
for run in simd:avx512 simd:avx2 simd:portable fallback:portable; do
	build=${run%%:*} variant=${run#*:}
	experiment=simd
	if [ "$build" = fallback ]; then
		experiment=
	fi
	out=$(SPOOFSENSE_KERNELS=$variant GOEXPERIMENT=$experiment "${pin[@]}" go test -run '^$' \
		-bench 'MiniFASNet|UltraFace' -cpu 1 -count "$count" ./scorer/engine/ 2>&1)
	if printf '%s\n' "$out" | grep -q "spoofsense: SPOOFSENSE_KERNELS=$variant"; then
		printf '%-9s %-9s (this CPU or build cannot run it: skipped)\n' "$build" "$variant"
		continue
	fi
	for k in "${!models[@]}"; do
		ours=$(go_median "${models[$k]}" "$out")
		theirs=$(ort_median "${ort_files[$k]}")
		ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }')
		printf '%-9s %-9s %-18s %10s %10s %7s\n' "$build" "$variant" "${models[$k]}" "${ours:--}" "${theirs:--}" "$ratio"
	done
done
