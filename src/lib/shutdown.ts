// Work that must happen when the CLI is interrupted (SIGINT/SIGTERM): remove the
// containers it started, stop a build. Resources register an undo step while they
// exist; on a signal every registered step runs once, then the process exits with
// 128 + signal number (130 for Ctrl-C), the code shells expect.
type CleanupStep = () => Promise<unknown> | unknown;

const steps = new Set<CleanupStep>();
const interruptListeners = new Set<(signal: string) => void>();
let installed = false;
let shuttingDown = false;

const SIGNAL_EXIT_CODES: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };
/** How long cleanup may take after a signal before we exit anyway. */
const CLEANUP_DEADLINE_MS = 15_000;

/** Registers an undo step; returns a function that unregisters it once the resource is gone. */
export function onShutdown(step: CleanupStep): () => void {
  installSignalHandlers();
  steps.add(step);
  return () => steps.delete(step);
}

/** Called first on a signal, before the cleanup steps: lets running work abort itself. */
export function onInterrupt(listener: (signal: string) => void): () => void {
  installSignalHandlers();
  interruptListeners.add(listener);
  return () => interruptListeners.delete(listener);
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

export function isShuttingDown(): boolean {
  return shuttingDown;
}

async function runCleanupSteps(): Promise<void> {
  const pending = [...steps];
  steps.clear();
  await Promise.allSettled(pending.map(async (step) => step()));
}

function installSignalHandlers(): void {
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

async function handleSignal(signal: string): Promise<void> {
  if (shuttingDown) return; // a second Ctrl-C while cleaning up: keep cleaning
  shuttingDown = true;
  for (const listener of interruptListeners) listener(signal);
  const deadline = new Promise((resolve) => setTimeout(resolve, CLEANUP_DEADLINE_MS));
  await Promise.race([runCleanupSteps(), deadline]);
  process.exit(SIGNAL_EXIT_CODES[signal] ?? 130);
}
