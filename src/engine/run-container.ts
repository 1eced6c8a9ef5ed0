// Runs one container to completion: create, copy files in, start, follow its output, wait
// (with a deadline), and always remove it, also on timeout, error and interrupt. With
// `autoRemove` the engine removes a container that ran to its end itself (as `docker run --rm`
// does): the result does not wait for that removal, the process's end does (the command has
// printed its answer by then), so no container of ours outlives the command. An abort
// or Ctrl-C is honoured at any moment, from before the create request leaves to the end:
// the container is named before it is created, and its removal waits for the create
// request to settle, so one the engine is still making is found and removed too.
import { randomBytes } from "node:crypto";
import { finishBeforeExit, onInterrupt, onShutdown } from "../lib/shutdown.ts";
import type { DockerClient } from "../docker/client.ts";
import {
  type ContainerSpec,
  containerLogs,
  createContainer,
  killContainer,
  putArchive,
  removeContainer,
  startContainer,
  waitContainer,
} from "../docker/containers.ts";
import { EngineTimeoutError, NotFoundError } from "../docker/errors.ts";
import { shortId } from "../docker/ids.ts";
import { NotMultiplexedError, demultiplex } from "../docker/streams/multiplex.ts";
import { CappedOutput } from "../lib/capped-output.ts";
import { isPodman } from "./identity.ts";

export interface CopyIn {
  /** folder in the container the archive is extracted into */
  path: string;
  /** a tar; made only when it is needed */
  archive: () => ReadableStream<Uint8Array> | Uint8Array | Promise<Uint8Array>;
}

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
  /**
   * Archives copied into the container between create and start, through the Engine API
   * (not a bind mount): an engine that cannot see this machine's files gets them too.
   */
  copyIn?: CopyIn[];
  /**
   * The engine removes the container once it has ended (HostConfig.AutoRemove); the result
   * does not wait for it, the process's end does (lib/shutdown.ts finishBeforeExit). A
   * container that never ran to its end (a failed copy or start, an abort, Ctrl-C) is still
   * removed here before runContainer settles. Asked of Podman, the removal stays a phase of
   * the run: Podman 4.3 removes such a container, and its log, before a follow stream has
   * read what a quick command printed.
   */
  autoRemove?: boolean;
}

/**
 * How long each step of a run took, in order: create, copy, start, run (until its output
 * ended), exit (until the engine reported its exit code), remove.
 */
export type RunPhases = Array<{ phase: string; ms: number }>;

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
  /** where the time went; "remove" is missing when the engine removes the container itself */
  phases: RunPhases;
}

/** How long a follow stream may stay open after its container ended. */
const LOG_GRACE_MS = 2_000;
const DEFAULT_MAX_OUTPUT = 1024 * 1024;

export async function runContainer(
  client: DockerClient,
  spec: ContainerSpec,
  options: RunContainerOptions = {},
): Promise<RunContainerResult> {
  const started = performance.now();
  const { signal } = options;
  signal?.throwIfAborted();
  const phases: RunPhases = [];
  let phaseStart = started;
  const lap = (phase: string) => {
    const now = performance.now();
    phases.push({ phase, ms: Math.round(now - phaseStart) });
    phaseStart = now;
  };
  const engineRemoves = options.autoRemove === true && !(await isPodman(client));
  signal?.throwIfAborted();
  if (engineRemoves) spec = { ...spec, HostConfig: { ...spec.HostConfig, AutoRemove: true } };
  /** The container ran to its end: with autoRemove, the engine removes it. */
  let ended = false;

  // Why the run must end early (abort, Ctrl-C), and a promise every step races against.
  let stopReason: unknown;
  let rejectStopped!: (reason: unknown) => void;
  const stopped = new Promise<never>((_, reject) => (rejectStopped = reject));
  stopped.catch(() => undefined);
  // Ends requests in flight that may take long (the upload, the log stream); never the create.
  const requests = new AbortController();
  const stop = (reason: unknown) => {
    if (stopReason !== undefined) return;
    stopReason = reason;
    rejectStopped(reason);
    requests.abort(reason);
  };
  const onAbort = () => stop(signal?.reason ?? new Error("aborted"));
  signal?.addEventListener("abort", onAbort, { once: true });
  const unregisterInterrupt = onInterrupt(() => stop(new Error("interrupted")));

  // The name is known before the engine answers: a create that fails on our side (a cut
  // connection, a deadline) may still have made the container.
  const name = `aicage-util-${randomBytes(8).toString("hex")}`;
  const creating = createContainer(client, spec, name);
  creating.catch(() => undefined);
  let removal: Promise<void> | undefined;
  const remove = () =>
    (removal ??=
      // The engine removes one that ended (autoRemove); asking too would only cost a round trip.
      engineRemoves && ended
        ? creating.then((id) => finishBeforeExit(removed(client, id)))
        : creating.then(
            (id) => removeContainer(client, id),
            () => removeContainer(client, name),
          ).catch(() => undefined));
  const unregisterCleanup = onShutdown(remove);

  const stdout = new CappedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  const stderr = new CappedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let hung: ReturnType<typeof setTimeout> | undefined;
  let grace: ReturnType<typeof setTimeout> | undefined;
  /** Each step ends at once when the run is stopped; the container goes in `finally`. */
  const step = <T>(promise: Promise<T>): Promise<T> => {
    promise.catch(() => undefined);
    return Promise.race([promise, stopped]);
  };

  try {
    const id = await step(creating);
    lap("create");
    options.onCreated?.(id);
    for (const copy of options.copyIn ?? []) {
      const archive = watched(await step(Promise.resolve(copy.archive())));
      try {
        await step(putArchive(client, id, copy.path, archive.body, { signal: requests.signal }));
      } catch (error) {
        // A file that could not be read fails the upload; the transport would blame the engine.
        throw archive.failure() ?? error;
      }
    }
    if (options.copyIn?.length) lap("copy");
    // Wait first, then start: the wait request sees even an instant exit.
    const exit = waitContainer(client, id, "next-exit", requests.signal);
    exit.catch(() => undefined);
    await step(startContainer(client, id));
    lap("start");
    if (options.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        timedOut = true;
        void killContainer(client, id).catch(() => undefined);
        // The wait and the log stream have no deadline of their own (a script may be silent).
        // An engine that has not ended the killed container within a call's deadline is hung:
        // the run ends here, naming the endpoint, instead of waiting for answers that never come.
        hung = setTimeout(
          () => stop(new EngineTimeoutError(client.endpoint, `POST /containers/${shortId(id)}/kill`, client.requestTimeoutMs)),
          client.requestTimeoutMs,
        );
      }, options.timeoutMs);
    }
    // Output as it comes. Some engines (Podman 4.3, now and then) keep a follow stream open
    // after the container has ended: once it has, the stream gets a short grace, then what is
    // left is read once without follow, skipping the bytes already seen.
    const seen = { stdout: 0, stderr: 0 };
    const take = (frame: { stream: number; data: Uint8Array }, skip = { stdout: 0, stderr: 0 }) => {
      if (frame.stream === 0) return;
      const name = frame.stream === 2 ? "stderr" : "stdout";
      const drop = Math.min(skip[name], frame.data.length);
      skip[name] -= drop;
      const data = drop > 0 ? frame.data.subarray(drop) : frame.data;
      if (data.length === 0) return;
      seen[name] += data.length;
      (name === "stdout" ? stdout : stderr).push(data);
      options.onOutput?.(name, data);
    };
    const following = new AbortController();
    const stopFollowing = () => following.abort(new Error("the container has ended"));
    requests.signal.addEventListener("abort", stopFollowing, { once: true });
    exit.then(() => (grace = setTimeout(stopFollowing, LOG_GRACE_MS)), () => undefined);
    try {
      const logs = await step(containerLogs(client, id, { follow: true, signal: following.signal }));
      for await (const frame of demultiplex(logs)) take(frame);
    } catch (error) {
      // Removed by the engine already (autoRemove): it ended within a round trip of its start,
      // and its output went with it. The exit code still comes.
      if (engineRemoves && error instanceof NotFoundError && stopReason === undefined) {
        // nothing more to read
      } else {
        // Text where frames should be: Podman 4.3 following a container that just ended
        // answers with its error as the body. Once the container has ended, it is read again.
        const notFrames = error instanceof NotMultiplexedError;
        if (stopReason !== undefined || requests.signal.aborted || !(following.signal.aborted || notFrames)) throw error;
        if (notFrames) {
          stopFollowing();
          await step(exit);
        }
        try {
          const rest = await step(containerLogs(client, id, { follow: false, signal: requests.signal }));
          const skip = { ...seen };
          for await (const frame of demultiplex(rest)) take(frame, skip);
        } catch (restError) {
          // Removed by the engine in the meantime: what the follow stream brought is all there is.
          if (!(engineRemoves && restError instanceof NotFoundError && stopReason === undefined)) throw restError;
        }
      }
    }
    lap("run");
    const exitCode = await step(exit);
    ended = true;
    lap("exit");
    if (stopReason !== undefined) throw stopReason;
    return {
      containerId: id,
      exitCode: timedOut ? null : exitCode,
      timedOut,
      stdout: stdout.text(),
      stderr: stderr.text(),
      stdoutTruncated: stdout.truncated,
      stderrTruncated: stderr.truncated,
      durationMs: Math.round(performance.now() - started),
      phases,
    };
  } catch (error) {
    // A request cut short by the stop fails with its own words: the stop is the reason.
    throw stopReason ?? error;
  } finally {
    if (timer) clearTimeout(timer);
    if (hung) clearTimeout(hung);
    if (grace) clearTimeout(grace);
    signal?.removeEventListener("abort", onAbort);
    unregisterInterrupt();
    requests.abort();
    const removing = performance.now();
    await remove();
    if (!(engineRemoves && ended)) phases.push({ phase: "remove", ms: Math.round(performance.now() - removing) });
    unregisterCleanup();
  }
}

/** Resolves once the engine has removed the container (AutoRemove), or in 15 s at the latest. */
async function removed(client: DockerClient, id: string): Promise<void> {
  try {
    await waitContainer(client, id, "removed", AbortSignal.timeout(15_000));
  } catch {
    // Gone already (404), or the engine is slow: the exit does not wait longer.
  }
}

/** The archive as a request body that remembers why it failed, if its producer did. */
function watched(archive: ReadableStream<Uint8Array> | Uint8Array) {
  if (archive instanceof Uint8Array) return { body: archive, failure: () => undefined };
  let failure: unknown;
  const reader = archive.getReader();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await reader.read();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          failure = error;
          controller.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { body, failure: () => failure };
}
