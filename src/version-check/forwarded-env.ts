// Environment passed into the version-check container: proxy settings always (scripts
// call npm, pip and curl), plus names the user asks for (e.g. GITHUB_TOKEN). Values are
// read here and never printed.
import { UsageError } from "../cli/exit-codes.ts";

const PROXY_NAMES = ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY"];

export function forwardedEnv(extraNames: string[], env: Record<string, string | undefined> = process.env): string[] {
  for (const name of extraNames) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`--env takes a variable name (e.g. GITHUB_TOKEN), not '${name}'`);
    }
  }
  const names = [...PROXY_NAMES, ...PROXY_NAMES.map((n) => n.toLowerCase()), ...extraNames];
  const out: string[] = [];
  for (const name of new Set(names)) {
    const value = env[name];
    if (value !== undefined) out.push(`${name}=${value}`);
  }
  return out;
}
