// Release versions: "v1.2.3" and "1.2.3" name the same release; order as semver says
// (a pre-release comes before its release, build metadata does not count).
const VERSION = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** "v1.2.3" → "1.2.3"; undefined for anything that is not a version. */
export function parseVersion(text: string): string | undefined {
  const version = text.trim().replace(/^v(?=\d)/, "");
  return VERSION.test(version) ? version : undefined;
}

/** The tag a release carries on GitHub. */
export const releaseTag = (version: string) => `v${version}`;

/** Negative when a is older than b, 0 when the same release, positive when newer. */
export function compareVersions(a: string, b: string): number {
  const [, a1, a2, a3, aPre] = VERSION.exec(a) ?? [];
  const [, b1, b2, b3, bPre] = VERSION.exec(b) ?? [];
  for (const [x, y] of [
    [a1, b1],
    [a2, b2],
    [a3, b3],
  ] as const) {
    const diff = Number(x) - Number(y);
    if (diff) return Math.sign(diff);
  }
  if (aPre === bPre) return 0;
  if (aPre === undefined) return 1;
  if (bPre === undefined) return -1;
  const left = aPre.split(".");
  const right = bPre.split(".");
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn) return Math.sign(Number(x) - Number(y));
    if (xn !== yn) return xn ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}
