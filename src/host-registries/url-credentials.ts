// Credentials that ride inside the values of registry, index and proxy settings, in every form
// npm or pip would send:
// - a user or password before the host, with a scheme (`https://u:token@mirror/simple/`) or
//   without one (`bob:secret@proxy:3128`: pip and urllib3 take a proxy without a scheme, and an
//   `@` before the first `/` is a user however the rest is read);
// - a query string (`https://mirror/simple/?token=…`): some mirrors take their token there, and
//   which parameter is a token only the mirror knows, so any query counts.
// Such a value counts as a credential as a whole: it is forwarded only when asked, never cut
// down (a URL without its token would fail later, with no hint why).

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/** True when the value carries a user, a password or a query string. */
export function urlHasCredentials(value: string): boolean {
  const text = value.trim();
  const rest = text.replace(SCHEME, "");
  // The authority ends where WHATWG ends it for http(s): at / ? # or a backslash.
  const authority = /^[^/?#\\]*/.exec(rest)![0];
  if (authority.includes("@")) return true;
  if (/\?./.test(rest.slice(authority.length).split("#", 1)[0]!)) return true;
  try {
    const parsed = new URL(text);
    return parsed.username !== "" || parsed.password !== "" || parsed.search !== "";
  } catch {
    return false;
  }
}

/** True when any of the values (an npm `key[]` array, a pip list) carries a credential. */
export function anyHasCredentials(values: readonly string[]): boolean {
  return values.some(urlHasCredentials);
}

/** A `file:` URL or a bare path names something on the host, which the container does not have. */
export function isHostPath(location: string): boolean {
  return /^(file:|\/|~|\.)/i.test(location.trim());
}
