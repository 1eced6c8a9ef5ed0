// The test engines must leave the host's network as they found it; `engine.sh check-network`
// (scripts/engines/lib.sh, check_host_network) is what says so after every engine in CI. Each
// case here changes the network of a namespace of its own (unshare --net: the host's is never
// touched) the way an engine could, and runs the check inside it: a check that missed one of
// these would let an engine change this machine unnoticed.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { REPO_ROOT } from "../helpers/engine.ts";

const ENGINE_SCRIPT = join(REPO_ROOT, "scripts/engines/engine.sh");

/** Runs `setup` (a fixed shell line of this file) in a new network namespace, then the check there. */
async function checkAfter(setup: string): Promise<{ code: number; line: string }> {
  const proc = Bun.spawn(
    ["unshare", "--net", "bash", "-euc", `${setup}\nexec bash "$0" check-network`, ENGINE_SCRIPT],
    {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  const timer = setTimeout(() => proc.kill("SIGKILL"), 60_000);
  const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const lines = stderr.trim().split("\n");
  return { code, line: lines[lines.length - 1] ?? "" };
}

describe("the host network check (engine.sh check-network)", () => {
  // The cases below call nft and iptables themselves, in a namespace with no network for apt:
  // the check's own install step runs once here first, on the host (a no-op once installed).
  beforeAll(async () => {
    const install = Bun.spawn(
      [
        "bash",
        "-c",
        'source "$0/lib.sh" && apt_install "${NETWORK_CHECK_PACKAGES[@]}"',
        join(REPO_ROOT, "scripts/engines"),
      ],
      {
        stdin: "ignore",
        stdout: "ignore",
        stderr: "inherit",
      },
    );
    expect(await install.exited).toBe(0);
  }, 300_000);

  test("a namespace as new passes", async () => {
    const { code, line } = await checkAfter("ip link set lo up");
    expect(line).toBe(
      "test-engine: host network unchanged: no forwarding, no nftables tables, no legacy iptables rules",
    );
    expect(code).toBe(0);
  });

  test("legacy iptables tables with only their empty defaults pass (listing loads the filter table)", async () => {
    const { code, line } = await checkAfter("iptables-legacy -L >/dev/null; ip6tables-legacy -L >/dev/null");
    expect(line).toContain("host network unchanged");
    expect(code).toBe(0);
  });

  const changes: [string, string, string][] = [
    ["IPv4 forwarding switched on", "echo 1 >/proc/sys/net/ipv4/ip_forward", "ip_forward=1"],
    ["IPv6 forwarding switched on", "echo 1 >/proc/sys/net/ipv6/conf/all/forwarding", "ipv6 forwarding=1"],
    ["an nftables table added with nft", "nft add table inet aicage_probe", "nftables table inet aicage_probe"],
    ["a rule added through iptables-nft", "iptables-nft -A INPUT -j ACCEPT", "nftables table ip filter"],
    [
      "a legacy iptables rule",
      "iptables-legacy -t nat -A POSTROUTING -j MASQUERADE",
      "legacy iptables rules: -A POSTROUTING -j MASQUERADE",
    ],
    [
      "a legacy ip6tables chain of its own",
      "ip6tables-legacy -N AICAGE-PROBE",
      "legacy ip6tables rules: :AICAGE-PROBE - [0:0]",
    ],
    [
      "a legacy default policy changed",
      "iptables-legacy -P FORWARD DROP",
      "legacy iptables rules: :FORWARD DROP [0:0]",
    ],
  ];
  for (const [what, setup, named] of changes) {
    test(`${what}: fails and names it`, async () => {
      const { code, line } = await checkAfter(setup);
      expect(line).toStartWith("test-engine: HOST NETWORK CHANGED: ");
      expect(line).toContain(named);
      expect(code).toBe(1);
    });
  }

  test("several changes are named in one line", async () => {
    const { code, line } = await checkAfter("echo 1 >/proc/sys/net/ipv4/ip_forward; nft add table ip aicage_probe");
    expect(line).toBe("test-engine: HOST NETWORK CHANGED: ip_forward=1; nftables table ip aicage_probe");
    expect(code).toBe(1);
  });
});
