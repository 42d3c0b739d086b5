#!/usr/bin/env bash
# mutation.sh applies each mutation of .ci/mutations.tsv to a copy of the source, one at a time,
# runs the tests named beside it, and counts the mutants the tests kill (a failing test run).
# `make mutation` runs it; it is not part of `make test` (about 15 minutes on 2 cores).
#
# mutations.tsv: one mutation per line, five tab-separated fields:
#   package  test-regex  file  original-text  replacement
# In the two text fields \n and \t stand for a newline and a tab. The original text must occur exactly once in the file (else the line is reported as stale
# and counts as a failure of the list, not of the tests; so does a mutant that does not compile). Lines starting with # are comments.
#
# Environment: MUTATION_FILTER (only lines whose file or text matches this extended regex).
set -euo pipefail
cd "$(dirname "$0")/.."
list=.ci/mutations.tsv
export GOEXPERIMENT=${GOEXPERIMENT-simd}

# unescape reads FROM and TO from the environment with \n and \t turned into newline and tab.
unescape='my ($f, $t) = map { my $v = $_; $v =~ s/\\n/\n/g; $v =~ s/\\t/\t/g; $v } ($ENV{FROM}, $ENV{TO} // "");'
killed=0 survived=0 stale=0 total=0
survivors=()
restore=""
trap '[ -n "$restore" ] && cp "$restore" "${restore%.mutation-orig}" && rm -f "$restore"' EXIT INT TERM

while IFS=$'\t' read -r pkg run file from to; do
	[ -z "$pkg" ] || [[ $pkg == \#* ]] && continue
	if [ -n "${MUTATION_FILTER:-}" ] && ! grep -Eq -- "$MUTATION_FILTER" <<<"$file $from"; then
		continue
	fi
	total=$((total + 1))
	count=$(FROM="$from" perl -0777 -ne "$unescape"' $n = () = /\Q$f\E/g; print $n' "$file")
	if [ "$count" != 1 ]; then
		echo "STALE     $file: original text found $count times: $from"
		stale=$((stale + 1))
		continue
	fi
	cp "$file" "$file.mutation-orig"
	restore="$file.mutation-orig"
	FROM="$from" TO="$to" perl -0777 -pi -e "$unescape"' s/\Q$f\E/$t/' "$file"
	start=$(date +%s)
	if timeout 600 go test -count=1 -run "$run" "$pkg" >/tmp/mutation-out.txt 2>&1; then
		result=SURVIVED
		survived=$((survived + 1))
		survivors+=("$file: $from -> $to")
	elif grep -q -e '\[build failed\]' -e '\[setup failed\]' /tmp/mutation-out.txt; then
		result=INVALID # the mutant does not compile: a broken list line, not a killed mutant
		stale=$((stale + 1))
	else
		result=killed
		killed=$((killed + 1))
	fi
	cp "$restore" "$file" && rm -f "$restore"
	restore=""
	printf '%-9s %3ds  %s: %s -> %s\n' "$result" $(($(date +%s) - start)) "$file" "$from" "$to"
done <"$list"

echo
if [ "$total" -gt 0 ]; then
	echo "mutation score: $killed of $((total - stale)) mutants killed ($((100 * killed / (total - stale > 0 ? total - stale : 1)))%), $stale stale lines"
fi
for s in "${survivors[@]}"; do echo "  survived: $s"; done
[ "$stale" -eq 0 ] && [ "$survived" -eq 0 ]
