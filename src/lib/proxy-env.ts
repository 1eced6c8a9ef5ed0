// The proxy variables of a process environment, as curl, npm, pip and Docker read them.
// Scripts and builds fetch from the network: these are passed on wherever they run.
const PROXY_VARIABLES = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "FTP_PROXY"] as const;

/** Every proxy variable that is set, in either case, under its own name. */
export function proxyVariables(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const found: Record<string, string> = {};
  for (const upper of PROXY_VARIABLES) {
    for (const name of [upper, upper.toLowerCase()]) {
      const value = env[name];
      if (value) found[name] = value;
    }
  }
  return found;
}
