// Decides whether a build forwards the host's registry set-up (host-setup.ts), and if so
// readies it: the set-up's image, and the Dockerfile text every RUN of which mounts it. Where it
// cannot be done (the classic builder, `--pull`), the build goes on without, after one notice.
import type { Report } from "../core/progress.ts";
import type { DockerClient } from "../docker/client.ts";
import { rewriteDockerfile } from "./dockerfile-rewrite.ts";
import { buildHostSetup, hostSetupAdditions, hostSetupLines } from "./host-setup.ts";
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
}

const SKIPPED = "the host's registry set-up is not forwarded into RUN steps";

export async function prepareHostSetup(
  client: DockerClient,
  inputs: {
    choice?: HostRegistryChoice;
    dockerfile: Uint8Array;
    pull?: boolean;
    env: Record<string, string | undefined>;
    signal: AbortSignal;
    report?: Report;
  },
): Promise<ForwardedSetup | undefined> {
  const warn = (message: string) => inputs.report?.({ type: "notice", level: "warn", message });
  if (!inputs.choice?.forward) return undefined;
  if (inputs.choice.credentials) {
    warn(
      "registry credentials are never forwarded into build steps (--forward-registry-credentials is for version checks)",
    );
  }
  const setup = buildHostSetup({ env: inputs.env });
  if (setup.files.length === 0) return undefined;
  // --pull resolves every image the Dockerfile names in a registry, the set-up's local one too.
  if (inputs.pull) {
    warn(`--pull: ${SKIPPED} (its image exists only on this engine)`);
    return undefined;
  }
  const image = await buildHostSetupImage(client, setup, inputs.signal);
  if (image.builder === "classic") {
    await image.remove();
    warn(`the classic builder cannot mount files into RUN steps: ${SKIPPED}`);
    return undefined;
  }
  const original = new TextDecoder().decode(inputs.dockerfile);
  const additions = hostSetupAdditions(setup, image.ref);
  const { text, stages } = rewriteDockerfile(original, additions);
  const runFlags = `${additions.runFlags.join(" ")} `;
  return { dockerfile: text, image, lines: hostSetupLines(setup), runFlags, singleStage: stages === 1 };
}
