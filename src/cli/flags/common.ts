// Flags every engine-using command shares.
import type { ArgsDef } from "citty";
import { UsageError } from "../../core/errors.ts";
import type { EngineChoice } from "../../workloads/open-engine.ts";
import { quoted } from "../../lib/safe-text.ts";

export const engineArgs = {
  host: {
    type: "string",
    description:
      "Docker endpoint, unix:///path, tcp://host:port or ssh://[user@]host[:port] (default: DOCKER_HOST, docker context, usual sockets)",
    valueHint: "URL",
  },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print one JSON object on stdout instead of text" },
} as const satisfies ArgsDef;

/** The most AICAGE_UTIL_ENGINE_TIMEOUT takes: a day (timers overflow past about 24.8 days). */
const MAX_ENGINE_TIMEOUT_SECONDS = 86_400;

/**
 * The engine the flags name: --host, else whatever the environment says; API calls under the
 * deadline AICAGE_UTIL_ENGINE_TIMEOUT (seconds) when set, else the client's 30 s.
 */
export function engineChoice(
  args: { host?: string },
  env: Record<string, string | undefined> = process.env,
): EngineChoice {
  const value = env.AICAGE_UTIL_ENGINE_TIMEOUT;
  let requestTimeoutMs: number | undefined;
  if (value !== undefined && value !== "") {
    if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > MAX_ENGINE_TIMEOUT_SECONDS) {
      throw new UsageError(
        `AICAGE_UTIL_ENGINE_TIMEOUT takes whole seconds from 1 to ${MAX_ENGINE_TIMEOUT_SECONDS}, not ${quoted(value, 40)}`,
      );
    }
    requestTimeoutMs = Number(value) * 1000;
  }
  return { host: args.host || undefined, hostSource: "--host", requestTimeoutMs };
}
