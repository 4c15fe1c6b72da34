/**
 * Process and machine figures from /proc (Linux): RSS, PSS and CPU time summed over a
 * process tree (a server and its children: ssepg's supervisor and its `--workers`, nginx's
 * master and workers), this process's own CPU, and the whole machine's busy time, to spot
 * interference. The tree is walked again at every sample, so a worker started again during a
 * run is counted, and the CPU of workers that already exited stays counted (their parent's
 * reaped-children time).
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

/**
 * Parent pid and CPU seconds from /proc/PID/stat: its own (user + system) plus that of its
 * children it already reaped (cutime + cstime), so a worker that exited and was started again
 * does not take the CPU it used out of the tree's total.
 */
function stat(pid: number | "self"): { ppid: number; cpuS: number; ownCpuS: number } | undefined {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  const own = Number(fields[11]) + Number(fields[12]);
  const reaped = Number(fields[13]) + Number(fields[14]);
  return { ppid: Number(fields[1]), cpuS: (own + reaped) / TICKS_PER_S, ownCpuS: own / TICKS_PER_S };
}

/**
 * `roots` and all their descendants, breadth first, each once.
 *
 * @param roots The processes to start from.
 * @param childrenOf A process's children (pids).
 * @returns The pids of the tree.
 *
 * @example
 * ```ts
 * import { descendants } from "./proc.ts";
 * const tree = new Map([[1, [2, 3]], [3, [4]]]);
 * descendants([1], (pid) => tree.get(pid) ?? []); // [1, 2, 3, 4]
 * ```
 */
export function descendants(roots: readonly number[], childrenOf: (pid: number) => readonly number[]): number[] {
  const tree = new Set<number>();
  const queue = [...roots];
  for (let i = 0; i < queue.length; i++) {
    const pid = queue[i];
    if (tree.has(pid)) continue;
    tree.add(pid);
    queue.push(...childrenOf(pid));
  }
  return [...tree];
}

/** Whether this kernel has /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN). */
const CHILDREN_FILES = read("/proc/thread-self/children") !== undefined;

/**
 * A process's children from /proc/PID/task/TID/children, over all its threads: a child is
 * listed under the thread that forked it, which for Deno's and Bun's subprocess APIs is not
 * always the main thread.
 */
function childrenFromTasks(pid: number): number[] {
  const children: number[] = [];
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      for (const p of (read(`/proc/${pid}/task/${task.name}/children`) ?? "").split(" ")) {
        if (p.trim()) children.push(Number(p));
      }
    }
  } catch {
    // the process exited meanwhile: no children to follow
  }
  return children;
}

/** Children by parent, from every process's /proc/PID/stat (slower; kernels without `children` files). */
function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const s = stat(Number(entry.name));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), Number(entry.name)]);
  }
  return children;
}

/**
 * `roots` and all their descendants, as they are now.
 *
 * @param roots The processes to start from.
 * @returns The pids of the tree (a root that exited is still listed; sampling skips it).
 *
 * @example
 * ```ts
 * import { processTree } from "./proc.ts";
 * // Reads /proc: needs --allow-read.
 * // processTree([Deno.pid]).includes(Deno.pid); // true
 * ```
 */
export function processTree(roots: readonly number[]): number[] {
  if (!roots.length) return [];
  if (CHILDREN_FILES) return descendants(roots, childrenFromTasks);
  const byParent = childrenByParent();
  return descendants(roots, (pid) => byParent.get(pid) ?? []);
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
  return stat("self")?.ownCpuS ?? 0;
}

/** Busy CPU seconds of the whole machine (all cores) so far. */
export function machineBusyS(): number | undefined {
  const line = read("/proc/stat")?.split("\n")[0];
  if (!line) return undefined;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return (total - f[3] - (f[4] ?? 0)) / TICKS_PER_S;
}
