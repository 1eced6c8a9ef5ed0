// CLI jobs a test started and did not see end (it failed, or timed out, before its interrupt):
// each is ended after its test, as a user's Ctrl-C would, so its work (a container being made,
// a build) cannot spill into the tests after it. test/helpers/setup.ts calls endLiveJobs.
import type { ChildProcess } from "node:child_process";

const live = new Set<ChildProcess>();

export function trackJob(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
}

/** SIGINT to each live job's process group, then SIGKILL to those still there after 5 s. */
export async function endLiveJobs(): Promise<void> {
  const jobs = [...live];
  if (jobs.length === 0) return;
  const ended = Promise.all(
    jobs.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) resolve();
          else child.once("exit", () => resolve());
        }),
    ),
  );
  const signal = (name: NodeJS.Signals) => {
    for (const child of jobs) {
      try {
        process.kill(-child.pid!, name);
      } catch {
        // gone already
      }
    }
  };
  signal("SIGINT");
  const timeout = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 5_000).unref());
  if ((await Promise.race([ended, timeout])) === "late") signal("SIGKILL");
}
