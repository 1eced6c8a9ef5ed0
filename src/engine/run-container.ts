// Runs one container to completion: create, start, follow its output, wait (with a
// deadline), and always remove it, also on timeout, error and interrupt.
import { onInterrupt, onShutdown } from "../lib/shutdown.ts";
import type { DockerClient } from "../docker/client.ts";
import {
  type ContainerSpec,
  containerLogs,
  createContainer,
  killContainer,
  removeContainer,
  startContainer,
  waitContainer,
} from "../docker/containers.ts";
import { demultiplex } from "../docker/streams/multiplex.ts";
import { CappedOutput } from "../lib/capped-output.ts";

export interface RunContainerOptions {
  /** Kill the container after this many ms; the result then has timedOut=true. */
  timeoutMs?: number;
  /** Aborting kills and removes the container; runContainer then rejects with the reason. */
  signal?: AbortSignal;
  /** Bytes kept of each of stdout and stderr; more is read and dropped. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Sees every piece of output as it arrives, capped or not. */
  onOutput?: (stream: "stdout" | "stderr", data: Uint8Array) => void;
  /** Called with the container ID once it exists (before it starts). */
  onCreated?: (id: string) => void;
}

export interface RunContainerResult {
  containerId: string;
  /** null when the container was killed on timeout */
  exitCode: number | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
}

const DEFAULT_MAX_OUTPUT = 1024 * 1024;

export async function runContainer(
  client: DockerClient,
  spec: ContainerSpec,
  options: RunContainerOptions = {},
): Promise<RunContainerResult> {
  const started = performance.now();
  options.signal?.throwIfAborted();
  const id = await createContainer(client, spec);
  const unregisterCleanup = onShutdown(() => removeContainer(client, id));
  options.onCreated?.(id);

  const stdout = new CappedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const stderr = new CappedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  let timedOut = false;
  let stopReason: unknown;
  const stopContainer = () => killContainer(client, id).catch(() => undefined);
  const onAbort = () => {
    stopReason = options.signal?.reason ?? new Error("aborted");
    void stopContainer();
  };
  const unregisterInterrupt = onInterrupt(() => {
    stopReason = new Error("interrupted");
  });
  let timer: ReturnType<typeof setTimeout> | undefined;

  try {
    // Wait first, then start: the wait request sees even an instant exit.
    const exit = waitContainer(client, id, "next-exit");
    exit.catch(() => undefined);
    await startContainer(client, id);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        void stopContainer();
      }, options.timeoutMs);
    }
    const logs = await containerLogs(client, id, { follow: true });
    for await (const frame of demultiplex(logs)) {
      if (frame.stream === 0) continue;
      const name = frame.stream === 2 ? "stderr" : "stdout";
      (name === "stdout" ? stdout : stderr).push(frame.data);
      options.onOutput?.(name, frame.data);
    }
    const exitCode = await exit;
    if (stopReason) throw stopReason;
    return {
      containerId: id,
      exitCode: timedOut ? null : exitCode,
      timedOut,
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    if (timer) clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    unregisterInterrupt();
    await removeContainer(client, id).catch(() => undefined);
    unregisterCleanup();
  }
}
