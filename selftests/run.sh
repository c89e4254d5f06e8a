#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs accmem kselftest programs one after the other, passing their KTAP
# output through, and ends with one line:
#   # accmem-selftests: N passed, N failed, N skipped
# A program that dies without printing its totals counts as one failure.
# Exit status: 0 when nothing failed.
#
# Only shell builtins besides the programs, one tee each and (once) mkdir
# and ln, and no command substitution (a fork each): in a debug guest
# under TCG every fork costs a noticeable fraction of a second, every exec
# of a host binary over 9p more.

pass=0
fail=0
skip=0
tmp=${TMPDIR:-/tmp}/accmem-run.$$

# The TEST-ONLY libibverbs of scripts/rdma-core ($ACCMEM_RDMA_CORE, a 9p
# share in the guest) is found through links in a tmpfs directory, not by
# naming the share in LD_LIBRARY_PATH: the dynamic loader's failed lookups
# there (libc.so.6 and the rest, hwcaps subdirectories) would cost every
# exec of every program 0.5 s in a debug guest under TCG.
if [ -n "${ACCMEM_RDMA_CORE:-}" ] && [ -d "$ACCMEM_RDMA_CORE/lib" ]; then
	mkdir -p "$tmp.lib" && ln -s "$ACCMEM_RDMA_CORE"/lib/*.so* "$tmp.lib/" &&
		export LD_LIBRARY_PATH="$tmp.lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

uptime_s() { # sets $up to whole seconds of uptime
	read -r up _ </proc/uptime
	up=${up%%.*}
}

# field NAME LINE: sets $v to the number after "NAME:" in a "# Totals:" line
field() {
	v=${2#*" $1:"}
	v=${v%% *}
}

for t in "$@"; do
	name=${t##*/}
	echo "# running $name"
	uptime_s
	t0=$up
	{ "$t"; echo $? >"$tmp.rc"; } 2>&1 | tee "$tmp.out"
	read -r rc <"$tmp.rc"
	uptime_s
	echo "# $name: exited $rc after $((up - t0)) s"
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
	field pass "$totals"
	p=$v
	field fail "$totals"
	f=$v
	field xpass "$totals"
	xp=$v
	field skip "$totals"
	s=$v
	field error "$totals"
	e=$v
	pass=$((pass + p))
	fail=$((fail + f + xp + e))
	skip=$((skip + s))
	if [ "$rc" != 0 ] && [ "$((f + xp + e))" = 0 ]; then
		echo "# $name: exited $rc"
		fail=$((fail + 1))
	fi
done
rm -rf "$tmp.rc" "$tmp.out" "$tmp.lib"

echo "# accmem-selftests: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
