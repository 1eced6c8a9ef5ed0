// A registry mirror on loopback, the way a company runs one: HTTPS with a certificate from
// its own CA (made here with openssl), serving npm package documents under /npm/ and a
// PyPI simple index under /pypi/simple/, a release API (JSON, for curl + jq) under /api/ and
// a git repository (dumb HTTP, for git ls-remote) under /git/, optionally demanding a token.
// npm and pip, on the host or in a container on the host network, are pointed at it by their
// config.
// The CA's and server's private keys live only in a temporary folder that is removed as
// soon as the server holds them; the CA certificate (public) stays in `caFile` until stop().
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, chmodSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tarOfFiles } from "../../src/lib/memory-tar.ts";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LoopbackRegistryOptions {
  /** npm packages and their versions, oldest first (the last is `latest`) */
  npm?: Record<string, string[]>;
  /** pip projects and their versions, oldest first */
  pip?: Record<string, string[]>;
  /** when set, every request must carry `Authorization: Bearer <token>` or the basic pair */
  auth?: { bearer?: string; basic?: { username: string; password: string } };
  /** the port to listen on; 0 (default) takes a free one */
  port?: number;
}

export interface LoopbackRequest {
  method: string;
  path: string;
  accept: string | null;
  /** the scheme of the Authorization header ("bearer", "basic", …), never its value */
  authScheme: string | null;
  authorized: boolean;
}

export interface LoopbackRegistry {
  /**
   * https://localhost:PORT. A host name, not the IP: pip 25 (truststore) cannot check an
   * https URL whose host is an IP address; the server listens on 127.0.0.1 only.
   */
  origin: string;
  /** https://127.0.0.1:PORT */
  ipOrigin: string;
  /** registry URL for npm (ends in /) */
  npmUrl: string;
  /** simple index URL for pip (ends in /) */
  pipUrl: string;
  port: number;
  /** PEM of the CA that signed the server certificate */
  caPem: string;
  /** a world-readable file holding caPem */
  caFile: string;
  requests: LoopbackRequest[];
  stop(): void;
}

export const LOOPBACK_PACKAGES = {
  npm: { "@mirror/agent": ["1.0.0", "1.4.2"], "plain-agent": ["0.9.0", "0.9.7"] },
  pip: { "mirror-agent": ["0.1.0", "0.3.5"] },
  /** GET /api/latest answers {"tag_name": "v<this>"} */
  release: "2.3.4",
  /** tags of the git repository at /git/agent.git */
  gitTags: ["v1.0.0", "v1.10.0", "v1.9.1"],
};

function openssl(dir: string, args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr.toString()}`);
}

/**
 * A CA and a server certificate for 127.0.0.1 and localhost. The extensions are the ones
 * Python 3.13's strict verification (VERIFY_X509_STRICT) insists on: a critical CA
 * basicConstraints with keyCertSign, and key identifiers on both certificates.
 */
function makeServerCertificate(): { caPem: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "aicage-registry-ca-"));
  try {
    writeFileSync(
      join(dir, "ca.ext"),
      "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
    );
    writeFileSync(
      join(dir, "server.ext"),
      "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n" +
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    );
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(dir, ["req", ...ec, "-keyout", "ca-key.pem", "-out", "ca.csr", "-subj", "/CN=aicage loopback registry CA"]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      "ca.csr",
      "-key",
      "ca-key.pem",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-extfile",
      "ca.ext",
    ]);
    openssl(dir, ["req", ...ec, "-keyout", "server-key.pem", "-out", "server.csr", "-subj", "/CN=127.0.0.1"]);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      "server.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-out",
      "server.pem",
      "-days",
      "2",
      "-extfile",
      "server.ext",
    ]);
    const read = (name: string) => readFileSync(join(dir, name), "utf8");
    return { caPem: read("ca.pem"), cert: read("server.pem"), key: read("server-key.pem") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A real npm package: package/package.json and a command of the package's name that prints
 * "<name> <version>", gzipped as npm publishes it. `npm install -g` installs and links it.
 */
async function npmTarball(name: string, version: string): Promise<Uint8Array> {
  const command = name.replace(/^@[^/]+\//, "");
  const manifest = { name, version, bin: { [command]: "cli.js" } };
  const tar = await tarOfFiles({
    "package/package.json": JSON.stringify(manifest),
    "package/cli.js": {
      content: `#!/usr/bin/env node\nconsole.log(${JSON.stringify(`${name} ${version}`)});\n`,
      mode: 0o755,
    },
  });
  return gzipSync(tar);
}

/** Each tarball made once, with the digests npm checks it against. */
const tarballs = new Map<string, Promise<{ bytes: Uint8Array; shasum: string; integrity: string }>>();
function tarballOf(name: string, version: string) {
  const key = `${name}@${version}`;
  let made = tarballs.get(key);
  if (!made) {
    made = npmTarball(name, version).then((bytes) => ({
      bytes,
      shasum: createHash("sha1").update(bytes).digest("hex"),
      integrity: `sha512-${createHash("sha512").update(bytes).digest("base64")}`,
    }));
    tarballs.set(key, made);
  }
  return made;
}

async function npmDocument(name: string, versions: string[], origin: string) {
  const latest = versions[versions.length - 1]!;
  const file = name.replace(/^@[^/]+\//, "");
  const entries = await Promise.all(
    versions.map(async (version) => {
      const { shasum, integrity } = await tarballOf(name, version);
      const tarball = `${origin}/npm/${name}/-/${file}-${version}.tgz`;
      return [version, { name, version, bin: { [file]: "cli.js" }, dist: { tarball, shasum, integrity } }] as const;
    }),
  );
  return {
    _id: name,
    name,
    "dist-tags": { latest },
    versions: Object.fromEntries(entries),
    time: Object.fromEntries(versions.map((version, n) => [version, new Date(Date.UTC(2026, 0, n + 1)).toISOString()])),
  };
}

/**
 * Real wheels of the pip projects (a module and its dist-info), made by Python's zipfile:
 * `pip download` and `pip install` take them. File name to bytes.
 */
function makeWheels(pip: Record<string, string[]>): Map<string, Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), "aicage-registry-wheels-"));
  try {
    const wanted = Object.entries(pip).flatMap(([name, versions]) => versions.map((version) => [name, version]));
    const script = [
      "import json, sys, zipfile",
      "for name, version in json.loads(sys.argv[2]):",
      "    stem = name.lower().replace('-', '_').replace('.', '_')",
      "    info = f'{stem}-{version}.dist-info'",
      "    with zipfile.ZipFile(f'{sys.argv[1]}/{stem}-{version}-py3-none-any.whl', 'w') as wheel:",
      "        wheel.writestr(f'{stem}/__init__.py', f'VERSION = {version!r}\\n')",
      "        wheel.writestr(f'{info}/METADATA', f'Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n')",
      "        wheel.writestr(f'{info}/WHEEL', 'Wheel-Version: 1.0\\nGenerator: aicage-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')",
      "        wheel.writestr(f'{info}/RECORD', f'{stem}/__init__.py,,\\n{info}/METADATA,,\\n{info}/WHEEL,,\\n{info}/RECORD,,\\n')",
    ].join("\n");
    const run = Bun.spawnSync(["python3", "-c", script, dir, JSON.stringify(wanted)], {
      stdout: "ignore",
      stderr: "pipe",
    });
    if (run.exitCode !== 0) throw new Error(`making the test wheels failed: ${run.stderr.toString()}`);
    const wheels = new Map<string, Uint8Array>();
    for (const [name, version] of wanted) {
      const file = `${normalise(name!).replace(/-/g, "_")}-${version}-py3-none-any.whl`;
      wheels.set(file, new Uint8Array(readFileSync(join(dir, file))));
    }
    return wheels;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** PEP 503 normalisation: the index answers to any spelling of a project name. */
const normalise = (name: string) => name.toLowerCase().replace(/[-_.]+/g, "-");

function pipFiles(name: string, versions: string[]) {
  const stem = normalise(name).replace(/-/g, "_");
  return versions.map((version) => ({
    filename: `${stem}-${version}-py3-none-any.whl`,
    url: `../../files/${stem}-${version}-py3-none-any.whl`,
  }));
}

/**
 * pip 22.2+ asks for PEP 691 JSON first (`application/vnd.pypi.simple.v1+json`) and takes
 * PEP 503 HTML otherwise: answer what the client prefers, so both old and new pips work.
 */
function pipIndexPage(name: string, versions: string[], accept: string): Response {
  const files = pipFiles(name, versions);
  if (accept.includes("application/vnd.pypi.simple.v1+json")) {
    return new Response(
      JSON.stringify({
        meta: { "api-version": "1.0" },
        name: normalise(name),
        files: files.map((f) => ({ ...f, hashes: {} })),
      }),
      { headers: { "content-type": "application/vnd.pypi.simple.v1+json" } },
    );
  }
  const links = files.map((f) => `<a href="${f.url}">${f.filename}</a><br/>`).join("\n");
  return new Response(`<!DOCTYPE html>\n<html><body>\n${links}\n</body></html>\n`, {
    headers: { "content-type": "application/vnd.pypi.simple.v1+html" },
  });
}

function authorised(header: string | null, auth: LoopbackRegistryOptions["auth"]): boolean {
  if (!auth) return true;
  if (!header) return false;
  if (auth.bearer && header === `Bearer ${auth.bearer}`) return true;
  if (auth.basic) {
    const expected = Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString("base64");
    if (header === `Basic ${expected}`) return true;
  }
  return false;
}

export function startLoopbackRegistry(options: LoopbackRegistryOptions = {}): LoopbackRegistry {
  const npm: Record<string, string[]> = options.npm ?? LOOPBACK_PACKAGES.npm;
  const pip: Record<string, string[]> = options.pip ?? LOOPBACK_PACKAGES.pip;
  const pipByName = new Map(Object.entries(pip).map(([name, versions]) => [normalise(name), { name, versions }]));
  const { caPem, cert, key } = makeServerCertificate();
  const wheels = makeWheels(pip);
  const requests: LoopbackRequest[] = [];
  let origin = "";

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: options.port ?? 0,
    tls: { cert, key },
    fetch(request) {
      const url = new URL(request.url);
      const header = request.headers.get("authorization");
      const ok = authorised(header, options.auth);
      requests.push({
        method: request.method,
        path: url.pathname,
        accept: request.headers.get("accept"),
        authScheme: header ? header.split(" ")[0]!.toLowerCase() : null,
        authorized: ok,
      });
      if (!ok) {
        return new Response(JSON.stringify({ error: "authentication required" }), {
          status: 401,
          headers: { "content-type": "application/json", "www-authenticate": 'Basic realm="loopback registry"' },
        });
      }
      if (url.pathname.startsWith("/npm/")) {
        // npm asks for scoped packages as /@scope%2fname; accept the unescaped form too.
        const rest = decodeURIComponent(url.pathname.slice("/npm/".length));
        const tarball = /^(.+)\/-\/[^/]+-(\d[^/]*)\.tgz$/.exec(rest);
        if (tarball && npm[tarball[1]!]?.includes(tarball[2]!)) {
          return tarballOf(tarball[1]!, tarball[2]!).then(
            ({ bytes }) => new Response(bytes, { headers: { "content-type": "application/octet-stream" } }),
          );
        }
        const versions = npm[rest];
        if (versions) return npmDocument(rest, versions, origin).then((doc) => Response.json(doc));
        return Response.json({ error: "Not found" }, { status: 404 });
      }
      if (url.pathname === "/api/latest") return Response.json({ tag_name: `v${LOOPBACK_PACKAGES.release}` });
      // git's dumb HTTP protocol: a plain-text info/refs (no smart content type) and HEAD.
      if (url.pathname === "/git/agent.git/info/refs") {
        const refs = LOOPBACK_PACKAGES.gitTags
          .map((tag, n) => `${String(n + 1).repeat(40)}\trefs/tags/${tag}\n`)
          .join("");
        return new Response(`${"0".repeat(39)}1\trefs/heads/main\n${refs}`, {
          headers: { "content-type": "text/plain" },
        });
      }
      if (url.pathname === "/git/agent.git/HEAD")
        return new Response("ref: refs/heads/main\n", { headers: { "content-type": "text/plain" } });
      const wheel = /^\/pypi\/files\/([^/]+\.whl)$/.exec(url.pathname);
      if (wheel && wheels.has(wheel[1]!)) {
        return new Response(wheels.get(wheel[1]!), { headers: { "content-type": "application/octet-stream" } });
      }
      const simple = /^\/pypi\/simple\/([^/]+)\/?$/.exec(url.pathname);
      if (simple) {
        const project = pipByName.get(normalise(decodeURIComponent(simple[1]!)));
        if (project) return pipIndexPage(project.name, project.versions, request.headers.get("accept") ?? "");
      }
      return new Response("not found\n", { status: 404 });
    },
  });
  origin = `https://localhost:${server.port}`;

  // The CA certificate (public) in a folder any container user can read.
  const caDir = mkdtempSync(join(tmpdir(), "aicage-registry-trust-"));
  chmodSync(caDir, 0o755);
  const caFile = join(caDir, "loopback-ca.pem");
  writeFileSync(caFile, caPem, { mode: 0o644 });

  const removeCa = () => rmSync(caDir, { recursive: true, force: true });
  process.on("exit", removeCa); // also when a test run dies before stop()

  return {
    origin,
    ipOrigin: `https://127.0.0.1:${server.port}`,
    npmUrl: `${origin}/npm/`,
    pipUrl: `${origin}/pypi/simple/`,
    port: server.port!,
    caPem,
    caFile,
    requests,
    stop() {
      server.stop(true);
      removeCa();
      process.off("exit", removeCa);
    },
  };
}
