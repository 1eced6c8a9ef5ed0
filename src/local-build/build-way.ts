// Which way a build goes: through the builder image (buildx with the context bind-mounted),
// or through the Engine API (the context uploaded). The builder image is asked for; the API
// takes over where that way cannot work, and a notice says why.
import type { Report } from "../core/progress.ts";
import type { DockerClient } from "../docker/client.ts";
import { identifyEngine } from "../workloads/engine-kind.ts";
import { engineSeesFolders, seesLocalFilesByAddress } from "../workloads/local-files.ts";
import { oneLine } from "../lib/text.ts";
import { type EnsureOptions, UtilImageUnavailableError, ensureUtilImage } from "../util-images/ensure.ts";
import { builderMountSources } from "./builder-container.ts";
import { API_BUILDER } from "./image-identity.ts";

export type BuildWay = "builder" | "api";

export interface WayChoice {
  via: BuildWay;
  /** the builder image's ID, or API_BUILDER for the Engine API */
  builderImage: string;
  /** why the builder image could not be had, when that sent the build to the API */
  builderUnavailable?: UtilImageUnavailableError;
  /** the notice already said which builder the engine's API uses (no second notice for it) */
  apiBuilderSaid?: boolean;
}

export interface WayInputs {
  /** the context folder as scanned, and the Dockerfile: what the builder container mounts */
  contextDir: string;
  dockerfile: string;
  /** the build's --network, for a builder image that has to be built here */
  network?: string;
  /** how to get the builder image (flags of the util images) */
  builderImage?: EnsureOptions;
  signal: AbortSignal;
  /** the notice that says why the API builds, and what getting the builder image reports */
  report?: Report;
}

const INSTEAD = "building through the Engine API instead (--via api)";

/** The way `asked` for, or the API where the builder image cannot build on this engine. */
export async function chooseBuildWay(client: DockerClient, asked: BuildWay, inputs: WayInputs): Promise<WayChoice> {
  const api = (notice: string, after = "", choice: Partial<WayChoice> = {}): WayChoice => {
    inputs.report?.({ type: "notice", level: "warn", message: `${notice}; ${INSTEAD}${after}` });
    return { via: "api", builderImage: API_BUILDER, ...choice };
  };
  // The builder container bind-mounts the context: an engine on another machine would see an
  // empty folder. The API takes the context as an upload instead.
  const cannotSee = () => api(`the engine at ${client.endpoint.display} cannot see this machine's files`);
  if (asked === "api") return { via: "api", builderImage: API_BUILDER };
  if (seesLocalFilesByAddress(client.endpoint) === "no") return cannotSee();
  // buildx's docker driver needs a Docker engine: elsewhere (Podman) the API builds.
  const engine = await identifyEngine(client);
  if (!engine.builderImageWorks) {
    // One notice says it all: the way, and the builder that takes over.
    const builder =
      engine.apiBuilder === "buildah"
        ? ", with buildah, not BuildKit: BuildKit-only Dockerfile features may not work"
        : "";
    return api(`${engine.product} ${engine.version} cannot build with buildx in the builder image`, builder, {
      apiBuilderSaid: true,
    });
  }
  let builderImage: string;
  try {
    // A builder image built here needs the same network as the user's own build steps.
    const network = inputs.builderImage?.network ?? inputs.network;
    builderImage = (
      await ensureUtilImage(client, "builder", {
        ...inputs.builderImage,
        network,
        signal: inputs.signal,
        report: inputs.report,
      })
    ).id;
  } catch (error) {
    if (!(error instanceof UtilImageUnavailableError)) throw error;
    return api(oneLine(error.message), "", { builderUnavailable: error });
  }
  // TCP to loopback may lead anywhere (a tunnel, an engine in a container): the engine is asked.
  if (!(await engineSeesFolders(client, builderImage, builderMountSources(inputs.contextDir, inputs.dockerfile))))
    return cannotSee();
  return { via: "builder", builderImage };
}
