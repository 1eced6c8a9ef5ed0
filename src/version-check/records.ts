// The last good version of each agent, one small JSON file per script in the state
// dir. Used as the offline fallback and, with --cache-ttl, to skip a fresh check.
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { readRegularFile } from "../lib/regular-file.ts";
import { join } from "node:path";
import { stateDir } from "../core/state-dir.ts";
import type { CheckPlace } from "./order.ts";
import { versionFromOutput } from "./script-output.ts";

export interface VersionRecord {
  agent: string;
  script: string;
  version: string;
  source: CheckPlace;
  checkedAt: string;
  /** sha256 of the script's bytes when it was checked */
  scriptSha256: string;
}

function recordsDir(env?: Record<string, string | undefined>): string {
  return join(stateDir(env), "version-checks");
}

/** One file per script path: two agents of the same name in different folders stay apart. */
function recordPath(script: string, agent: string): string {
  const id = createHash("sha256").update(script).digest("hex").slice(0, 16);
  const safe = agent.replace(/[^A-Za-z0-9._-]/g, "_");
  return join(recordsDir(), `${safe}-${id}.json`);
}

/** The largest record file read (docs/version-checks.md). */
const MAX_RECORD_BYTES = 64 * 1024;

export function readRecord(script: string, agent: string): VersionRecord | undefined {
  try {
    // A record is a few hundred bytes; a FIFO or a device put there is read as no record.
    const bytes = readRegularFile(recordPath(script, agent), MAX_RECORD_BYTES);
    const record = JSON.parse(new TextDecoder().decode(bytes)) as VersionRecord;
    if (typeof record.version !== "string") return undefined;
    // Records of older versions of this tool took any output: answer only what is a version now.
    const answer = versionFromOutput(record.version);
    return "version" in answer && answer.version === record.version ? record : undefined;
  } catch {
    return undefined; // none yet, or unreadable: as if none
  }
}

/** `scriptPath`: the script's real path, which names the record (`record.script` is as shown). */
export function writeRecord(record: VersionRecord, scriptPath = record.script): void {
  const path = recordPath(scriptPath, record.agent);
  mkdirSync(recordsDir(), { recursive: true });
  // Write then rename: concurrent checks never see half a file.
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(temp, path);
}

export function recordAgeSeconds(record: VersionRecord, now = Date.now()): number {
  return (now - Date.parse(record.checkedAt)) / 1000;
}
