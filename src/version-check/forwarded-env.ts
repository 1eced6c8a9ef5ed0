// What each version.sh in the check container gets of the host's environment: proxy settings
// (scripts call npm, pip and curl; one that carries a user, a password or a query only with
// --forward-registry-credentials, as npm and pip's own proxies), the GitHub tokens unless
// switched off (a GitHub API check without one gets 60 requests an hour per address), and the
// names the user asks for.
// Values are read here and never printed; they travel into the container as root-only files
// that the runner exports into each script's own environment (check-files.ts, runner.sh), so
// none of them is in the container's configuration (`docker inspect`).
import { UsageError } from "../core/errors.ts";
import { urlHasCredentials } from "../host-registries/url-credentials.ts";
import { proxyVariables } from "../lib/proxy-env.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variables GitHub's tools and aicage's scripts read a GitHub token from. */
export const GITHUB_TOKEN_NAMES = ["GITHUB_TOKEN", "GH_TOKEN"] as const;

/** A host variable a script gets: its name, and a value never shown. */
export interface ForwardedVariable {
  name: string;
  value: string;
}

export interface ForwardedEnv {
  variables: ForwardedVariable[];
  /** the GitHub token variables set on the host that the image attempt does not get (switched off) */
  githubTokensWithheld: string[];
  /** proxy variables whose value holds a credential, left out without --forward-registry-credentials */
  proxyCredentialsWithheld: string[];
}

/**
 * `extraNames`: the --env names. `githubTokens`: whether GITHUB_TOKEN and GH_TOKEN go along
 * by default (--no-github-token, AICAGE_UTIL_GITHUB_TOKEN=0 turn it off; --env still names them).
 * `proxyCredentials`: whether a proxy variable holding a credential goes along
 * (--forward-registry-credentials; --env still names it).
 */
export function forwardedEnv(
  extraNames: string[],
  options: { githubTokens?: boolean; proxyCredentials?: boolean; env?: Record<string, string | undefined> } = {},
): ForwardedEnv {
  const env = options.env ?? process.env;
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
  const out = new Map<string, string>();
  const proxiesWithheld: string[] = [];
  for (const [name, value] of Object.entries(proxyVariables(env))) {
    // NO_PROXY is a list of hosts; the others are URLs, with or without a scheme (curl takes `u:p@proxy:3128`).
    const credential = !/^no_proxy$/i.test(name) && urlHasCredentials(value);
    if (credential && !options.proxyCredentials && !extraNames.includes(name)) proxiesWithheld.push(name);
    else out.set(name, value);
  }
  const tokens = options.githubTokens !== false;
  const withheld: string[] = [];
  for (const name of GITHUB_TOKEN_NAMES) {
    const value = env[name];
    if (!value) continue;
    if (tokens) out.set(name, value);
    else if (!extraNames.includes(name)) withheld.push(name);
  }
  for (const name of extraNames) {
    const value = env[name];
    if (value !== undefined) out.set(name, value);
  }
  return {
    variables: [...out].map(([name, value]) => ({ name, value })),
    githubTokensWithheld: withheld,
    proxyCredentialsWithheld: proxiesWithheld,
  };
}

/** Whether this set of variables holds a GitHub token. */
export function holdsGitHubToken(variables: Array<{ name: string }>): boolean {
  return variables.some((v) => (GITHUB_TOKEN_NAMES as readonly string[]).includes(v.name));
}
