// Putting a new binary in place of the running one, atomically: it is written next to the
// old one (same folder, so the last step is a rename within one file system), made
// executable, run once with --version, and only then renamed over the old one. Until that
// rename the old binary is untouched; a failure on the way removes the staged file.
import { spawn } from "node:child_process";
import { type FileHandle, chmod, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { CappedOutput } from "../lib/capped-output.ts";
import { onExit, onShutdown } from "../lib/shutdown.ts";

/** How long the new binary's --version may take before it is asked to stop (SIGTERM). */
const VERSION_RUN_MS = 30_000;
/** How long it then has before it is killed (SIGKILL), with whatever it started. */
const KILL_GRACE_MS = 3_000;
/** What is kept of its output: a version line is short. */
const VERSION_OUTPUT_BYTES = 64 * 1024;

export class CannotWriteError extends Error {
  override name = "CannotWriteError";
}

export interface StagedBinary {
  readonly path: string;
  readonly file: FileHandle;
  /** Makes it executable, checks that `--version` names `version`, and renames it over the target. */
  commit(version: string): Promise<string>;
  /** Removes the staged file (after a failure or on Ctrl-C). */
  discard(): Promise<void>;
}

/** Creates the staged file next to `target`; a folder the user cannot write fails here, before any download. */
export async function stageNextTo(target: string): Promise<StagedBinary> {
  const dir = path.dirname(target);
  const staged = path.join(dir, `.${path.basename(target)}.${process.pid}.upgrade`);
  let file: FileHandle;
  try {
    file = await open(staged, "wx", 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS")
      throw new CannotWriteError(`${dir} is not writable (${code})`);
    throw error;
  }
  let closed = false;
  const close = async () => {
    if (!closed) await file.close();
    closed = true;
  };
  return {
    path: staged,
    file,
    async commit(version) {
      await close();
      const mode = (await stat(target).catch(() => undefined))?.mode ?? 0o755;
      await chmod(staged, (mode & 0o777) | 0o100);
      const output = await runVersion(staged);
      // "aicage-util 1.2.3 (abc1234)": the version must be a word of its own (1.2.3 is not 1.2.3-rc.1).
      if (!output.split(/\s+/).includes(version)) {
        throw new Error(
          `the new binary's --version printed ${JSON.stringify(output.trim().slice(0, 200))}, not version ${version}`,
        );
      }
      await rename(staged, target);
      return output.trim();
    },
    async discard() {
      await close().catch(() => undefined);
      await rm(staged, { force: true });
    },
  };
}

/**
 * Runs `binary --version` in a process group of its own; answers its output, or throws with
 * what went wrong. Past its deadline the group gets SIGTERM, then SIGKILL after a grace; on a
 * signal or any exit of this process it is killed at once: it never outlives the tool.
 */
function runVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["--version"], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    const output = new CappedOutput(VERSION_OUTPUT_BYTES);
    child.stdout.on("data", (d: Buffer) => output.push(d));
    child.stderr.on("data", (d: Buffer) => output.push(d));
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const kill = () => signalGroup("SIGKILL");
    const stopCleanup = onShutdown(kill);
    const stopExit = onExit(kill);
    let timedOut = false;
    let grace: ReturnType<typeof setTimeout> | undefined;
    const deadline = setTimeout(() => {
      timedOut = true;
      signalGroup("SIGTERM");
      grace = setTimeout(kill, KILL_GRACE_MS);
    }, VERSION_RUN_MS);
    const settle = () => {
      clearTimeout(deadline);
      clearTimeout(grace);
      stopCleanup();
      stopExit();
    };
    // What it started may hold its output open after it ended: it goes with it.
    child.on("exit", kill);
    child.on("error", (error) => {
      settle();
      reject(new Error(`the new binary does not start on this machine: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      settle();
      const text = output.text();
      const last = text.trim() ? `: ${text.trim().split("\n").pop()}` : "";
      if (timedOut)
        reject(new Error(`the new binary's --version did not end within ${VERSION_RUN_MS / 1000}s and was killed`));
      else if (code === 0) resolve(text);
      else
        reject(
          new Error(
            `the new binary does not run on this machine: --version ${signal ? `was killed (${signal})` : `exited ${code}`}${last}`,
          ),
        );
    });
  });
}
