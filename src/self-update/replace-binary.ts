// Putting a new binary in place of the running one, atomically: it is written next to the
// old one (same folder, so the last step is a rename within one file system), made
// executable, run once with --version, and only then renamed over the old one. Until that
// rename the old binary is untouched; a failure on the way removes the staged file.
import { spawn } from "node:child_process";
import { type FileHandle, chmod, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";

const VERSION_RUN_MS = 30_000;

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

/** Runs `binary --version`; answers its output, or throws with what went wrong. */
function runVersion(binary: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, ["--version"], { stdio: ["ignore", "pipe", "pipe"], timeout: VERSION_RUN_MS });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("error", (error) => reject(new Error(`the new binary does not start on this machine: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(output);
      else
        reject(
          new Error(
            `the new binary does not run on this machine: --version ${signal ? `was killed (${signal})` : `exited ${code}`}${output.trim() ? `: ${output.trim().split("\n").pop()}` : ""}`,
          ),
        );
    });
  });
}
