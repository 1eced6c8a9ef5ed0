// Runs one container to completion: create, copy files in, start, follow its output, wait
// (with a deadline), and always remove it, also on timeout, error and interrupt. With
// `autoRemove` the engine removes a container that ran to its end itself (as `docker run --rm`
// does): the result does not wait for that removal, the process's end does (the command has
// printed its answer by then), so no container of ours outlives the command. An abort
// or Ctrl-C is honoured at any moment, from before the create request leaves to the end:
// the container is named before it is created, and its removal waits for the create
// request to settle, so one the engine is still making is found and removed too.
import { randomBytes } from "node:crypto";
import { finishBeforeExit, onShutdown } from "../lib/shutdown.ts";
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
import { isPodman } from "./engine-kind.ts";
import { ownerLabels } from "../core/labels.ts";

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
  const phases = new PhaseClock(started);
  // Not asked of Podman: see `autoRemove`. No await without it: the create leaves at once.
  const engineRemoves = options.autoRemove === true && !(await isPodman(client));
  signal?.throwIfAborted();
  if (engineRemoves) spec = { ...spec, HostConfig: { ...spec.HostConfig, AutoRemove: true } };
  // Its owner: should this process be killed, the next run removes the container (leftovers.ts).
  const deadline = options.timeoutMs === undefined ? undefined : new Date(Date.now() + options.timeoutMs);
  spec = { ...spec, Labels: { ...spec.Labels, ...ownerLabels(deadline) } };
  const stop = new RunStop(signal);
  const container = new OurContainer(client, spec, engineRemoves);
  const output = new RunOutput(options);
  const timers = new RunTimers();
  try {
    const id = await stop.step(container.creating);
    phases.lap("create");
    options.onCreated?.(id);
    if (options.copyIn?.length) {
      await copyIn(client, id, options.copyIn, stop);
      phases.lap("copy");
    }
    const { exit } = await start(client, id, stop);
    phases.lap("start");
    const deadline = armDeadline(client, id, options.timeoutMs, timers, stop);
    await follow({ client, id, exit, engineRemoves, stop, timers, output });
    phases.lap("run");
    const exitCode = await stop.step(exit);
    container.ended = true;
    phases.lap("exit");
    if (stop.reason !== undefined) throw stop.reason;
    return {
      containerId: id,
      exitCode: deadline.timedOut ? null : exitCode,
      timedOut: deadline.timedOut,
      ...output.result(),
      durationMs: Math.round(performance.now() - started),
      phases: phases.list,
    };
  } catch (error) {
    // A request cut short by the stop fails with its own words: the stop is the reason.
    throw stop.reason ?? error;
  } finally {
    timers.clear();
    stop.end();
    const removing = performance.now();
    await container.remove();
    if (!container.removedByEngine) phases.list.push({ phase: "remove", ms: Math.round(performance.now() - removing) });
    container.forget();
  }
}

/** The phases of a run in order, each lap timed from the end of the one before. */
class PhaseClock {
  readonly list: RunPhases = [];
  private last: number;

  constructor(started: number) {
    this.last = started;
  }

  lap(phase: string): void {
    const now = performance.now();
    this.list.push({ phase, ms: Math.round(now - this.last) });
    this.last = now;
  }
}

/**
 * Why the run must end early (its signal: Ctrl-C reaches it as one, cli/interrupt.ts; a hung
 * engine), and a promise every step races against.
 */
class RunStop {
  /** Set once the run is stopped. */
  reason: unknown;
  /** Ends requests in flight that may take long (the upload, the log stream); never the create. */
  readonly requests = new AbortController();
  private readonly stopped: Promise<never>;
  private rejectStopped!: (reason: unknown) => void;
  private readonly onAbort = () => this.stop(this.signal?.reason ?? new Error("aborted"));

  constructor(private readonly signal: AbortSignal | undefined) {
    this.stopped = new Promise<never>((_, reject) => (this.rejectStopped = reject));
    this.stopped.catch(() => undefined);
    signal?.addEventListener("abort", this.onAbort, { once: true });
  }

  stop(reason: unknown): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.rejectStopped(reason);
    this.requests.abort(reason);
  }

  /** Each step ends at once when the run is stopped; the container goes in `finally`. */
  step<T>(promise: Promise<T>): Promise<T> {
    promise.catch(() => undefined);
    return Promise.race([promise, this.stopped]);
  }

  /** The run is over: nothing stops it any more, and requests still open end. */
  end(): void {
    this.signal?.removeEventListener("abort", this.onAbort);
    this.requests.abort();
  }
}

/**
 * The run's container. Its create request leaves at once, under a name chosen first: a create
 * that fails on our side (a cut connection, a deadline) may still have made the container, and
 * its removal waits for the create request to settle, so one still being made goes too.
 */
class OurContainer {
  readonly name = `aicage-util-${randomBytes(8).toString("hex")}`;
  readonly creating: Promise<string>;
  /** The container ran to its end: with autoRemove, the engine removes it. */
  ended = false;
  private removal: Promise<void> | undefined;
  private readonly unregisterCleanup: () => void;

  constructor(
    private readonly client: DockerClient,
    spec: ContainerSpec,
    private readonly engineRemoves: boolean,
  ) {
    this.creating = createContainer(client, spec, this.name);
    this.creating.catch(() => undefined);
    this.unregisterCleanup = onShutdown(this.remove);
  }

  /** The engine removes this one itself: it ran to its end, with autoRemove. */
  get removedByEngine(): boolean {
    return this.engineRemoves && this.ended;
  }

  /** Removes the container, once however often it is asked; never fails. */
  readonly remove = (): Promise<void> =>
    (this.removal ??=
      // The engine removes one that ended (autoRemove); asking too would only cost a round trip.
      this.removedByEngine
        ? this.creating.then((id) => finishBeforeExit(removed(this.client, id)))
        : this.creating
            .then(
              (id) => removeContainer(this.client, id),
              () => removeContainer(this.client, this.name),
            )
            .catch(() => undefined));

  /** The container is gone: a signal has nothing left to remove. */
  forget(): void {
    this.unregisterCleanup();
  }
}

/** The container's output: kept up to a cap per stream, each piece shown to `onOutput` as it comes. */
class RunOutput {
  private readonly stdout: CappedOutput;
  private readonly stderr: CappedOutput;
  /** Bytes taken of each stream so far: a second read of the log skips them. */
  readonly seen = { stdout: 0, stderr: 0 };

  constructor(private readonly options: RunContainerOptions) {
    this.stdout = new CappedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
    this.stderr = new CappedOutput(options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT);
  }

  /** Takes one frame of the log, less the bytes `skip` still counts as read before. */
  take(frame: { stream: number; data: Uint8Array }, skip = { stdout: 0, stderr: 0 }): void {
    if (frame.stream === 0) return;
    const name = frame.stream === 2 ? "stderr" : "stdout";
    const drop = Math.min(skip[name], frame.data.length);
    skip[name] -= drop;
    const data = drop > 0 ? frame.data.subarray(drop) : frame.data;
    if (data.length === 0) return;
    this.seen[name] += data.length;
    (name === "stdout" ? this.stdout : this.stderr).push(data);
    this.options.onOutput?.(name, data);
  }

  result(): Pick<RunContainerResult, "stdout" | "stderr" | "stdoutTruncated" | "stderrTruncated"> {
    return {
      stdout: this.stdout.text(),
      stderr: this.stderr.text(),
      stdoutTruncated: this.stdout.truncated,
      stderrTruncated: this.stderr.truncated,
    };
  }
}

/** The run's timers (deadline, hung engine, log grace), cleared together when it ends. */
class RunTimers {
  private readonly pending: Array<ReturnType<typeof setTimeout>> = [];

  after(ms: number, then: () => void): void {
    this.pending.push(setTimeout(then, ms));
  }

  clear(): void {
    for (const timer of this.pending) clearTimeout(timer);
  }
}

/** Copies each archive into the container, in order, through the Engine API. */
async function copyIn(client: DockerClient, id: string, copies: CopyIn[], stop: RunStop): Promise<void> {
  for (const copy of copies) {
    const archive = watched(await stop.step(Promise.resolve(copy.archive())));
    try {
      await stop.step(putArchive(client, id, copy.path, archive.body, { signal: stop.requests.signal }));
    } catch (error) {
      // A file that could not be read fails the upload; the transport would blame the engine.
      throw archive.failure() ?? error;
    }
  }
}

/** Starts the container; answers its exit code to come (in an object: a promise of it). */
async function start(client: DockerClient, id: string, stop: RunStop): Promise<{ exit: Promise<number> }> {
  // Wait first, then start: the wait request sees even an instant exit.
  const exit = waitContainer(client, id, "next-exit", stop.requests.signal);
  exit.catch(() => undefined);
  await stop.step(startContainer(client, id));
  return { exit };
}

/**
 * Kills the container after `timeoutMs` (the result then has timedOut=true). The wait and the
 * log stream have no deadline of their own (a script may be silent): an engine that has not
 * ended the killed container within a call's deadline is hung, and the run stops there, naming
 * the endpoint, instead of waiting for answers that never come.
 */
function armDeadline(
  client: DockerClient,
  id: string,
  timeoutMs: number | undefined,
  timers: RunTimers,
  stop: RunStop,
): { timedOut: boolean } {
  const deadline = { timedOut: false };
  if (timeoutMs === undefined) return deadline;
  timers.after(timeoutMs, () => {
    deadline.timedOut = true;
    void killContainer(client, id).catch(() => undefined);
    timers.after(client.requestTimeoutMs, () =>
      stop.stop(
        new EngineTimeoutError(client.endpoint, `POST /containers/${shortId(id)}/kill`, client.requestTimeoutMs),
      ),
    );
  });
  return deadline;
}

/** A started container's run, as far as reading its output goes. */
interface FollowedRun {
  client: DockerClient;
  id: string;
  exit: Promise<number>;
  engineRemoves: boolean;
  stop: RunStop;
  timers: RunTimers;
  output: RunOutput;
}

/**
 * Takes the output as it comes, until it ends. Some engines (Podman 4.3, now and then) keep a
 * follow stream open after the container has ended: once it has, the stream gets a short
 * grace, then what is left is read once without follow, skipping the bytes already seen.
 */
async function follow(run: FollowedRun): Promise<void> {
  const { client, id, exit, stop, timers, output } = run;
  const following = new AbortController();
  const stopFollowing = () => following.abort(new Error("the container has ended"));
  stop.requests.signal.addEventListener("abort", stopFollowing, { once: true });
  exit.then(
    () => timers.after(LOG_GRACE_MS, stopFollowing),
    () => undefined,
  );
  try {
    const logs = await stop.step(containerLogs(client, id, { follow: true, signal: following.signal }));
    for await (const frame of demultiplex(logs)) output.take(frame);
  } catch (error) {
    // Removed by the engine already (autoRemove): it ended within a round trip of its start,
    // and its output went with it. The exit code still comes.
    if (goneWithItsLog(run, error)) return;
    if (!readAgain(error, following.signal, stop)) throw error;
    if (error instanceof NotMultiplexedError) {
      stopFollowing();
      await stop.step(exit);
    }
    await readRest(run);
  }
}

/**
 * Whether a follow that failed is read again without follow: the grace after the container's
 * end cut it, or the engine answered text where frames should be (Podman 4.3 following a
 * container that just ended answers with its error as the body; once the container has
 * ended, it is read again). Never when the run was stopped.
 */
function readAgain(error: unknown, following: AbortSignal, stop: RunStop): boolean {
  if (stop.reason !== undefined || stop.requests.signal.aborted) return false;
  return following.aborted || error instanceof NotMultiplexedError;
}

/** Reads the log once more without follow, skipping what the follow stream brought. */
async function readRest(run: FollowedRun): Promise<void> {
  const { client, id, stop, output } = run;
  try {
    const rest = await stop.step(containerLogs(client, id, { follow: false, signal: stop.requests.signal }));
    const skip = { ...output.seen };
    for await (const frame of demultiplex(rest)) output.take(frame, skip);
  } catch (error) {
    // Removed by the engine in the meantime: what the follow stream brought is all there is.
    if (!goneWithItsLog(run, error)) throw error;
  }
}

/** The engine removed the container (autoRemove) and its log with it; the run was not stopped. */
function goneWithItsLog(run: FollowedRun, error: unknown): boolean {
  return run.engineRemoves && error instanceof NotFoundError && run.stop.reason === undefined;
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
