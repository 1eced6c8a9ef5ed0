// Tells from a failed version.sh's output that GitHub's API refused it for its rate limit, so
// that its error names the cause and the fix instead of an unexplained "exit code 22".
// Without a token GitHub allows 60 API requests an hour per address: users behind one shared
// address reach it soon.
//
// The signs:
// - GitHub's own words, when the script shows the answer's body: "API rate limit exceeded"
//   (also "secondary rate limit");
// - its header, when the script shows the headers: `x-ratelimit-remaining: 0`;
// - HTTP 403 or 429 from api.github.com: `curl -f` prints only "The requested URL returned
//   error: 403", so the script (or its output) must name api.github.com.

/** Whether the attempt ran with a GitHub token in its environment. */
export type TokenState =
  /** GITHUB_TOKEN or GH_TOKEN was in the script's environment */
  | "sent"
  /** the host has one, switched off for the image attempt (--no-github-token) */
  | "withheld"
  /** none */
  | "none";

const GITHUB_WORDS = /\bAPI rate limit exceeded\b|\bsecondary rate limit\b/i;
const EXHAUSTED_HEADER = /^x-ratelimit-remaining:\s*0\s*$/im;
const GITHUB_API = /\bapi\.github\.com\b/i;
/** curl -f, curl -i/-D, wget, Python's urllib, gh: an answer of 403 or 429. */
const FORBIDDEN_OR_TOO_MANY =
  /returned error:\s*(?:403|429)\b|^HTTP\/[\d.]+ (?:403|429)\b|\bERROR (?:403|429)\b|\bHTTP Error (?:403|429)\b|\bHTTP (?:403|429)\b|\bstatus(?: code)?:? (?:403|429)\b/im;

/** The first words of every rate-limit error: the table's short cause keys on them. */
export const RATE_LIMIT_WORDS = "GitHub API rate limit reached";

/**
 * Whether a failed script's output shows GitHub's rate limit. `scriptNamesGitHubApi`: the
 * script's text names api.github.com (its output need not: `curl -fsS URL` names no host).
 */
export function showsRateLimit(output: string, scriptNamesGitHubApi: boolean): boolean {
  if (GITHUB_WORDS.test(output) || EXHAUSTED_HEADER.test(output)) return true;
  return FORBIDDEN_OR_TOO_MANY.test(output) && (scriptNamesGitHubApi || GITHUB_API.test(output));
}

/** The cause and its fix, for the token the attempt had. */
export function rateLimitHint(token: TokenState): string {
  if (token === "sent") return `${RATE_LIMIT_WORDS} even with a token: wait for its reset`;
  if (token === "withheld") return `${RATE_LIMIT_WORDS}: forward the host's token (drop --no-github-token)`;
  return `${RATE_LIMIT_WORDS}: set GITHUB_TOKEN`;
}
