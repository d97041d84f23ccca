// Keeps the process measured away from the processes that load it. On a 2-core machine the load generator
// and the broker would otherwise run on the server's core part of the time, and the server's CPU time per
// request would carry their cache and scheduler noise: the server gets the last CPU to itself, the driver
// (autocannon) and the broker share the others. Linux only (taskset, from util-linux); anywhere else, with one
// CPU, or with BENCH_PIN=0, nothing is pinned and the figures say so.
import { spawnSync } from 'node:child_process';
import os from 'node:os';

/** The CPU lists to use, or undefined when pinning is off or unavailable. */
export function cpuPlan() {
  if (process.env.BENCH_PIN === '0' || process.platform !== 'linux') return undefined;
  const count = os.availableParallelism();
  if (count < 2) return undefined;
  if (spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' }).status !== 0) return undefined;
  const last = count - 1;
  return { server: String(last), load: last === 1 ? '0' : `0-${last - 1}`, all: `0-${last}` };
}

/** Pins every thread of `pid` (and the threads it starts later) to `cpus`; false when taskset refused. */
export function pin(pid, cpus) {
  return spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' }).status === 0;
}

/** How a report describes the placement. */
export function describePlan(plan) {
  return plan === undefined ? 'processes not pinned' : `server on CPU ${plan.server}, load generator and broker on CPU ${plan.load}`;
}
