// A lock between processes on one machine: a file created exclusively (O_EXCL), holding the
// owner's pid, host and start time. Waiters poll. A lock whose owner is gone (same host, no
// such pid), or that is older than the stale limit, is broken: a crashed or killed owner never
// blocks the next run. The file is removed on release and on Ctrl-C.
import { closeSync, linkSync, mkdirSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { processExists } from "./process-identity.ts";
import { readRegularFile } from "./regular-file.ts";
import { onShutdown } from "./shutdown.ts";

/** An owner is a line of JSON: more, or a FIFO or a device in its place, is read as no owner (broken when stale). */
const MAX_OWNER_BYTES = 4096;

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken */
  since: string;
}

export interface FileLock {
  /** Whether another owner held the lock when we first asked: the work may be done already. */
  readonly waited: boolean;
  release(): void;
}

export interface LockOptions {
  signal?: AbortSignal;
  /** how often a waiter looks again; default 200 ms */
  pollMs?: number;
  /** a lock older than this is broken whoever holds it; default one hour */
  staleMs?: number;
  /** told once, when the lock is held by another owner */
  onWait?: (owner: LockOwner | undefined) => void;
}

/** A lock file whose content never became whole (its owner died between create and write) is stale after this. */
const UNREADABLE_GRACE_MS = 10_000;

export async function acquireFileLock(file: string, options: LockOptions = {}): Promise<FileLock> {
  mkdirSync(path.dirname(file), { recursive: true });
  const me: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let waited = false;
  for (;;) {
    options.signal?.throwIfAborted();
    if (tryCreate(file, me)) {
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        unregister();
        // Only our own lock: a lock broken as stale and taken by another stays theirs.
        if (sameOwner(readOwner(file), me)) removeQuietly(file);
      };
      const unregister = onShutdown(release);
      return { waited, release };
    }
    const owner = readOwner(file);
    if (isStale(file, owner, options.staleMs ?? 3_600_000)) {
      breakStale(file, owner);
      continue;
    }
    if (!waited) options.onWait?.(owner);
    waited = true;
    await sleep(options.pollMs ?? 200, options.signal);
  }
}

function tryCreate(file: string, me: LockOwner): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    writeSync(fd, JSON.stringify(me));
  } finally {
    closeSync(fd);
  }
  return true;
}

function readOwner(file: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(new TextDecoder().decode(readRegularFile(file, MAX_OWNER_BYTES)));
    return typeof owner?.pid === "number" && typeof owner?.host === "string" ? owner : undefined;
  } catch {
    return undefined;
  }
}

function sameOwner(a: LockOwner | undefined, b: LockOwner | undefined): boolean {
  return Boolean(a && b && a.pid === b.pid && a.host === b.host && a.since === b.since);
}

function isStale(file: string, owner: LockOwner | undefined, staleMs: number): boolean {
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(file).mtimeMs;
  } catch {
    return false; // gone meanwhile: the next try creates it
  }
  if (!owner) return ageMs > UNREADABLE_GRACE_MS;
  if (ageMs > staleMs) return true;
  return owner.host === hostname() && !processExists(owner.pid);
}

/**
 * Removes a stale lock without removing a fresh one another waiter took meanwhile: the lock is
 * renamed away (atomic), then checked; a fresh lock renamed by mistake is put back with link(),
 * which never overwrites a newer one.
 */
function breakStale(file: string, seen: LockOwner | undefined): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(file, aside);
  } catch {
    return; // someone else broke it first
  }
  const now = readOwner(aside);
  if (sameOwner(now, seen) || (seen === undefined && now === undefined)) {
    removeQuietly(aside);
    return;
  }
  try {
    linkSync(aside, file);
  } catch {
    // A newer lock exists: the one renamed loses its file, its owner removes nothing of ours.
  }
  removeQuietly(aside);
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener("abort", aborted, { once: true });
  });
}
