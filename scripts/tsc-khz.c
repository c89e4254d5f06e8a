// SPDX-License-Identifier: GPL-2.0
/*
 * Print the host's TSC frequency in kHz, for scripts/vm.
 *
 * Under TCG a guest's TSC ticks at the host's rate. A guest kernel
 * without ACPI (the debug kernels, scripts/debug.config) has no HPET or
 * PM timer to calibrate it against and its PIT calibration fails under
 * emulation, so it would fall back to a jiffies clocksource (no
 * high-resolution timers, ktime in ticks). scripts/vm measures the rate
 * here and passes it as tsc_early_khz=.
 *
 * Counts TSC ticks over about 100 ms of CLOCK_MONOTONIC_RAW; being
 * preempted in between does not matter, both clocks keep running.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
}

int main(void)
{
	const struct timespec pause = { .tv_nsec = 100000000 };
	uint64_t t0, c0, t1, c1;

	t0 = now_ns();
	c0 = __rdtsc();
	nanosleep(&pause, NULL);
	t1 = now_ns();
	c1 = __rdtsc();
	if (t1 <= t0 || c1 <= c0)
		return 1;
	printf("%llu\n", (unsigned long long)((c1 - c0) * 1000000 / (t1 - t0)));
	return 0;
}
