// Runs a version.sh on the host with bash: an argument vector, never a shell string,
// in its own process group so a timeout or Ctrl-C kills the whole tree it started.
import { spawn } from "node:child_process";
import { onShutdown } from "../lib/shutdown.ts";
import { CappedOutput } from "../lib/capped-output.ts";
import type { ScriptRun } from "./attempt.ts";

export interface HostRunOptions {
  argv: string[];
  cwd: string;
  timeoutMs: number;
  maxOutputBytes: number;
  signal?: AbortSignal;
}

export function runOnHost(options: HostRunOptions): Promise<ScriptRun> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // After Ctrl-C nothing new starts: a script started now would outlive the tool.
    if (options.signal?.aborted) return reject(options.signal.reason);
    const child = spawn(options.argv[0]!, options.argv.slice(1), {
      cwd: options.cwd,
      stdio: ["ignore", "pipe", "pipe"],
      // The full host environment, as aicage gives it; scripts can tell where they run.
      env: { ...process.env, AICAGE_VERSION_CHECK_PLACE: "host" },
      detached: true, // a new process group: kill(-pid) reaches the script's children too
    });
    const out = new CappedOutput(options.maxOutputBytes);
    const err = new CappedOutput(options.maxOutputBytes);
    child.stdout!.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr!.on("data", (chunk: Buffer) => err.push(chunk));

    let timedOut = false;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    };
    const unregister = onShutdown(killGroup);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    const onAbort = () => killGroup();
    options.signal?.addEventListener("abort", onAbort, { once: true });

    child.on("error", (error) => {
      clearTimeout(timer);
      unregister();
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      unregister();
      options.signal?.removeEventListener("abort", onAbort);
      // Children of the script may still hold the group open: end them too.
      killGroup();
      resolve({
        exitCode: timedOut ? null : code,
        timedOut,
        stdout: out.text(),
        stderr: err.text(),
        stdoutTruncated: out.truncated,
        truncated: out.truncated || err.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}
