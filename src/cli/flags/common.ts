// Flags every engine-using command shares.
import type { ArgsDef } from "citty";
import type { EngineChoice } from "../../engine/open-engine.ts";

export const engineArgs = {
  host: {
    type: "string",
    description: "Docker endpoint, unix:///path, tcp://host:port or ssh://[user@]host[:port] (default: DOCKER_HOST, docker context, usual sockets)",
    valueHint: "URL",
  },
} as const satisfies ArgsDef;

export const jsonArg = {
  json: { type: "boolean", description: "Print one JSON object on stdout instead of text" },
} as const satisfies ArgsDef;

/** The engine the flags name: --host, else whatever the environment says. */
export function engineChoice(args: { host?: string }): EngineChoice {
  return { host: args.host || undefined, hostSource: "--host" };
}
