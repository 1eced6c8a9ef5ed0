// The progress stream of the Engine's POST /build as build events: BuildKit traces when the
// engine built with BuildKit, `stream` text from the classic builder or from buildah (Podman,
// which builds with buildah whatever it is asked for).
import { BUILDKIT_TRACE_ID, decodeBuildkitStatus } from "../../docker/streams/buildkit-status.ts";
import type { ProgressMessage } from "../../docker/streams/json-lines.ts";
import type { BuildEvent } from "../build-events.ts";
import { createBuildkitProgress } from "./buildkit.ts";
import { createClassicProgress } from "./classic.ts";

export interface ApiBuildProgress {
  push(message: ProgressMessage): BuildEvent[];
  /** The stream ended well. */
  end(): BuildEvent[];
  /** The stream ended with this error. */
  fail(message: string): BuildEvent[];
  /** The step that failed, when one did. */
  failedStep(): string | undefined;
  /** buildah (Podman builds with it whatever it is asked for), once its stream shows it. */
  buildah(): boolean;
}

export function createApiBuildProgress(): ApiBuildProgress {
  const buildkit = createBuildkitProgress();
  const classic = createClassicProgress();
  let finalError: string | undefined;
  return {
    push(message) {
      if (message.id === BUILDKIT_TRACE_ID && typeof message.aux === "string") {
        return buildkit.push(decodeBuildkitStatus(message.aux));
      }
      return typeof message.stream === "string" ? classic.push(message.stream) : [];
    },
    end: () => [...buildkit.flush(), ...classic.end()],
    // BuildKit names the failed step in its trace; otherwise the error line is all there is.
    fail(message) {
      finalError = message;
      return [...buildkit.flush(), ...(buildkit.failedStep() ? [] : classic.fail(message))];
    },
    // The step the final error is about, when several failed.
    failedStep: () => buildkit.failedStep(finalError)?.name ?? classic.failedStep(),
    buildah: () => classic.builder() === "buildah",
  };
}
