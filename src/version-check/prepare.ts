// What a version check needs before its first attempt, decided from the places it may run:
// the agents (their folders scanned for the copy when the image is tried), the engine (opened
// only for the image, and required to answer when there is no host to fall back to), and
// what the image attempt gets of the host's registry set-up.
import type { DockerClient } from "../docker/client.ts";
import { type EngineChoice, openEngine, requireEngine } from "../workloads/open-engine.ts";
import { type AgentScript, collectAgents } from "./agents.ts";
import type { CheckPlace } from "./order.ts";
import { type RegistryForward, registryForward } from "./registry-forward.ts";

export interface CheckInputs {
  order: CheckPlace[];
  /** version.sh files or agent folders, as given */
  paths: string[];
  /** folders whose every subfolder with a version.sh is an agent (--agents) */
  agentsDirs: string[];
  /** the engine the user chose; asked for only when the image is tried */
  engine: () => EngineChoice;
  /** whether the host's registry set-up goes into the check container, credentials too */
  registries: { forward: boolean; credentials: boolean };
}

export interface PreparedCheck {
  agents: AgentScript[];
  /** undefined when only the host is tried */
  client?: DockerClient;
  /** undefined when nothing is forwarded */
  registry?: RegistryForward;
}

/**
 * Gathers what the check runs with. Throws a UsageError for bad paths; with no host to fall
 * back to, the engine's error (unreachable, hung): nothing of the check runs before it answers.
 */
export async function prepareCheck(inputs: CheckInputs): Promise<PreparedCheck> {
  const image = inputs.order.includes("image");
  // Folders go into the check container as copies: what is in them is checked first.
  const agents = collectAgents(inputs.paths, inputs.agentsDirs, { copies: image });
  const client = image ? openEngine(inputs.engine()) : undefined;
  // The engine is asked while the host's registry set-up is read.
  const engineReady = client && !inputs.order.includes("host") ? requireEngine(client) : undefined;
  engineReady?.catch(() => undefined);
  const { forward, credentials } = inputs.registries;
  const registry =
    client && forward ? registryForward({ env: process.env, forwardCredentials: credentials }) : undefined;
  await engineReady;
  return { agents, client, registry };
}
