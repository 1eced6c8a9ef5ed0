// Which agents to check: paths given by the user (a version.sh, or a folder holding
// one) and every agent folder under --agents DIR. Bad paths are collected and reported
// together, before anything runs. A script must be a regular file: a FIFO would hang the
// run, a device never end. When the folders are to be copied into the check container,
// what is inside them is checked too (agent-folder.ts).
import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import { fileKindName, isReadable } from "../lib/regular-file.ts";
import { neutralise } from "../lib/safe-text.ts";
import { type AgentFolder, scanAgentFolder } from "./agent-folder.ts";
import { naturalSort } from "../lib/natural-sort.ts";

const SCRIPT_NAME = "version.sh";

export interface AgentScript {
  /** the agent's name: its folder's name, safe to print */
  agent: string;
  /** absolute path of the script */
  script: string;
  /** absolute path of the folder copied into the container */
  dir: string;
  /** what of the folder is copied; set when the check may run in the image */
  folder?: AgentFolder;
}

export interface CollectOptions {
  /** scan each agent folder for the copy into the check container */
  copies?: boolean;
  cwd?: string;
}

export function collectAgents(paths: string[], agentsDirs: string[], options: CollectOptions = {}): AgentScript[] {
  const cwd = options.cwd ?? process.cwd();
  const agents: AgentScript[] = [];
  const problems: string[] = [];
  const shown = (path: string) => neutralise(path);

  for (const given of paths) {
    const path = resolve(cwd, given);
    const kind = fileKind(path);
    if (kind === "missing") problems.push(`${shown(given)}: no such file or folder`);
    else if (kind === "file") agents.push(agentOf(path));
    else if (kind !== "dir") problems.push(`${shown(given)}: ${kind}, not a script or a folder`);
    else {
      const scriptKind = fileKind(join(path, SCRIPT_NAME));
      if (scriptKind === "file") agents.push(agentOf(join(path, SCRIPT_NAME)));
      else if (scriptKind === "missing") problems.push(`${shown(given)}: folder has no ${SCRIPT_NAME}`);
      else problems.push(`${shown(join(given, SCRIPT_NAME))}: ${scriptKind}, not a regular file`);
    }
  }

  for (const given of agentsDirs) {
    const dir = resolve(cwd, given);
    if (fileKind(dir) !== "dir") {
      problems.push(`--agents ${shown(given)}: not a folder`);
      continue;
    }
    let found = 0;
    const before = problems.length;
    for (const name of naturalSort(readdirSync(dir))) {
      if (fileKind(join(dir, name)) !== "dir") continue;
      const script = join(dir, name, SCRIPT_NAME);
      const kind = fileKind(script);
      if (kind === "missing") continue;
      if (kind === "file") {
        agents.push(agentOf(script));
        found++;
      } else problems.push(`${shown(script)}: ${kind}, not a regular file`);
    }
    if (found === 0 && problems.length === before)
      problems.push(`--agents ${shown(given)}: no subfolder holds a ${SCRIPT_NAME}`);
  }

  for (const agent of agents) {
    if (!isReadable(agent.script)) problems.push(`${shown(agent.script)}: not readable (check its permissions)`);
    else if (options.copies) {
      agent.folder = scanAgentFolder(agent.dir, basename(agent.script));
      problems.push(...agent.folder.problems);
    }
  }
  if (problems.length > 0)
    throw new UsageError(`bad agent path${problems.length > 1 ? "s" : ""}: ${problems.join("; ")}`);
  if (agents.length === 0) throw new UsageError("name at least one version.sh, agent folder, or --agents DIR");
  return agents;
}

function agentOf(script: string): AgentScript {
  const dir = dirname(script);
  return { agent: neutralise(basename(dir)), script, dir };
}

/** "file" for a regular file (through symlinks), "dir", "missing", or what else it is, in words. */
function fileKind(path: string): string {
  if (!existsSync(path)) return "missing";
  const stats = statSync(path);
  if (stats.isFile()) return "file";
  if (stats.isDirectory()) return "dir";
  return fileKindName(stats);
}
