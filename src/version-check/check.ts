// The version check of many agents. Each place in the configured order (image, then
// host, by default) gets the agents still without a version: all image attempts share
// one container, host attempts run up to --jobs at once. Failures fall back to the last
// recorded version. Results keep the input order.
import { createHash } from "node:crypto";
import { basename } from "node:path";
import type { DockerClient } from "../docker/client.ts";
import { type EnsureOptions, ensureUtilImage } from "../util-images/ensure.ts";
import type { RegistryForward } from "./registry-forward.ts";
import { mapWithLimit } from "../lib/pool.ts";
import { readRegularFile } from "../lib/regular-file.ts";
import { neutralise } from "../lib/safe-text.ts";
import { clip } from "../lib/text.ts";
import { COPY_LIMIT_BYTES, scanAgentFolder } from "./agent-folder.ts";
import type { AgentScript } from "./agents.ts";
import type { CheckEvent, Report } from "../core/progress.ts";
import { type Attempt, type GitHubContext, attemptFromRun, attemptNotRun } from "./attempt.ts";
import { type ForwardedVariable, GITHUB_TOKEN_NAMES, holdsGitHubToken } from "./forwarded-env.ts";
import type { CheckPlace } from "./order.ts";
import { type VersionRecord, readRecord, recordAgeSeconds, writeRecord } from "./records.ts";
import { runBatchInImage } from "./run-in-image.ts";
import { EngineUnreachableError } from "../docker/errors.ts";
import { runOnHost } from "./run-on-host.ts";
import { bashArgs, hasCrlf } from "./script-output.ts";

export interface CheckSettings {
  order: CheckPlace[];
  timeoutMs: number;
  jobs: number;
  /** container network; undefined = the engine's default */
  network?: string;
  /**
   * Host variables each script in the image gets (proxies, GitHub tokens, --env): never in the
   * container's configuration (see forwarded-env.ts). Host attempts get the whole environment.
   */
  variables?: ForwardedVariable[];
  /** GitHub token variables the host has and the image attempt does not get (switched off) */
  githubTokensWithheld?: string[];
  /** the host's registry set-up for the image attempt; undefined: none forwarded */
  registry?: RegistryForward;
  maxOutputBytes: number;
  /** answer from a record younger than this, for an unchanged script, without running */
  cacheTtlSeconds?: number;
  cacheFallback: boolean;
  /** run every place and compare instead of stopping at the first success */
  compare: boolean;
  imageOptions: EnsureOptions;
  /** Ctrl-C: nothing new starts once it fires (no host attempt after an interrupted image attempt) */
  signal?: AbortSignal;
  /**
   * What the run tells as it goes: warnings (notices), the phase ("checking 3 agents in the
   * image"), each script's start and end, where the image attempt's time went, and what getting
   * the version-check image reports.
   */
  report?: Report;
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
  /** the last recorded answer for this agent and script before this run, or null */
  previousVersion: string | null;
  /** a version was answered now (not stale), one was recorded before, and they differ */
  changed: boolean;
}

/** A result before it is set beside the last record. */
type Answer = Omit<CheckResult, "previousVersion" | "changed">;

/** One agent on its way through the check. */
interface Pending {
  agent: AgentScript;
  scriptSha256: string;
  crlf: boolean;
  /** the script's text names api.github.com: a 403 in its output is GitHub's rate limit */
  namesGitHubApi: boolean;
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
    // Not readFileSync: a script swapped for a FIFO since it was checked must not hang the run.
    const content = readRegularFile(agent.script, COPY_LIMIT_BYTES);
    return {
      agent,
      scriptSha256: createHash("sha256").update(content).digest("hex"),
      crlf: hasCrlf(content),
      namesGitHubApi: /\bapi\.github\.com\b/i.test(Buffer.from(content).toString("latin1")),
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
    settings.report?.({
      type: "phase",
      message: `checking ${todo.length} agent${todo.length > 1 ? "s" : ""} ${place === "image" ? "in the image" : "on the host"}`,
    });
    warnFallback(settings, pending, todo, place);
    checkEvent(settings, { kind: "place", place, agents: todo.length });
    const attempts =
      place === "image" ? await attemptsInImage(client, todo, settings) : await attemptsOnHost(todo, settings);
    // An interrupted attempt is no failure to fall back from: nothing more runs.
    settings.signal?.throwIfAborted();
    for (const [i, p] of todo.entries()) p.attempts.push(attempts[i]!);
  }

  return pending.map((p) => {
    const answer = finish(p, fresh(p), settings);
    return withPrevious(answer, p.previous);
  });
}

/**
 * The answer beside the last record: what it was, and whether it changed. A stale answer (the
 * record itself) or one from a fresh record never changed; a failure neither.
 */
function withPrevious(answer: Answer, previous: VersionRecord | undefined): CheckResult {
  const previousVersion = previous?.version ?? null;
  const answeredNow = answer.ok && answer.source !== "cache" && answer.version !== null;
  return {
    ...answer,
    previousVersion,
    changed: answeredNow && previousVersion !== null && answer.version !== previousVersion,
  };
}

/** What the failure hint needs to tell GitHub's rate limit: whether the script names the API, and the attempt had a token. */
function githubContext(p: Pending, place: CheckPlace, settings: CheckSettings): GitHubContext {
  if (place === "host") {
    const token = GITHUB_TOKEN_NAMES.some((name) => process.env[name]);
    return { namesApi: p.namesGitHubApi, token: token ? "sent" : "none" };
  }
  if (holdsGitHubToken(settings.variables ?? [])) return { namesApi: p.namesGitHubApi, token: "sent" };
  return { namesApi: p.namesGitHubApi, token: settings.githubTokensWithheld?.length ? "withheld" : "none" };
}

async function attemptsOnHost(todo: Pending[], settings: CheckSettings): Promise<Attempt[]> {
  return mapWithLimit(
    todo,
    settings.jobs,
    reported(settings, async (p) => {
      const started = performance.now();
      try {
        const run = await runOnHost({
          argv: bashArgs(p.agent.script, p.crlf),
          cwd: p.agent.dir,
          timeoutMs: settings.timeoutMs,
          maxOutputBytes: settings.maxOutputBytes,
          signal: settings.signal,
        });
        return attemptFromRun("host", run, settings.timeoutMs, githubContext(p, "host", settings));
      } catch (error) {
        settings.signal?.throwIfAborted();
        const message =
          (error as NodeJS.ErrnoException).code === "ENOENT" ? "bash not found on the host" : (error as Error).message;
        return attemptNotRun("host", message, Math.round(performance.now() - started));
      }
    }),
  );
}

function checkEvent(settings: CheckSettings, event: CheckEvent): void {
  settings.report?.({ type: "check", ...event });
}

function warn(settings: CheckSettings, message: string): void {
  settings.report?.({ type: "notice", level: "warn", message });
}

/** Reports when one agent's host attempt starts and how it ends. */
function reported(settings: CheckSettings, attempt: (p: Pending) => Promise<Attempt>) {
  return async (p: Pending) => {
    checkEvent(settings, { kind: "started", agent: p.agent.agent, place: "host" });
    const result = await attempt(p);
    checkEvent(settings, { kind: "finished", agent: p.agent.agent, place: "host", ok: result.ok });
    return result;
  };
}

async function attemptsInImage(
  client: DockerClient | undefined,
  todo: Pending[],
  settings: CheckSettings,
): Promise<Attempt[]> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const failAll = (error: unknown) => {
    settings.signal?.throwIfAborted();
    const message = (error as Error).message;
    return todo.map(() => attemptNotRun("image", message, elapsed()));
  };

  let ready: Awaited<ReturnType<typeof readyImage>>;
  try {
    ready = await readyImage(client, settings);
  } catch (error) {
    return failAll(error);
  }

  const attempts = new Array<Attempt | undefined>(todo.length);
  const batch = agentsToCopy(todo, attempts);
  if (batch.length === 0) return attempts as Attempt[];

  // Each script's start and end as the runner in the container reports them: the live line
  // counts up as agents finish, with as many running as really do (at most --jobs).
  const agentAt = (k: number) => todo[batch[k]!]!.agent.agent;
  const reportedEnd = new Set<number>();
  try {
    const { runs, missing } = await runBatchInImage(
      ready.engine,
      batch.map((i) => {
        const p = todo[i]!;
        return { folder: p.agent.folder!, file: basename(p.agent.script), crlf: p.crlf };
      }),
      {
        image: ready.image,
        env: settings.registry?.env ?? [],
        variables: settings.variables,
        shared: settings.registry?.files,
        network: settings.network,
        jobs: settings.jobs,
        timeoutMs: settings.timeoutMs,
        maxOutputBytes: settings.maxOutputBytes,
        signal: settings.signal,
        report: (event) => {
          if (event.kind === "phases")
            return settings.report?.({ type: "check-timing", phases: [...ready.phases, ...event.phases] });
          if (event.kind === "started")
            return checkEvent(settings, { kind: "started", agent: agentAt(event.index), place: "image" });
          reportedEnd.add(event.index);
          const ok = attemptFromRun("image", event.run, settings.timeoutMs).ok; // ok needs no hint
          checkEvent(settings, { kind: "finished", agent: agentAt(event.index), place: "image", ok });
        },
      },
    );
    // Every record that arrived counts; the agents without one failed in the image, for the
    // reason the container gives (it ran out of time, the engine stopped answering).
    for (const [k, i] of batch.entries()) {
      const run = runs[k];
      attempts[i] = run
        ? attemptFromRun("image", run, settings.timeoutMs, githubContext(todo[i]!, "image", settings))
        : attemptNotRun("image", missing?.message ?? "no result", elapsed());
    }
  } catch (error) {
    settings.signal?.throwIfAborted();
    // An engine that stopped answering before any agent ended is no agent's failure: as one
    // that never answered, it ends a run that has only the image (exit 3).
    if (error instanceof EngineUnreachableError && !settings.order.includes("host")) throw error;
    const message = (error as Error).message;
    for (const i of batch) attempts[i] = attemptNotRun("image", message, elapsed());
  }
  // Those the container never reported as ended (it failed, or timed out) end now.
  batch.forEach((i, k) => {
    if (!reportedEnd.has(k))
      checkEvent(settings, { kind: "finished", agent: agentAt(k), place: "image", ok: attempts[i]!.ok });
  });
  return attempts as Attempt[];
}

/** The engine answers and the version-check image is there: its ID, and the time each took. */
async function readyImage(client: DockerClient | undefined, settings: CheckSettings) {
  if (!client) throw new Error("no Docker engine configured");
  const phases: Array<{ phase: string; ms: number }> = [];
  let lap = performance.now();
  // The API version, negotiated once per run (GET /_ping): its own phase, not the image's.
  await client.apiVersion();
  phases.push({ phase: "engine", ms: Math.round(performance.now() - lap) });
  lap = performance.now();
  const { id } = await ensureUtilImage(client, "version-check", {
    ...settings.imageOptions,
    signal: settings.signal,
    report: settings.report,
  });
  phases.push({ phase: "image", ms: Math.round(performance.now() - lap) });
  return { engine: client, image: id, phases };
}

/**
 * The indices of the agents whose folders go into the container. A folder too big to copy is
 * not sent: that agent's image attempt fails here, and it is checked elsewhere, said once.
 */
function agentsToCopy(todo: Pending[], attempts: Array<Attempt | undefined>): number[] {
  const batch: number[] = [];
  todo.forEach((p, i) => {
    // Scanned with the paths when the command knew the image would be tried; else now
    // (what cannot be copied is then left out rather than refused).
    p.agent.folder ??= scanAgentFolder(p.agent.dir, basename(p.agent.script));
    if (!p.agent.folder.tooBig) {
      batch.push(i);
      return;
    }
    const why = `its folder ${neutralise(p.agent.dir)} holds more than ${COPY_LIMIT_BYTES / 1024 / 1024} MiB, the most copied into the check container`;
    attempts[i] = attemptNotRun("image", why, 0);
  });
  return batch;
}

const PLACE_WORDS: Record<CheckPlace, string> = { image: "in the image", host: "on the host" };

/**
 * Why agents that failed in one place are tried in the next, said once per run before they
 * are: a cause the whole place had (no engine, no image, a network that does not exist) as it
 * is; else each agent's own. (The table's ERROR column and --json's attempts say it for each.)
 */
function warnFallback(settings: CheckSettings, pending: Pending[], todo: Pending[], place: CheckPlace): void {
  if (settings.compare) return;
  const failed = todo.flatMap((p) => {
    const last = p.attempts.at(-1);
    return last && !last.ok ? [{ agent: p.agent.agent, attempt: last }] : [];
  });
  if (failed.length === 0) return;
  const from = failed[0]!.attempt.source;
  const cause = (attempt: Attempt) => (attempt.error ?? "failed").replace(/\s+/g, " ").replace(/\.$/, "");
  // The place failed as a whole: every agent it was asked for, with the same words, before any script ran.
  const tried = pending.flatMap((p) => p.attempts.filter((a) => a.source === from));
  const first = failed[0]!.attempt;
  const whole = tried.every((a) => !a.ok && a.exitCode === null && !a.timedOut && a.error === first.error);
  if (whole) {
    warn(settings, `${cause(first)}; version checks run ${PLACE_WORDS[place]} instead`);
  } else if (failed.length === 1) {
    warn(settings, `${failed[0]!.agent}: ${cause(first)}; it is checked ${PLACE_WORDS[place]}`);
  } else {
    const each = failed.map((f) => `${f.agent}: ${clip(cause(f.attempt), 120)}`).join("; ");
    warn(
      settings,
      `${failed.length} agents failed ${PLACE_WORDS[from]}, so they are checked ${PLACE_WORDS[place]}: ${each}`,
    );
  }
}

function finish(p: Pending, fresh: boolean, settings: CheckSettings): Answer {
  // The path as it may be shown: a folder name may hold escape sequences.
  const base = { agent: p.agent.agent, script: neutralise(p.agent.script) };
  const durationMs = p.attempts.reduce((sum, a) => sum + a.durationMs, 0);
  if (fresh && p.previous) {
    return {
      ...base,
      ok: true,
      version: p.previous.version,
      source: "cache",
      stale: false,
      checkedAt: p.previous.checkedAt,
      durationMs: 0,
      attempts: [],
    };
  }
  if (settings.compare) {
    const compared = compareResult(base, p.attempts, durationMs);
    // Both places agree: that is the agent's version now, and the next run's previous one.
    if (compared.ok)
      record(p, { version: compared.version!, source: "image", checkedAt: compared.checkedAt! }, settings);
    return compared;
  }

  const good = p.attempts.find((a) => a.ok);
  if (good) {
    const checkedAt = new Date().toISOString();
    record(p, { version: good.version!, source: good.source, checkedAt }, settings);
    return {
      ...base,
      ok: true,
      version: good.version,
      source: good.source,
      stale: false,
      checkedAt,
      durationMs,
      attempts: p.attempts,
    };
  }
  if (settings.cacheFallback && p.previous) {
    warn(settings, `${p.agent.agent}: every attempt failed; answering the version recorded at ${p.previous.checkedAt}`);
    return {
      ...base,
      ok: true,
      version: p.previous.version,
      source: "cache",
      stale: true,
      checkedAt: p.previous.checkedAt,
      durationMs,
      attempts: p.attempts,
    };
  }
  return {
    ...base,
    ok: false,
    version: null,
    source: null,
    stale: false,
    checkedAt: null,
    durationMs,
    attempts: p.attempts,
  };
}

/** Records a version answered now: the offline fallback, and what the next run compares with. */
function record(
  p: Pending,
  answer: { version: string; source: CheckPlace; checkedAt: string },
  settings: CheckSettings,
): void {
  try {
    writeRecord(
      { agent: p.agent.agent, script: neutralise(p.agent.script), ...answer, scriptSha256: p.scriptSha256 },
      p.agent.script,
    );
  } catch (error) {
    // The version is still right; only the offline fallback is lost.
    warn(
      settings,
      `${p.agent.agent}: could not record the version (${(error as Error).message}); set AICAGE_UTIL_STATE_DIR to a writable folder`,
    );
  }
}

function compareResult(base: { agent: string; script: string }, attempts: Attempt[], durationMs: number): Answer {
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
