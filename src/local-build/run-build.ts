// One `aicage-util build`: scan the context and work out the image's identity, skip when
// --if-changed finds it built already, pick the way to build (the builder image, or the
// Engine API when that image cannot be had), run it with a log file, and report.
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { BASE_IMAGES_LABEL, CONTEXT_HASH_LABEL } from "../core/labels.ts";
import { UsageError } from "../core/errors.ts";
import { type BuildSecret, secretTexts, secretsRefused } from "./build-secrets.ts";
import { type BaseImages, baseImageIds, changedBaseImages, recordedBaseImages } from "./base-images.ts";
import type { Report } from "../core/progress.ts";
import { stateDir } from "../core/state-dir.ts";
import { toolVersion } from "../core/tool-info.ts";
import type { DockerClient } from "../docker/client.ts";
import { findImage, tagImage } from "../docker/images.ts";
import { buildThroughApi } from "../workloads/api-build.ts";
import { type BuildEvent, eventLine } from "../workloads/build-events.ts";
import { BuildStepError } from "../workloads/build-step-error.ts";
import { createBuildSteps } from "../workloads/build-steps.ts";
import { proxyVariables } from "../lib/proxy-env.ts";
import { onShutdown } from "../lib/shutdown.ts";
import type { EnsureOptions } from "../util-images/ensure.ts";
import type { BuildSettings } from "./build-settings.ts";
import { type BuildWay, type WayChoice, chooseBuildWay } from "./build-way.ts";
import { UtilImageBuildError } from "../util-images/build-util-image.ts";
import { readDockerfile, scanBuildContext } from "./context/scan.ts";
import { tarBuildContext } from "./context/tar.ts";
import { buildFailedError } from "./failure-report.ts";
import { createRedactor, redactEvent, secretValues } from "./secret-values.ts";
import { buildInputsHash, imageLabels } from "./image-identity.ts";
import { type BuildLog, defaultLogPath, openBuildLog } from "./log-file.ts";
import { buildViaBuilder } from "./via-builder.ts";
import {
  type ForwardedSetup,
  type HostRegistryChoice,
  asWrittenName,
  asWrittenStep,
  prepareHostSetup,
  textAsWritten,
} from "./forward-host-setup.ts";

export interface BuildRequest extends BuildSettings {
  /** absolute paths */
  contextDir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  ifChanged?: boolean;
  via: BuildWay;
  /** default: one new file per build under the state dir */
  logFile?: string;
  /** values for `RUN --mount=type=secret` (build-secrets.ts): `--via builder` only */
  secrets?: BuildSecret[];
  /** whether RUN steps get the host's registry set-up (forward-host-setup.ts); undefined: not */
  hostRegistries?: HostRegistryChoice;
}

export interface BuildResult {
  tag: string;
  tags: string[];
  imageId: string;
  skipped: boolean;
  /** how it was built; "api" also after falling back from "builder" */
  via: BuildWay;
  /** null when skipped */
  logFile: string | null;
  durationMs: number;
}

export interface BuildHooks {
  /** how to get the builder image (flags of the util images) */
  builderImage?: EnsureOptions;
  env?: Record<string, string | undefined>;
  /** ends the build (Ctrl-C): nothing more starts, what runs is stopped and removed */
  signal?: AbortSignal;
  /**
   * What the build tells as it goes: notices (a fall back), the log file's path, the build's
   * events (subject "image"; the log file has each event's line) and the builder image's own.
   */
  report?: Report;
}

export async function runBuild(
  client: DockerClient,
  request: BuildRequest,
  hooks: BuildHooks = {},
): Promise<BuildResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const tag = request.tags[0]!;
  const signal = hooks.signal ?? new AbortController().signal;
  signal.throwIfAborted();
  // An engine that does not answer is the first thing to report, before any scan or log file.
  await client.apiVersion();
  const inputs = await readInputs(client, request, hooks.env);

  const upToDate = request.ifChanged && (await upToDateImage(client, request, inputs, hooks.report));
  if (upToDate) {
    return {
      tag,
      tags: request.tags,
      imageId: upToDate,
      skipped: true,
      via: request.via,
      logFile: null,
      durationMs: elapsed(),
    };
  }

  return buildNow(client, request, hooks, inputs, { signal, elapsed });
}

type Inputs = Awaited<ReturnType<typeof readInputs>>;

/** The build itself, once --if-changed did not skip it: the way, the host's set-up, the log, the result. */
async function buildNow(
  client: DockerClient,
  request: BuildRequest,
  hooks: BuildHooks,
  inputs: Inputs,
  run: { signal: AbortSignal; elapsed: () => number },
): Promise<BuildResult> {
  const { signal, elapsed } = run;
  const tag = request.tags[0]!;
  const proxyArgs = proxyVariables(hooks.env);
  // Values that may be secrets never reach the log, the terminal or an error (see secret-values.ts).
  let redact = createRedactor([...secretValues(request.buildArgs, proxyArgs), ...secretTexts(request.secrets ?? [])]);
  signal.throwIfAborted();
  let log: BuildLog | undefined;
  let forwarded: ForwardedSetup | undefined;
  let settled: Promise<unknown> = Promise.resolve();
  // What the failure line needs: the failed step and the last lines of its own output.
  const steps = createBuildSteps();
  // On Ctrl-C, let the build wind down (its connection closed, its container removed) and the log end.
  const stopWaiting = onShutdown(() => settled);
  try {
    const way = await chooseBuildWay(client, request.via, {
      contextDir: inputs.context.dir,
      dockerfile: request.dockerfile,
      network: request.network,
      builderImage: hooks.builderImage,
      signal,
      report: hooks.report,
    });
    signal.throwIfAborted();
    const refused = secretsRefused(request.secrets ?? [], way.via, request.via);
    if (refused) throw new UsageError(refused);
    const inputsHash = inputs.hashFor(way.via);
    log = openLog(request, hooks, { way, context: inputs.context, inputsHash, proxyArgs });
    // After the log is open: an engine that hangs on the set-up's image still ends the log saying so.
    forwarded = await forwardedSetup(client, request, way.via, inputs.dockerfile, hooks, signal);
    // A step is named as the user wrote it: without the mount this tool put in; credentials hidden.
    if (forwarded) redact = textAsWritten(forwarded, redact);
    for (const line of forwarded?.lines ?? []) log.note(`host registry set-up ${line}`);
    const shown = forwarded;
    const onEvent = logAndReport(log, steps, redact, hooks.report, shown && ((event) => asWrittenStep(shown, event)));
    const labels = imageLabels(request.labels, {
      inputsHash,
      builderImage: way.builderImage,
      baseImages: inputs.baseImages,
    });
    const build = startBuild(client, request, {
      way,
      context: inputs.context,
      labels,
      proxyArgs,
      log,
      signal,
      onEvent,
      report: hooks.report,
      dockerfileText: forwarded?.dockerfile,
      hostSecrets: forwarded?.secrets,
    });
    settled = build.catch(() => undefined);
    const { imageId } = await build;
    log.note(`built ${imageId} in ${(elapsed() / 1000).toFixed(1)}s`);
    return { tag, tags: request.tags, imageId, skipped: false, via: way.via, logFile: log.path, durationMs: elapsed() };
  } catch (error) {
    throw failureOf(error, { tag, request, log, signal, redact, steps, forwarded });
  } finally {
    log?.close();
    stopWaiting();
    await forwarded?.image.remove();
  }
}

/** The host's registry set-up for the RUN steps, when the request forwards it (forward-host-setup.ts). */
function forwardedSetup(
  client: DockerClient,
  request: BuildRequest,
  via: BuildWay,
  dockerfile: Uint8Array,
  hooks: BuildHooks,
  signal: AbortSignal,
) {
  const env = hooks.env ?? process.env;
  return prepareHostSetup(client, {
    choice: request.hostRegistries,
    via,
    dockerfile,
    buildArgs: request.buildArgs,
    pull: request.pull,
    env,
    signal,
    report: hooks.report,
  });
}

/** The build's inputs: the context as scanned, and the inputs hash of each way. */
async function readInputs(
  client: DockerClient,
  request: BuildRequest,
  env: Record<string, string | undefined> | undefined,
) {
  const context = await scanBuildContext({
    contextDir: request.contextDir,
    dockerfile: request.dockerfile,
    allowDockerfileOutside: true,
    // An unchanged file is read once per build (to send it), not twice (to hash it first).
    digestCache: digestCachePath(request.contextDir, env),
  });
  const dockerfile = await readDockerfile(request.dockerfile);
  const baseImages = await baseImageIds(client, dockerfile, request.buildArgs);
  // The two ways may see different files in `COPY .` (see BuildContext.folderContextHash): the
  // hash is the way's, so --if-changed never takes one way's image for the other's.
  const hashFor = (way: BuildWay) =>
    buildInputsHash({
      contextHash: way === "api" ? context.contextHash : context.folderContextHash,
      dockerfile,
      buildArgs: request.buildArgs,
      labels: request.labels,
      target: request.target,
      platform: request.platform,
      baseImages,
    });
  return { context, dockerfile, baseImages, hashFor };
}

type ScannedContext = Awaited<ReturnType<typeof readInputs>>["context"];

/** The build's log file, with its header, its path reported. */
function openLog(
  request: BuildRequest,
  hooks: BuildHooks,
  facts: { way: WayChoice; context: ScannedContext; inputsHash: string; proxyArgs: Record<string, string> },
): BuildLog {
  const { way, context } = facts;
  const log = openBuildLog(request.logFile ?? defaultLogPath(request.tags[0]!, new Date(), hooks.env), {
    exclusive: !request.logFile,
  });
  hooks.report?.({ type: "build-log", path: log.path });
  writeHeader(log, request, {
    via: way.via,
    builderImage: way.builderImage,
    files: context.files,
    bytes: context.bytes,
    inputsHash: facts.inputsHash,
    proxyArgs: facts.proxyArgs,
  });
  if (way.builderUnavailable) {
    log.note(`builder image unavailable: ${way.builderUnavailable.message}`);
    const cause = way.builderUnavailable.cause;
    if (cause instanceof UtilImageBuildError) log.note(`builder image build ${cause.detail}`);
  }
  return log;
}

/** Each build event, secrets hidden: a line in the log, a step for the failure line, an event for the report. */
function logAndReport(
  log: BuildLog,
  steps: ReturnType<typeof createBuildSteps>,
  redact: (text: string) => string,
  report?: Report,
  asWritten?: (event: BuildEvent) => BuildEvent | undefined,
) {
  return (given: BuildEvent) => {
    const raw = asWritten ? asWritten(given) : given;
    if (!raw) return;
    const event = redactEvent(raw, redact);
    const line = eventLine(event);
    if (line !== undefined) log.write(line);
    steps.push(event);
    report?.({ type: "build", subject: "image", ...event });
  };
}

interface BuildStart {
  /** the host's registry credentials as build secrets (forward-host-setup.ts) */
  hostSecrets?: BuildSecret[];
  /** the Dockerfile to build instead of the file's own text (the host's set-up mounted in) */
  dockerfileText?: string;
  way: WayChoice;
  context: ScannedContext;
  labels: Record<string, string>;
  proxyArgs: Record<string, string>;
  log: BuildLog;
  signal: AbortSignal;
  onEvent: (event: BuildEvent) => void;
  report?: Report;
}

/** The build itself, the way chosen: buildx in the builder image, or POST /build. */
function startBuild(client: DockerClient, request: BuildRequest, start: BuildStart): Promise<{ imageId: string }> {
  const { way, context, labels, proxyArgs, log, signal, onEvent } = start;
  const common = {
    tags: request.tags,
    labels,
    target: request.target,
    platform: request.platform,
    noCache: request.noCache,
    pull: request.pull,
  };
  if (way.via === "builder") {
    const settings = {
      ...common,
      network: request.network,
      image: way.builderImage,
      endpoint: client.endpoint,
      contextDir: context.dir,
      dockerfile: request.dockerfile,
      buildArgs: request.buildArgs,
      proxyArgs,
      dockerfileText: start.dockerfileText,
      secrets: [...(request.secrets ?? []), ...(start.hostSecrets ?? [])],
    };
    return buildViaBuilder(client, settings, { signal, onEvent });
  }
  const apiRequest = {
    ...common,
    dockerfile: context.dockerfile,
    // The user's build arguments win over a proxy variable of the same name.
    buildArgs: { ...proxyArgs, ...request.buildArgs },
    networkMode: request.network,
  };
  const onNotice = (message: string) => {
    log.note(message);
    if (!way.apiBuilderSaid) start.report?.({ type: "notice", level: "warn", message });
  };
  const sent = start.dockerfileText === undefined ? context : withDockerfileText(context, start.dockerfileText);
  return buildThroughApi(client, () => tarBuildContext(sent), apiRequest, { signal, onEvent, onNotice });
}

/** The context as uploaded, its Dockerfile entry holding `text` (the file on disk is not touched). */
function withDockerfileText(context: ScannedContext, text: string): ScannedContext {
  const content = new TextEncoder().encode(text);
  const entries = context.entries.map((entry) =>
    entry.path === context.dockerfile ? { ...entry, content, size: content.length } : entry,
  );
  return { ...context, entries };
}

/** What a build that did not end well throws: interrupted as it was, else every text redacted, the log ended saying why. */
function failureOf(
  error: unknown,
  facts: {
    tag: string;
    request: BuildRequest;
    log?: BuildLog;
    signal: AbortSignal;
    redact: (text: string) => string;
    steps: ReturnType<typeof createBuildSteps>;
    forwarded?: ForwardedSetup;
  },
): unknown {
  const { log, redact } = facts;
  if (facts.signal.aborted) {
    log?.note("interrupted");
    return error;
  }
  // An engine's error may repeat a step's command, values expanded.
  if (error instanceof Error && !(error instanceof BuildStepError)) error.message = redact(error.message);
  if (!log) return error;
  // The engine went away or stopped answering mid-build: the log still ends saying so.
  if (!(error instanceof BuildStepError)) {
    log.note(`failed: ${(error as Error)?.message ?? String(error)}`);
    return error;
  }
  const step = error.step === undefined || !facts.forwarded ? error.step : asWrittenName(facts.forwarded, error.step);
  const failure = new BuildStepError(redact(error.reason), step === undefined ? undefined : redact(step));
  log.note(`failed${failure.step ? ` at step ${failure.step}` : ""}: ${failure.reason}`);
  const hostSetup = facts.request.hostRegistries?.forward ? (facts.forwarded ? "forwarded" : "not-forwarded") : "off";
  const stepOutput = facts.steps.failedStepOutput();
  return buildFailedError({ tag: facts.tag, failure, stepOutput, network: facts.request.network, log, hostSetup });
}

/** Where the content digests of one context folder's files are remembered between builds. */
function digestCachePath(contextDir: string, env: Record<string, string | undefined> = process.env): string {
  const id = createHash("sha256").update(resolve(contextDir)).digest("hex").slice(0, 24);
  return join(stateDir(env), "context-digests", `${id}.json`);
}

/**
 * The ID of the image the first tag names when it was built from these same inputs. The
 * other tags are pointed at it too, so every tag asked for names the up-to-date image.
 */
async function upToDateImage(
  client: DockerClient,
  request: BuildRequest,
  inputs: { baseImages: BaseImages; hashFor: (way: BuildWay) => string },
  report?: Report,
): Promise<string | undefined> {
  const tags = request.tags;
  const image = await findImage(client, tags[0]!);
  const labels = image?.Config?.Labels ?? {};
  if (labels[CONTEXT_HASH_LABEL] !== inputs.hashFor(request.via)) {
    const changed = changedBaseImages(recordedBaseImages(labels[BASE_IMAGES_LABEL]), inputs.baseImages);
    // Only where the image recorded its bases: an older one says nothing of them.
    if (image && labels[BASE_IMAGES_LABEL] && changed.length > 0) {
      const message = `--if-changed: the base image ${changed.join(", ")} changed since ${tags[0]} was built; building again`;
      report?.({ type: "notice", level: "info", message });
    }
    return undefined;
  }
  const id = image!.Id;
  for (const other of tags.slice(1)) {
    if ((await findImage(client, other))?.Id !== id) await tagImage(client, id, other);
  }
  return id;
}

function writeHeader(
  log: BuildLog,
  request: BuildRequest,
  facts: {
    via: BuildWay;
    builderImage: string;
    files: number;
    bytes: number;
    inputsHash: string;
    proxyArgs: Record<string, string>;
  },
): void {
  log.note(`aicage-util ${toolVersion} build, ${new Date().toISOString()}`);
  log.note(`via: ${facts.via}${facts.via === "builder" ? ` (builder image ${facts.builderImage})` : ""}`);
  log.note(`context: ${request.contextDir} (${facts.files} files, ${facts.bytes} bytes after .dockerignore)`);
  log.note(`dockerfile: ${request.dockerfile}`);
  log.note(`tags: ${request.tags.join(" ")}`);
  // Build arguments carry tokens (NPM_TOKEN=…), proxy values credentials: only names are written.
  for (const name of Object.keys(request.buildArgs)) log.note(`build arg: ${name} (value not shown)`);
  for (const { id } of request.secrets ?? []) log.note(`secret: ${id} (value not shown)`);
  const proxies = Object.keys(facts.proxyArgs);
  if (proxies.length) log.note(`proxy variables passed on: ${proxies.join(" ")}`);
  for (const [name, value] of Object.entries(request.labels)) log.note(`label: ${name}=${value}`);
  for (const [name, value] of Object.entries({
    target: request.target,
    platform: request.platform,
    network: request.network,
  })) {
    if (value) log.note(`${name}: ${value}`);
  }
  if (request.noCache) log.note("no cache");
  if (request.pull) log.note("pull: always");
  log.note(`inputs hash: ${facts.inputsHash}`);
}
