// SHA256SUMS as scripts/install.sh reads it: lines "<hex>  <name>" or "<hex> *<name>" (as
// sha256sum -b writes them); the first line naming the asset counts; the digest must be 64
// hex digits. Anything else is refused, never guessed at.
export type ExpectedDigest = { ok: true; sha256: string } | { ok: false; problem: "missing" | "malformed" };

export function expectedSha256(sums: string, asset: string): ExpectedDigest {
  for (const line of sums.split("\n")) {
    const [digest, name] = line.trim().split(/\s+/);
    if (name !== asset && name !== `*${asset}`) continue;
    const hex = (digest ?? "").toLowerCase();
    return /^[0-9a-f]{64}$/.test(hex) ? { ok: true, sha256: hex } : { ok: false, problem: "malformed" };
  }
  return { ok: false, problem: "missing" };
}
