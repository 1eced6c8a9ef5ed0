// Where the tool keeps its state: $XDG_STATE_HOME/aicage-util (default ~/.local/state),
// or AICAGE_UTIL_STATE_DIR when set (tests, and users who want it elsewhere).
import { homedir } from "node:os";
import { join } from "node:path";

export function stateDir(env: Record<string, string | undefined> = process.env): string {
  if (env.AICAGE_UTIL_STATE_DIR) return env.AICAGE_UTIL_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local", "state");
  return join(base, "aicage-util");
}
