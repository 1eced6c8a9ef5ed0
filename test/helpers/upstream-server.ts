// A loopback stand-in for the upstream services real version.sh scripts ask: the npm
// registry, a PyPI simple index, GitHub's releases API (also as it answers a client without a
// token once its address is over the rate limit), a vendor installer with a per-platform
// manifest, and a plain "latest" file. Version checks in the image reach it with --network host.
export interface Upstream {
  url: string;
  /** every request seen: path and the Authorization header, if any */
  requests: Array<{ path: string; authorization: string | null }>;
  stop(): void;
}

export const UPSTREAM_VERSIONS = {
  npm: "1.7.3",
  pip: "0.10.1",
  github: "0.31.2",
  installer: "2.4.1",
  plain: "0.0.1718",
};

export function startUpstream(): Upstream {
  const requests: Upstream["requests"] = [];
  const v = UPSTREAM_VERSIONS;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    // An engine whose "host" network is a namespace of its own (podman4) forwards one fixed
    // loopback port into it; elsewhere any free port.
    port: Number(process.env.AICAGE_TEST_UPSTREAM_PORT || 0),
    fetch(request) {
      const path = new URL(request.url).pathname;
      requests.push({ path, authorization: request.headers.get("authorization") });
      if (path === "/npm/@fixture%2fnpm-agent" || path === "/npm/@fixture/npm-agent") {
        const versions = Object.fromEntries(
          ["1.6.0", v.npm].map((ver) => [ver, { name: "@fixture/npm-agent", version: ver }]),
        );
        return Response.json({ name: "@fixture/npm-agent", "dist-tags": { latest: v.npm }, versions });
      }
      if (path === "/pypi/simple/fixture-agent/") {
        const files = ["0.9.0", v.pip].map((ver) => `fixture_agent-${ver}-py3-none-any.whl`);
        const links = files.map((f) => `<a href="/files/${f}">${f}</a>`).join("\n");
        return new Response(`<!DOCTYPE html><html><body>\n${links}\n</body></html>`, {
          headers: { "content-type": "text/html" },
        });
      }
      if (path === "/github/repos/fixture/agent/releases/latest") {
        return Response.json({ tag_name: `v${v.github}`, name: `v${v.github}`, draft: false, prerelease: false });
      }
      // GitHub's API for an address over its limit: a request without a token gets what GitHub
      // answers then (403, its rate-limit headers, its message); one with a token gets the release.
      if (path === "/github-limited/repos/fixture/agent/releases/latest") {
        if (request.headers.get("authorization")?.startsWith("Bearer ")) {
          return Response.json(
            { tag_name: `v${v.github}`, name: `v${v.github}` },
            { headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999" } },
          );
        }
        return Response.json(
          {
            message:
              "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
            documentation_url: "https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting",
          },
          {
            status: 403,
            headers: {
              "x-ratelimit-limit": "60",
              "x-ratelimit-remaining": "0",
              "x-ratelimit-used": "60",
              "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600),
              "x-ratelimit-resource": "core",
            },
          },
        );
      }
      if (path === "/installer/install.sh") {
        return new Response(
          `#!/bin/sh\nset -e\nVER="${v.installer}"\nBASE_URL="https://downloads.example/agent"\necho installing\n`,
        );
      }
      if (path.startsWith(`/installer/${v.installer}/manifest-`)) {
        return Response.json({ version: v.installer, platform: path.split("manifest-")[1]!.replace(".json", "") });
      }
      if (path === "/plain/latest.txt") return new Response(`${v.plain}\n`);
      return new Response("not found\n", { status: 404 });
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, stop: () => server.stop(true) };
}
