#!/usr/bin/env bash
# benchcmp.sh times the engine on the shipped models, in the SIMD build with each kernel
# variant (avx512, avx2, portable) and in the fallback build, beside onnxruntime on the same
# models, all on one core, and prints the medians and their ratio (ours / onnxruntime's),
# then the minimums and theirs, then each side's CPU time per run and that ratio: on a
# machine that other work shares, wall time counts the time slices the others get, while
# the CPU time a process is charged does not, so the CPU ratio is the one to quote there
# (onnxruntime's includes the threads of its node.js host; the medians show how noisy the
# machine was). `make bench` runs it from the repository root.
#
# Environment: SHARED (the shared directory with models/ and bench/ort-bench, default
# ../shared), BENCH_COUNT (Go benchmark repetitions, default 5), BENCH_TIME (each
# repetition's -benchtime, default 1s; e.g. 100x for many short ones, whose minimum is less
# disturbed), BENCH_CPU (the core to pin to, default 0), BENCH_CPU_REPS (repetitions of the
# CPU-time measurement, whose minimum is printed, default 3).
set -euo pipefail

shared=${SHARED:-../shared}
count=${BENCH_COUNT:-5}
benchtime=${BENCH_TIME:-1s}
cpu_reps=${BENCH_CPU_REPS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pin=()
if command -v taskset >/dev/null; then
	pin=(taskset -c "${BENCH_CPU:-0}")
fi

models=(MiniFASNetV2 MiniFASNetV1SE UltraFace MiniFASNetV2SE128)
ort_files=("$shared/models/MiniFASNetV2.onnx" "$shared/models/MiniFASNetV1SE.onnx" "$shared/bench/version-RFB-320.ort-best.onnx" "$shared/models/MiniFASNetV2SE-128.onnx")

echo "date $(date -u +%F), cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), one core"

ort_json=""
ort_cpu=() # onnxruntime's CPU per run, by model index, measured once
if [ -x "$shared/bench/ort-bench" ]; then
	ort_json=$("${pin[@]}" "$shared/bench/ort-bench" --threads 1 --runs 200 "${ort_files[@]}")
else
	echo "no $shared/bench/ort-bench: onnxruntime column left empty" >&2
fi

# ort_stat prints onnxruntime's statistic $2 (median_ms or min_ms) for the model file $1.
ort_stat() {
	printf '%s\n' "$ort_json" | awk -v f="\"model\":\"$1\"" -v k="\"$2\":" \
		'index($0, f) && match($0, k "[0-9.]+") { print substr($0, RSTART + length(k), RLENGTH - length(k)) }'
}

# go_stat prints the median (or, with $3 = min, the minimum) milliseconds of benchmark $1
# in the go test output $2.
go_stat() {
	printf '%s\n' "$2" | awk -v b="Benchmark$1" '$1 == b { print $3 }' | sort -n |
		awk -v s="${3:-median}" '{ v[NR] = $1 } END { if (NR) printf "%.3f", (s == "min" ? v[1] : NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) / 1e6 }'
}

# ratio prints $1 / $2 with two decimals, or - when either is missing.
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f", a / b; else print "-" }'
}

# cpu_ms prints the CPU milliseconds (user + system, its children's included) that the
# command "$@" is charged.
cpu_ms() {
	local TIMEFORMAT='%3U %3S' t
	t=$({ time "$@" >/dev/null 2>&1; } 2>&1)
	awk -v t="$t" 'BEGIN { split(t, a, " "); printf "%.1f", (a[1] + a[2]) * 1000 }'
}

# per_run_cpu prints the smallest, over cpu_reps tries, of the CPU milliseconds one run
# costs: (cost of "$@" with 220 runs − cost with 20) / 200, so that start-up and model
# loading cancel out. In "$@" the word RUNS stands for the run count.
per_run_cpu() {
	local best="" r a b v
	for ((r = 0; r < cpu_reps; r++)); do
		a=$(cpu_ms "${@//RUNS/20}")
		b=$(cpu_ms "${@//RUNS/220}")
		v=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f", (b - a) / 200 }')
		best=$(awk -v x="$best" -v y="$v" 'BEGIN { print (x == "" || y < x) ? y : x }')
	done
	printf '%s' "$best"
}

# Rows: the SIMD build with each kernel variant forced through SPOOFSENSE_KERNELS (a variant
# this CPU cannot run is reported and skipped), then the build without GOEXPERIMENT=simd
# (portable kernels only, what `go install` gives).
printf '%-9s %-9s %-18s %10s %10s %7s %10s %10s %7s %10s %10s %7s\n' build kernels model "go ms" "ort ms" ratio "go min" "ort min" ratio "go cpu" "ort cpu" ratio
printf '%-9s %-9s %-18s %29s %29s %29s\n' "" "" "" "(medians)" "(minimums)" "(CPU per run)"
for run in simd:avx512 simd:avx2 simd:portable fallback:portable; do
	build=${run%%:*} variant=${run#*:}
	experiment=simd
	if [ "$build" = fallback ]; then
		experiment=
	fi
	out=$(SPOOFSENSE_KERNELS=$variant GOEXPERIMENT=$experiment "${pin[@]}" go test -run '^$' \
		-bench 'MiniFASNet|UltraFace' -benchtime "$benchtime" -cpu 1 -count "$count" ./scorer/engine/ 2>&1)
	if printf '%s\n' "$out" | grep -q "spoofsense: SPOOFSENSE_KERNELS=$variant"; then
		printf '%-9s %-9s (this CPU or build cannot run it: skipped)\n' "$build" "$variant"
		continue
	fi
	GOEXPERIMENT=$experiment go test -c -o "$tmp/engine.test" ./scorer/engine/
	for k in "${!models[@]}"; do
		ours=$(go_stat "${models[$k]}" "$out")
		theirs=$(ort_stat "${ort_files[$k]}" median_ms)
		ours_min=$(go_stat "${models[$k]}" "$out" min)
		theirs_min=$(ort_stat "${ort_files[$k]}" min_ms)
		ours_cpu=$(cd scorer/engine && SPOOFSENSE_KERNELS=$variant per_run_cpu "${pin[@]}" "$tmp/engine.test" -test.run '^$' \
			-test.bench "^Benchmark${models[$k]}\$" -test.benchtime RUNSx -test.cpu 1)
		theirs_cpu=-
		if [ -x "$shared/bench/ort-bench" ]; then
			if [ -z "${ort_cpu[$k]:-}" ]; then
				ort_cpu[k]=$(per_run_cpu "${pin[@]}" "$shared/bench/ort-bench" --threads 1 --runs RUNS "${ort_files[$k]}")
			fi
			theirs_cpu=${ort_cpu[$k]}
		fi
		printf '%-9s %-9s %-18s %10s %10s %7s %10s %10s %7s %10s %10s %7s\n' "$build" "$variant" "${models[$k]}" "${ours:--}" "${theirs:--}" \
			"$(ratio "$ours" "$theirs")" "${ours_min:--}" "${theirs_min:--}" "$(ratio "$ours_min" "$theirs_min")" \
			"${ours_cpu:--}" "$theirs_cpu" "$(ratio "$ours_cpu" "$theirs_cpu")"
	done
done
