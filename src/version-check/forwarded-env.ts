// Environment passed into the version-check container: proxy settings always (scripts
// call npm, pip and curl), plus names the user asks for (e.g. GITHUB_TOKEN). Values are
// read here and never printed.
import { UsageError } from "../core/errors.ts";
import { proxyVariables } from "../lib/proxy-env.ts";

export function forwardedEnv(extraNames: string[], env: Record<string, string | undefined> = process.env): string[] {
  for (const name of extraNames) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(`--env takes a variable name (e.g. GITHUB_TOKEN), not '${name}'`);
    }
  }
  const out = new Map(Object.entries(proxyVariables(env)));
  for (const name of extraNames) {
    const value = env[name];
    if (value !== undefined) out.set(name, value);
  }
  return [...out].map(([name, value]) => `${name}=${value}`);
}
