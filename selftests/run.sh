#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs accmem kselftest programs one after the other, passing their KTAP
# output through, and ends with one line:
#   # accmem-selftests: N passed, N failed, N skipped
# A program that dies without printing its totals counts as one failure.
# Exit status: 0 when nothing failed.
#
# Only shell builtins besides the programs and one tee each: in a debug
# guest every exec of a host binary over 9p costs a noticeable fraction of
# a second.

pass=0
fail=0
skip=0
tmp=${TMPDIR:-/tmp}/accmem-run.$$

uptime_s() { # prints whole seconds of uptime
	read -r up _ </proc/uptime
	echo "${up%%.*}"
}

# field NAME LINE: the number after "NAME:" in a "# Totals:" line
field() {
	v=${2#*" $1:"}
	echo "${v%% *}"
}

for t in "$@"; do
	name=${t##*/}
	echo "# running $name"
	t0=$(uptime_s)
	{ "$t"; echo $? >"$tmp.rc"; } 2>&1 | tee "$tmp.out"
	read -r rc <"$tmp.rc"
	echo "# $name: exited $rc after $(($(uptime_s) - t0)) s"
	totals=""
	while IFS= read -r line; do
		case $line in
		"# Totals:"*) totals=$line ;;
		esac
	done <"$tmp.out"
	if [ -z "$totals" ]; then
		echo "# $name: exited $rc without totals"
		fail=$((fail + 1))
		continue
	fi
	p=$(field pass "$totals")
	f=$(field fail "$totals")
	xp=$(field xpass "$totals")
	s=$(field skip "$totals")
	e=$(field error "$totals")
	pass=$((pass + p))
	fail=$((fail + f + xp + e))
	skip=$((skip + s))
	if [ "$rc" != 0 ] && [ "$((f + xp + e))" = 0 ]; then
		echo "# $name: exited $rc"
		fail=$((fail + 1))
	fi
done
rm -f "$tmp.rc" "$tmp.out"

echo "# accmem-selftests: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
