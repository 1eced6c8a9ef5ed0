// Which agents to check: paths given by the user (a version.sh, or a folder holding
// one) and every agent folder under --agents DIR. Bad paths are collected and reported
// together, before anything runs.
import { accessSync, constants, existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import { naturalSort } from "../lib/natural-sort.ts";

const SCRIPT_NAME = "version.sh";

export interface AgentScript {
  /** the agent's name: its folder's name */
  agent: string;
  /** absolute path of the script */
  script: string;
  /** absolute path of the folder mounted into the container */
  dir: string;
}

export function collectAgents(paths: string[], agentsDirs: string[], cwd = process.cwd()): AgentScript[] {
  const agents: AgentScript[] = [];
  const problems: string[] = [];

  for (const given of paths) {
    const path = resolve(cwd, given);
    const kind = fileKind(path);
    if (kind === "missing") problems.push(`${given}: no such file or folder`);
    else if (kind === "file") agents.push(agentOf(path));
    else if (fileKind(join(path, SCRIPT_NAME)) === "file") agents.push(agentOf(join(path, SCRIPT_NAME)));
    else problems.push(`${given}: folder has no ${SCRIPT_NAME}`);
  }

  for (const given of agentsDirs) {
    const dir = resolve(cwd, given);
    if (fileKind(dir) !== "dir") {
      problems.push(`--agents ${given}: not a folder`);
      continue;
    }
    const found = naturalSort(readdirSync(dir))
      .map((name) => join(dir, name, SCRIPT_NAME))
      .filter((script) => fileKind(script) === "file");
    if (found.length === 0) problems.push(`--agents ${given}: no subfolder holds a ${SCRIPT_NAME}`);
    agents.push(...found.map(agentOf));
  }

  for (const { script } of agents) {
    if (!readable(script)) problems.push(`${script}: not readable (check its permissions)`);
  }
  if (problems.length > 0) throw new UsageError(`bad agent path${problems.length > 1 ? "s" : ""}: ${problems.join("; ")}`);
  if (agents.length === 0) throw new UsageError("name at least one version.sh, agent folder, or --agents DIR");
  return agents;
}

function agentOf(script: string): AgentScript {
  const dir = dirname(script);
  return { agent: basename(dir), script, dir };
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function fileKind(path: string): "file" | "dir" | "missing" {
  if (!existsSync(path)) return "missing";
  return statSync(path).isDirectory() ? "dir" : "file";
}
