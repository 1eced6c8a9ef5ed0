// Tells from a failed version.sh's stderr why it could not reach a registry, in a few
// words, so that a result answered by the host says why the image did not answer. The
// patterns are the messages of npm, pip (urllib3), curl and git, as recorded in the
// version-check image (test/fixtures/recorded/network-failures/).
//
// A script killed by the timeout often printed nothing: npm retries a failing registry
// for about 70 s (two retries, 10 s and 60 s back-off) and says nothing until it gives up.
// pip prints a "Retrying … after connection broken by …" line per attempt, so a pip
// timeout can still be explained.

export type NetworkFailureKind =
  | "authentication"
  | "tls-unknown-ca"
  | "tls"
  | "name-resolution"
  | "connect-refused"
  | "connect"
  | "timeout";

const PATTERNS: Array<[NetworkFailureKind, RegExp]> = [
  // npm E401; pip asking for a user name with no terminal (EOFError) or --no-input's 401; curl -f
  [
    "authentication",
    /\bcode E401\b|Incorrect or missing password|\b401 Client Error\b|_prompt_for_password|User for [^\s:]+:|HTTP error 401|returned error: 401\b/,
  ],
  // the issuer is missing from the trust store: the usual TLS-inspecting proxy or private CA
  [
    "tls-unknown-ca",
    /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|unable to get local issuer certificate|self[- ]signed certificate|certificate signer not trusted/i,
  ],
  [
    "tls",
    /CERTIFICATE_VERIFY_FAILED|SSLCertVerificationError|\bcurl: \(60\)|SSL certificate problem|server certificate verification failed|ERR_TLS_CERT_ALTNAME_INVALID|CERT_HAS_EXPIRED/,
  ],
  [
    "name-resolution",
    /\bENOTFOUND\b|\bEAI_AGAIN\b|Name or service not known|Temporary failure in name resolution|NameResolutionError|nodename nor servname|Could not resolve host/,
  ],
  ["connect-refused", /\bECONNREFUSED\b|Connection refused/],
  [
    "connect",
    /\bcurl: \(7\)|Failed to connect to|Network is unreachable|No route to host|\bENETUNREACH\b|\bEHOSTUNREACH\b/,
  ],
  [
    "timeout",
    /\bcurl: \(28\)|\bETIMEDOUT\b|\bESOCKETTIMEDOUT\b|network timeout at|Read timed out|ConnectTimeoutError|Connection timed out/,
  ],
];

const WORDS: Record<NetworkFailureKind, string> = {
  authentication: "the registry asked for credentials (HTTP 401)",
  "tls-unknown-ca": "TLS verification failed: unknown CA",
  tls: "TLS verification failed",
  "name-resolution": "name resolution failed",
  "connect-refused": "connection refused",
  connect: "could not connect",
  timeout: "the connection timed out",
};

/** The first kind of network failure stderr shows, most telling first; null when none. */
export function networkFailureKind(stderr: string): NetworkFailureKind | null {
  for (const [kind, pattern] of PATTERNS) if (pattern.test(stderr)) return kind;
  return null;
}

/**
 * A few words on why a script could not reach a registry, or null when its stderr shows
 * no network failure. `timedOut`: the script was killed by the time limit, which then
 * is what the words lead with when stderr shows retries of a failing registry.
 */
export function networkFailureHint(stderr: string, timedOut: boolean): string | null {
  const kind = networkFailureKind(stderr);
  if (!kind) return null;
  if (timedOut && /\bRetrying\b|\bretry\b/i.test(stderr)) return `timed out while retrying a registry: ${WORDS[kind]}`;
  return WORDS[kind];
}
