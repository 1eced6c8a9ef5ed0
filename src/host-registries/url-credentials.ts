// Credentials that ride inside URLs (https://user:token@mirror/simple/): pip index URLs,
// npm registries, proxies. Such a URL counts as a credential as a whole.

/** True when the URL carries a user name or password before its host. */
export function urlHasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== "" || parsed.password !== "";
  } catch {
    // Not a URL the WHATWG parser takes: look for userinfo by hand, erring on the safe side.
    return /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(url.trim());
  }
}

/** A `file:` URL or a bare path names something on the host, which the container does not have. */
export function isHostPath(location: string): boolean {
  return /^(file:|\/|~|\.)/i.test(location.trim());
}
