// The sweep of what killed runs left (workloads/leftovers.ts), as the commands that talk to an
// engine run it: beside their own work, said in one line when it removed something.
import type { Report } from "../core/progress.ts";
import type { DockerClient } from "../docker/client.ts";
import { type LeftoverSweep, sweepLeftovers } from "../workloads/leftovers.ts";

/**
 * Starts the sweep; the promise settles once it is done and its line (if any) was reported, and
 * never rejects. The command's own work need not wait for it: a live run's things are never
 * touched, its own included.
 */
export function clearLeftovers(client: DockerClient | undefined, report: Report): Promise<void> {
  return sweepLeftovers(client)
    .then((sweep) => {
      const words = leftoverWords(sweep);
      if (words) report({ type: "notice", level: "info", message: `removed ${words} left by killed runs` });
    })
    .catch(() => undefined);
}

/** The sweep in a few words ("2 containers and 1 temporary folder"), empty when nothing was removed. */
export function leftoverWords(sweep: Pick<LeftoverSweep, "containers" | "images" | "tempFolders">): string {
  const parts = [
    counted(sweep.containers.length, "container"),
    counted(sweep.images.length, "image"),
    counted(sweep.tempFolders.length, "temporary folder"),
  ].filter((part) => part !== "");
  if (parts.length <= 1) return parts.join("");
  return `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}`;
}

function counted(n: number, noun: string): string {
  return n === 0 ? "" : `${n} ${noun}${n === 1 ? "" : "s"}`;
}
