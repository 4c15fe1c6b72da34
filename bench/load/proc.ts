/**
 * Process and machine figures from /proc (Linux): RSS, PSS and CPU time summed over a
 * process tree (a server and its children, e.g. nginx's workers), this process's own CPU, and
 * the whole machine's busy time, to spot interference.
 *
 * @module
 */

const TICKS_PER_S = 100; // USER_HZ: 100 on every Linux the bench runs on

/** One sample of a process tree. */
export interface TreeSample {
  pids: number;
  rssKb: number;
  pssKb: number;
  cpuS: number;
}

function read(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return undefined;
  }
}

/** Parent pid and CPU seconds (user + system) from /proc/PID/stat. */
function stat(pid: number | "self"): { ppid: number; cpuS: number } | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), cpuS: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S };
}

/** `roots` and all their descendants. */
export function processTree(roots: readonly number[]): number[] {
  if (!roots.length) return [];
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const s = stat(Number(entry.name));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(entry.name)]);
  }
  const tree = new Set<number>();
  const stack = [...roots];
  while (stack.length) {
    const pid = stack.pop()!;
    if (tree.has(pid)) continue;
    tree.add(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return [...tree];
}

/**
 * RSS, PSS and CPU summed over the trees under `roots`.
 *
 * @returns A sample, or undefined without roots.
 */
export function sampleTree(roots: readonly number[]): TreeSample | undefined {
  if (!roots.length) return undefined;
  const sample: TreeSample = { pids: 0, rssKb: 0, pssKb: 0, cpuS: 0 };
  for (const pid of processTree(roots)) {
    const status = read(`/proc/${pid}/status`);
    if (!status) continue;
    sample.pids++;
    sample.rssKb += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    sample.pssKb += Number(/Pss:\s+(\d+)/.exec(read(`/proc/${pid}/smaps_rollup`) ?? "")?.[1] ?? 0);
    sample.cpuS += stat(pid)?.cpuS ?? 0;
  }
  return sample;
}

/** CPU seconds this process used so far, all its threads included. */
export function ownCpuS(): number {
  return stat("self")?.cpuS ?? 0;
}

/** Busy CPU seconds of the whole machine (all cores) so far. */
export function machineBusyS(): number | undefined {
  const line = read("/proc/stat")?.split("\n")[0];
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return (total - f[3] - (f[4] ?? 0)) / TICKS_PER_S;
}
