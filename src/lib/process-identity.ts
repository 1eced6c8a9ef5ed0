// Which process owns a thing it made outside itself (a container, a temporary folder), told so
// that a later process can say whether that owner still runs: its pid, when it started, and the
// machine it runs on. A pid alone is not enough: pids are reused, so the start time is compared
// too. And the same pid means another process on another machine, or in another pid namespace
// (a container) on the same kernel: the machine is this boot of the kernel and the pid
// namespace, so a process in a container never takes the host's pids for its own.
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";

export interface ProcessOwner {
  pid: number;
  /** its start time in clock ticks since boot (/proc/PID/stat); "" where there is no /proc */
  start: string;
  /** this boot and pid namespace (Linux), else the host name: where `pid` means this process */
  machine: string;
  /** the host name, for people reading a label */
  host: string;
}

/** "alive": the owner still runs (or may: a pid without a start time to compare); "gone": it ended; "elsewhere": another machine's. */
export type OwnerState = "alive" | "gone" | "elsewhere";

let self: ProcessOwner | undefined;

/** This process as an owner. */
export function thisProcess(): ProcessOwner {
  self ??= { pid: process.pid, start: processStat(process.pid)?.start ?? "", machine: thisMachine(), host: hostname() };
  return self;
}

/** Whether the owner still runs, as far as this machine can tell. */
export function ownerState(owner: ProcessOwner): OwnerState {
  if (owner.machine !== thisProcess().machine) return "elsewhere";
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return "gone";
  const stat = processStat(owner.pid);
  if (stat !== undefined) {
    // A zombie has ended: only its parent has not asked for its exit status yet.
    if (stat.state === "Z" || stat.state === "X") return "gone";
    return owner.start !== "" && stat.start !== owner.start ? "gone" : "alive";
  }
  // No /proc entry (macOS; or another user's process behind hidepid): a signal asks.
  return processExists(owner.pid) ? "alive" : "gone";
}

/** A process's state (field 3 of /proc/PID/stat) and start time (field 22), undefined when it has no entry. */
function processStat(pid: number): { state: string; start: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces and ")": count from the last.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0] ?? "", start: fields[19] ?? "" };
}

function thisMachine(): string {
  try {
    const boot = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    const pidNamespace = readlinkSync("/proc/self/ns/pid");
    return `${boot}/${pidNamespace}`;
  } catch {
    return `host:${hostname()}`;
  }
}

/** Whether a process with this pid exists (signal 0), also when it is another user's. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, it is another user's.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
