// Work that must happen when the CLI is interrupted (SIGINT/SIGTERM/SIGHUP): remove the
// containers it started, stop a build. Resources register an undo step while they exist;
// on a signal every registered step runs once, then the last words (a --json run's answer),
// then the process exits with 128 + signal number (130 for Ctrl-C, 143 for SIGTERM), the code
// shells expect.
//
// The handlers are installed by the entry point before anything else loads: a shell starts
// background jobs with SIGINT ignored, and until a handler is installed such a process
// loses every Ctrl-C (the whole command then ran to its end).
type CleanupStep = () => Promise<unknown> | unknown;

const steps = new Set<CleanupStep>();
const interruptListeners = new Set<(signal: string) => void>();
/** Steps that were registered after the signal: they run at once, and the exit waits for them. */
const lateSteps = new Set<Promise<unknown>>();
/** Work whose end the exit waits for (a create request on its way: its result must be undone). */
const inFlight = new Set<Promise<unknown>>();
let installed = false;
let shuttingDown: string | undefined;

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
/** How long cleanup may take after a signal before we exit anyway. */
const CLEANUP_DEADLINE_MS = 15_000;
/** How long the last words may take (a write to a pipe nobody reads never ends). */
const LAST_WORDS_DEADLINE_MS = 2_000;
/** What the process says after a signal's cleanup, told the exit code; see beforeSignalExit. */
const lastWords = new Set<(exitCode: number) => Promise<unknown> | unknown>();

/**
 * Registers an undo step; returns a function that unregisters it once the resource is gone.
 * A step registered after the signal came (a container whose create request was on its way)
 * runs at once, and the exit waits for it.
 */
export function onShutdown(step: CleanupStep): () => void {
  installSignalHandlers();
  if (shuttingDown) {
    const running = Promise.resolve()
      .then(step)
      .catch(() => undefined);
    lateSteps.add(running);
    void running.finally(() => lateSteps.delete(running));
    return () => {};
  }
  steps.add(step);
  return () => steps.delete(step);
}

/**
 * Called first on a signal, before the cleanup steps: lets running work abort itself. A
 * listener registered after the signal is called at once: work that starts late stops too.
 */
export function onInterrupt(listener: (signal: string) => void): () => void {
  installSignalHandlers();
  if (shuttingDown) {
    listener(shuttingDown);
    return () => {};
  }
  interruptListeners.add(listener);
  return () => interruptListeners.delete(listener);
}

/**
 * The exit after a signal waits for this work to settle (within the cleanup deadline): a
 * request that creates something, still on its way when the signal comes, ends, and the undo
 * step its caller then registers runs before the process exits.
 */
export function holdExitFor(work: Promise<unknown>): void {
  keepUntilSettled(inFlight, work);
}

/** Keeps `work` in `set` until it settles, either way; its failure is nobody's to report. */
function keepUntilSettled(set: Set<Promise<unknown>>, work: Promise<unknown>): void {
  const settled = work.then(
    () => undefined,
    () => undefined,
  );
  set.add(settled);
  void settled.finally(() => set.delete(settled));
}

/** Work the answer need not wait for, but the process's normal end does (see finishBeforeExit). */
const afterAnswer = new Set<Promise<unknown>>();

/**
 * Work that is off the answer's path but must end before the process does: the command prints
 * its result, then the exit waits for this (a finished container the engine is removing).
 */
export function finishBeforeExit(work: Promise<unknown>): void {
  keepUntilSettled(afterAnswer, work);
}

/** Resolves once every finishBeforeExit work has settled; the entry calls it before exiting. */
export async function workBeforeExit(): Promise<void> {
  while (afterAnswer.size > 0) await Promise.all([...afterAnswer]);
}

/**
 * Registers a last, synchronous step for when the process ends: done, failed, or after a
 * signal's cleanup steps (the signal handlers are installed, so an interrupt also ends
 * through process.exit). For what the cleanup steps may still need, e.g. a connection.
 */
export function onExit(step: () => void): () => void {
  installSignalHandlers();
  process.on("exit", step);
  return () => void process.off("exit", step);
}

/**
 * Registers what the process says last when a signal ends it: after every cleanup step (the
 * containers are gone), before the exit, told the exit code (130, 143, 129). The exit waits
 * for it up to a short deadline. For an answer a script reads, e.g. the CLI's --json object.
 */
export function beforeSignalExit(step: (exitCode: number) => Promise<unknown> | unknown): () => void {
  installSignalHandlers();
  lastWords.add(step);
  return () => lastWords.delete(step);
}

export function isShuttingDown(): boolean {
  return shuttingDown !== undefined;
}

/** Installs the SIGINT, SIGTERM and SIGHUP handlers; the entry point calls it first thing. */
export function installSignalHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(SIGNAL_EXIT_CODES)) {
    try {
      process.on(signal as NodeJS.Signals, () => void handleSignal(signal));
    } catch {
      // SIGHUP is not available everywhere (Windows); the others are.
    }
  }
}

async function runCleanupSteps(): Promise<void> {
  // Steps may register more (late) steps while they run, and work in flight may end and
  // register its own: wait until none is left. The turn of the event loop lets the callers
  // of finished work run on to where they register their undo step.
  for (;;) {
    await new Promise((resolve) => setImmediate(resolve));
    if (steps.size === 0 && lateSteps.size === 0 && inFlight.size === 0) return;
    const pending = [...steps];
    steps.clear();
    await Promise.allSettled([...pending.map(async (step) => step()), ...lateSteps, ...inFlight]);
  }
}

async function handleSignal(signal: string): Promise<void> {
  if (shuttingDown) return; // a second Ctrl-C while cleaning up: keep cleaning
  shuttingDown = signal;
  for (const listener of interruptListeners) listener(signal);
  const exitCode = SIGNAL_EXIT_CODES[signal] ?? 130;
  await within(runCleanupSteps(), CLEANUP_DEADLINE_MS);
  await within(Promise.allSettled([...lastWords].map(async (step) => step(exitCode))), LAST_WORDS_DEADLINE_MS);
  process.exit(exitCode);
}

/** Resolves when `work` settles or `ms` have passed, whichever comes first. */
async function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work, deadline]);
  clearTimeout(timer);
}
