// Temporary folders of the tests: made 0755 (a container's non-root user must read them) and
// all removed after the last test file (test/helpers/setup.ts, preloaded by bunfig.toml).
// `bun test` fires no process "exit" event, so a cleanup hung there never ran: TLS private
// keys stayed in /tmp.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made: string[] = [];

/** A temporary folder removed after the tests; 0755 so a container user can read it. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  made.push(dir);
  return dir;
}

/** The folders tempDir() made that still wait for their removal. */
export function pendingTempDirs(): readonly string[] {
  return made;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
