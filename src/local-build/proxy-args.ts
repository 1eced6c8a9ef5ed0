// The host's proxy settings, passed on to builds as build arguments the way aicage and the
// docker CLI do. Docker predefines these ARGs, so a Dockerfile sees them in RUN steps without
// declaring them, and they stay out of the image history.
const PROXY_NAMES = ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "FTP_PROXY"];

/** Every proxy variable set on the host, in either case, under its own name. */
export function proxyBuildArgs(env: Record<string, string | undefined> = process.env): Record<string, string> {
  const args: Record<string, string> = {};
  for (const upper of PROXY_NAMES) {
    for (const name of [upper, upper.toLowerCase()]) {
      const value = env[name];
      if (value) args[name] = value;
    }
  }
  return args;
}
