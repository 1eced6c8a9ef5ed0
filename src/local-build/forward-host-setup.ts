// Decides whether a build forwards the host's registry set-up (host-setup.ts), and if so
// readies it: the set-up's image, and the Dockerfile text every RUN of which mounts it. Where it
// cannot be done (the classic builder, `--pull`), the build goes on without, after one notice.
import type { BuildEvent, Report } from "../core/progress.ts";
import type { DockerClient } from "../docker/client.ts";
import { fromImages, rewriteDockerfile } from "./dockerfile-rewrite.ts";
import type { BuildSecret } from "./build-secrets.ts";
import { createRedactor } from "./secret-values.ts";
import {
  buildHostSetup,
  hostSetupAdditions,
  hostSetupLines,
  hostSetupSecretTexts,
  hostSetupSecrets,
} from "./host-setup.ts";
import { type HostSetupImage, buildHostSetupImage } from "./host-setup-image.ts";

export interface HostRegistryChoice {
  forward: boolean;
  /** the opt-in of version checks: builds take no credentials, and say so */
  credentials: boolean;
}

export interface ForwardedSetup {
  /** the Dockerfile the builder gets */
  dockerfile: string;
  image: HostSetupImage;
  /** what is forwarded, for the log: names and sources */
  lines: string[];
  /** the text put after each RUN keyword, taken out again wherever a step is named */
  runFlags: string;
  /**
   * The Dockerfile has one stage: BuildKit, seeing the set-up's image as a second source,
   * names its steps `[stage-0 2/3]`, where the user's file alone gives `[2/3]`.
   */
  singleStage: boolean;
  /** buildah counts the stage's ARG instruction as a step (BuildKit does not) */
  buildah: boolean;
  /** the files with registry credentials, as build secrets (only with --via builder and the opt-in) */
  secrets: BuildSecret[];
  /** the credential values in them, to hide in all the build shows */
  secretTexts: string[];
}

const SKIPPED = "the host's registry set-up is not forwarded into RUN steps";

export async function prepareHostSetup(
  client: DockerClient,
  inputs: {
    choice?: HostRegistryChoice;
    /** the way chosen: only buildx (--via builder) carries secrets, and so credentials */
    via: "builder" | "api";
    dockerfile: Uint8Array;
    buildArgs: Record<string, string>;
    pull?: boolean;
    env: Record<string, string | undefined>;
    signal: AbortSignal;
    report?: Report;
  },
): Promise<ForwardedSetup | undefined> {
  const warn = (message: string) => inputs.report?.({ type: "notice", level: "warn", message });
  if (!inputs.choice?.forward) return undefined;
  const credentials = inputs.choice.credentials && inputs.via === "builder";
  if (inputs.choice.credentials && !credentials) {
    warn(
      "registry credentials need --via builder (they go as build secrets, which an Engine API build cannot take): forwarded without them",
    );
  }
  const setup = buildHostSetup({ env: inputs.env, forwardCredentials: credentials });
  if (setup.files.length === 0) return undefined;
  // --pull resolves every image the Dockerfile names in a registry, the set-up's local one too.
  if (inputs.pull) {
    warn(`--pull: ${SKIPPED} (its image exists only on this engine)`);
    return undefined;
  }
  const original = new TextDecoder().decode(inputs.dockerfile);
  const image = await buildHostSetupImage(client, setup, inputs.signal);
  if (image.builder === "classic") {
    await image.remove();
    warn(`the classic builder cannot mount files into RUN steps: ${SKIPPED}`);
    return undefined;
  }
  // buildah (Podman 4) refuses a build that mounts from an image when a FROM names one by its ID.
  const buildah = image.builder === "buildah";
  const byId = fromImages(original, inputs.buildArgs).find((from) => /^(sha256:)?[0-9a-f]{64}$/.test(from));
  if (byId && buildah) {
    await image.remove();
    warn(`buildah cannot mount files into a build whose FROM names an image by its ID: ${SKIPPED} (name it by a tag)`);
    return undefined;
  }
  const additions = hostSetupAdditions(setup, image.ref);
  const { text, stages } = rewriteDockerfile(original, additions);
  const runFlags = `${additions.runFlags.join(" ")} `;
  const secrets = hostSetupSecrets(setup).map(({ id, value }) => ({ id, value }));
  const lines = hostSetupLines(setup);
  return {
    dockerfile: text,
    image,
    lines,
    runFlags,
    singleStage: stages === 1,
    buildah,
    secrets,
    secretTexts: hostSetupSecretTexts(setup),
  };
}

/**
 * A step's name as the user's Dockerfile would give it: buildah counts the ARG instruction this
 * tool adds to a one-stage file as step 2; the later steps are numbered as without it, and the
 * added step itself has no name (undefined). Multi-stage builds on buildah keep buildah's numbers.
 */
export function asWrittenName(forwarded: ForwardedSetup, name: string): string | undefined {
  if (!forwarded.buildah || !forwarded.singleStage) return name;
  const step = /^\[(\d+)\/(\d+)\]/.exec(name);
  if (!step) return name;
  const [n, total] = [Number(step[1]), Number(step[2])];
  if (n === 2) return undefined;
  return `[${n > 2 ? n - 1 : n}/${total - 1}]${name.slice(step[0].length)}`;
}

/** A build event as the user's Dockerfile would give it (asWrittenName); undefined for the added step. */
export function asWrittenStep(forwarded: ForwardedSetup, event: BuildEvent): BuildEvent | undefined {
  if (!("name" in event)) return event;
  const name = asWrittenName(forwarded, event.name);
  if (name === undefined) return undefined;
  if (name === event.name) return event;
  return { ...event, name, index: event.index > 2 ? event.index - 1 : event.index };
}

/**
 * Text a build shows (steps, lines, errors) as the user's Dockerfile would give it, redacted:
 * the registry credentials hidden, the mount flags this tool put after each RUN taken out, and
 * for a one-stage file BuildKit's `[stage-0 2/3]` (the set-up's image counts as a second source)
 * shown as `[2/3]`. buildah's step numbers are mended per event (asWrittenStep).
 */
export function textAsWritten(forwarded: ForwardedSetup, redact: (text: string) => string): (text: string) => string {
  const hide = forwarded.secretTexts.length > 0 ? createRedactor(forwarded.secretTexts) : (text: string) => text;
  const stage = forwarded.singleStage ? /\[stage-0 (\d+\/\d+)\]/g : undefined;
  return (text) => {
    const unmounted = text.replaceAll(forwarded.runFlags, "");
    return hide(redact(stage ? unmounted.replace(stage, "[$1]") : unmounted));
  };
}
