#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs accmem kselftest programs one after the other, passing their KTAP
# output through, and ends with one line:
#   # accmem-selftests: N passed, N failed, N skipped
# A program that dies without printing its totals counts as one failure.
# Exit status: 0 when nothing failed.

pass=0
fail=0
skip=0
tmp=${TMPDIR:-/tmp}/accmem-run.$$

for t in "$@"; do
	echo "# running $(basename "$t")"
	t0=$(date +%s)
	{ "$t"; echo $? > "$tmp.rc"; } 2>&1 | tee "$tmp.out"
	rc=$(cat "$tmp.rc")
	echo "# $(basename "$t"): exited $rc after $(($(date +%s) - t0)) s"
	totals=$(grep '^# Totals:' "$tmp.out" | tail -n 1)
	if [ -z "$totals" ]; then
		echo "# $(basename "$t"): exited $rc without totals"
		fail=$((fail + 1))
		continue
	fi
	p=$(echo "$totals" | sed -n 's/.* pass:\([0-9]*\).*/\1/p')
	f=$(echo "$totals" | sed -n 's/.* fail:\([0-9]*\).*/\1/p')
	xp=$(echo "$totals" | sed -n 's/.*xpass:\([0-9]*\).*/\1/p')
	s=$(echo "$totals" | sed -n 's/.*skip:\([0-9]*\).*/\1/p')
	e=$(echo "$totals" | sed -n 's/.*error:\([0-9]*\).*/\1/p')
	pass=$((pass + p))
	fail=$((fail + f + xp + e))
	skip=$((skip + s))
	if [ "$rc" != 0 ] && [ "$((f + xp + e))" = 0 ]; then
		echo "# $(basename "$t"): exited $rc"
		fail=$((fail + 1))
	fi
done
rm -f "$tmp.rc" "$tmp.out"

echo "# accmem-selftests: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
