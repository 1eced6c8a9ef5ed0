// Environment passed into the version-check container: proxy settings always (scripts
// call npm, pip and curl), plus names the user asks for (e.g. GITHUB_TOKEN). Values are
// read here and never printed.
import { UsageError } from "../core/errors.ts";
import { proxyVariables } from "../lib/proxy-env.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function forwardedEnv(extraNames: string[], env: Record<string, string | undefined> = process.env): string[] {
  for (const [i, given] of extraNames.entries()) {
    if (NAME.test(given)) continue;
    // What was given may be a secret (the docker habit --env NAME=value): never echo it.
    const name = given.slice(0, given.indexOf("="));
    if (given.includes("=") && NAME.test(name)) {
      throw new UsageError(
        `--env takes a variable name, not NAME=value: set ${name} in the environment and pass --env ${name}`,
      );
    }
    throw new UsageError(
      `--env takes a variable name (letters, digits and _, e.g. GITHUB_TOKEN); value ${i + 1} of --env is not one`,
    );
  }
  const out = new Map(Object.entries(proxyVariables(env)));
  for (const name of extraNames) {
    const value = env[name];
    if (value !== undefined) out.set(name, value);
  }
  return [...out].map(([name, value]) => `${name}=${value}`);
}
