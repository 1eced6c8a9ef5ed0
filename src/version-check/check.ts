// The version check of many agents. Each place in the configured order (image, then
// host, by default) gets the agents still without a version: all image attempts share
// one container, host attempts run up to --jobs at once. Failures fall back to the last
// recorded version. Results keep the input order.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import type { DockerClient } from "../docker/client.ts";
import { type EnsureOptions, ensureUtilImage } from "../util-images/ensure.ts";
import { mapWithLimit } from "../lib/pool.ts";
import type { AgentScript } from "./agents.ts";
import type { CheckEvent } from "./check-events.ts";
import { type Attempt, attemptFromRun, attemptNotRun } from "./attempt.ts";
import type { CheckPlace } from "./order.ts";
import { type VersionRecord, readRecord, recordAgeSeconds, writeRecord } from "./records.ts";
import { runBatchInImage } from "./run-in-image.ts";
import { runOnHost } from "./run-on-host.ts";
import { bashArgs, hasCrlf } from "./script-output.ts";

export interface CheckSettings {
  order: CheckPlace[];
  timeoutMs: number;
  jobs: number;
  /** container network; undefined = the engine's default */
  network?: string;
  /** NAME=value pairs for the container */
  env: string[];
  maxOutputBytes: number;
  /** answer from a record younger than this, for an unchanged script, without running */
  cacheTtlSeconds?: number;
  cacheFallback: boolean;
  /** run every place and compare instead of stopping at the first success */
  compare: boolean;
  imageOptions: EnsureOptions;
  signal?: AbortSignal;
  /** one-line warnings for the user */
  onWarning: (message: string) => void;
  /** what is happening now, for a progress line */
  onProgress?: (message: string) => void;
  /** each script's start and end, for a live display */
  onEvent?: (event: CheckEvent) => void;
}

export interface CheckResult {
  agent: string;
  script: string;
  ok: boolean;
  version: string | null;
  source: CheckPlace | "cache" | null;
  stale: boolean;
  /** when the answered version was found (now, or when the record was written) */
  checkedAt: string | null;
  durationMs: number;
  attempts: Attempt[];
  /** with --compare: each place's version and whether they agree */
  compare?: { image: string | null; host: string | null; match: boolean };
}

/** One agent on its way through the check. */
interface Pending {
  agent: AgentScript;
  scriptSha256: string;
  crlf: boolean;
  previous?: VersionRecord;
  attempts: Attempt[];
  started: number;
}

export async function checkAgents(
  client: DockerClient | undefined,
  agents: AgentScript[],
  settings: CheckSettings,
): Promise<CheckResult[]> {
  const started = performance.now();
  const pending: Pending[] = agents.map((agent) => {
    const content = new Uint8Array(readFileSync(agent.script));
    return {
      agent,
      scriptSha256: createHash("sha256").update(content).digest("hex"),
      crlf: hasCrlf(content),
      previous: readRecord(agent.script, agent.agent),
      attempts: [],
      started,
    };
  });

  const fresh = (p: Pending) =>
    !settings.compare &&
    settings.cacheTtlSeconds !== undefined &&
    p.previous?.scriptSha256 === p.scriptSha256 &&
    recordAgeSeconds(p.previous) < settings.cacheTtlSeconds;

  for (const place of settings.order) {
    settings.signal?.throwIfAborted();
    const todo = pending.filter((p) => !fresh(p) && (settings.compare || !p.attempts.some((a) => a.ok)));
    if (todo.length === 0) break;
    settings.onProgress?.(`checking ${todo.length} agent${todo.length > 1 ? "s" : ""} ${place === "image" ? "in the image" : "on the host"}`);
    settings.onEvent?.({ kind: "place", place, agents: todo.length });
    const attempts = place === "image" ? await attemptsInImage(client, todo, settings) : await attemptsOnHost(todo, settings);
    todo.forEach((p, i) => p.attempts.push(attempts[i]!));
  }

  return pending.map((p) => finish(p, fresh(p), settings));
}

async function attemptsOnHost(todo: Pending[], settings: CheckSettings): Promise<Attempt[]> {
  return mapWithLimit(todo, settings.jobs, reported(settings, async (p) => {
    const started = performance.now();
    try {
      const run = await runOnHost({
        argv: bashArgs(p.agent.script, p.crlf),
        cwd: p.agent.dir,
        timeoutMs: settings.timeoutMs,
        maxOutputBytes: settings.maxOutputBytes,
        signal: settings.signal,
      });
      return attemptFromRun("host", run, settings.timeoutMs);
    } catch (error) {
      settings.signal?.throwIfAborted();
      const message = (error as NodeJS.ErrnoException).code === "ENOENT" ? "bash not found on the host" : (error as Error).message;
      return attemptNotRun("host", message, Math.round(performance.now() - started));
    }
  }));
}

/** Tells settings.onEvent when one agent's host attempt starts and how it ends. */
function reported(settings: CheckSettings, attempt: (p: Pending) => Promise<Attempt>) {
  return async (p: Pending) => {
    settings.onEvent?.({ kind: "started", agent: p.agent.agent, place: "host" });
    const result = await attempt(p);
    settings.onEvent?.({ kind: "finished", agent: p.agent.agent, place: "host", ok: result.ok });
    return result;
  };
}

async function attemptsInImage(client: DockerClient | undefined, todo: Pending[], settings: CheckSettings): Promise<Attempt[]> {
  const started = performance.now();
  const failAll = (error: unknown) => {
    settings.signal?.throwIfAborted();
    const message = (error as Error).message;
    return todo.map(() => attemptNotRun("image", message, Math.round(performance.now() - started)));
  };

  let image: string;
  try {
    if (!client) throw new Error("no Docker engine configured");
    image = (await ensureUtilImage(client, "version-check", settings.imageOptions)).id;
  } catch (error) {
    if (settings.order.includes("host") && !settings.compare) {
      // Said once per run, not once per agent.
      settings.onWarning(`${(error as Error).message.replace(/\.$/, "")}; version checks run on the host instead`);
    }
    return failAll(error);
  }

  // Every script is under way in the one container until it ends.
  for (const p of todo) settings.onEvent?.({ kind: "started", agent: p.agent.agent, place: "image" });
  const finished = (attempts: Attempt[]) => {
    todo.forEach((p, i) => settings.onEvent?.({ kind: "finished", agent: p.agent.agent, place: "image", ok: attempts[i]!.ok }));
    return attempts;
  };
  try {
    const runs = await runBatchInImage(
      client,
      todo.map((p) => ({ dir: p.agent.dir, file: basename(p.agent.script), crlf: p.crlf })),
      {
        image,
        env: settings.env,
        network: settings.network,
        jobs: settings.jobs,
        timeoutMs: settings.timeoutMs,
        maxOutputBytes: settings.maxOutputBytes,
        signal: settings.signal,
      },
    );
    return finished(runs.map((run) => attemptFromRun("image", run, settings.timeoutMs)));
  } catch (error) {
    return finished(failAll(error));
  }
}

function finish(p: Pending, fresh: boolean, settings: CheckSettings): CheckResult {
  const base = { agent: p.agent.agent, script: p.agent.script };
  const durationMs = p.attempts.reduce((sum, a) => sum + a.durationMs, 0);
  if (fresh && p.previous) {
    return { ...base, ok: true, version: p.previous.version, source: "cache", stale: false, checkedAt: p.previous.checkedAt, durationMs: 0, attempts: [] };
  }
  if (settings.compare) return compareResult(base, p.attempts, durationMs);

  const good = p.attempts.find((a) => a.ok);
  if (good) {
    const checkedAt = new Date().toISOString();
    try {
      writeRecord({ ...base, version: good.version!, source: good.source, checkedAt, scriptSha256: p.scriptSha256 });
    } catch (error) {
      // The version is still right; only the offline fallback is lost.
      settings.onWarning(`${p.agent.agent}: could not record the version (${(error as Error).message}); set AICAGE_UTIL_STATE_DIR to a writable folder`);
    }
    return { ...base, ok: true, version: good.version, source: good.source, stale: false, checkedAt, durationMs, attempts: p.attempts };
  }
  if (settings.cacheFallback && p.previous) {
    settings.onWarning(`${p.agent.agent}: every attempt failed; answering the version recorded at ${p.previous.checkedAt}`);
    return { ...base, ok: true, version: p.previous.version, source: "cache", stale: true, checkedAt: p.previous.checkedAt, durationMs, attempts: p.attempts };
  }
  return { ...base, ok: false, version: null, source: null, stale: false, checkedAt: null, durationMs, attempts: p.attempts };
}

function compareResult(base: { agent: string; script: string }, attempts: Attempt[], durationMs: number): CheckResult {
  const versionOf = (place: CheckPlace) => attempts.find((a) => a.source === place)?.version ?? null;
  const imageVersion = versionOf("image");
  const hostVersion = versionOf("host");
  const match = imageVersion !== null && imageVersion === hostVersion;
  return {
    ...base,
    ok: match,
    version: match ? imageVersion : null,
    source: match ? "image" : null,
    stale: false,
    checkedAt: new Date().toISOString(),
    durationMs,
    attempts,
    compare: { image: imageVersion, host: hostVersion, match },
  };
}
