// TLS gone wrong, each way a user meets it (issue 23, item 8): the engine's certificate from
// another CA or for another name, a client certificate the engine refuses, a plain engine on a
// TLS endpoint and a TLS server on a plain one, files that hold no certificate. What answers
// is the real engine on loopback TCP, behind a TLS front (test/helpers/tls-proxy.ts) with
// openssl-made certificates. Each ends with one line naming the cause and the setting that
// fixes it, exit 3 (exit 2 for the files), never a runtime's code nor "Start Docker".
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT, TCP_HOST, runCli, tempDir } from "../helpers/engine.ts";
import { makeCertificates, makeWrongCertificates, startTlsProxy } from "../helpers/tls-proxy.ts";

const [, hostname, port] = /^tcp:\/\/(.+):(\d+)$/.exec(TCP_HOST)!;
const engine = { hostname: hostname!, port: Number(port) };
const DENO = `${REPO_ROOT}/node_modules/.bin/deno`;
/** What none of the lines may hold: a runtime's code, or the hint for an engine that is not running. */
const INTERNALS =
  /FailedToOpenSocket|EPROTO|ECONNRESET|ERR_TLS|UNABLE_TO_VERIFY|SELF_SIGNED|UnknownIssuer|Start Docker/;

let certs: string;
const proxies: Array<{ stop: () => void }> = [];

beforeAll(() => {
  certs = makeCertificates();
  makeWrongCertificates(certs);
});

afterAll(() => {
  for (const proxy of proxies) proxy.stop();
});

function front(cert = "server-cert.pem", key = "server-key.pem"): string {
  const proxy = startTlsProxy(certs, engine, { cert, key });
  proxies.push(proxy);
  return proxy.host;
}

/** A DOCKER_CERT_PATH folder: the CA, and the client certificate and key named. */
function certPath(client: "client" | "other-client" = "client"): string {
  const dir = tempDir("aicage-tls-path-");
  cpSync(join(certs, "ca.pem"), join(dir, "ca.pem"));
  cpSync(join(certs, client === "client" ? "cert.pem" : "other-client-cert.pem"), join(dir, "cert.pem"));
  cpSync(join(certs, client === "client" ? "key.pem" : "other-client-key.pem"), join(dir, "key.pem"));
  return dir;
}

const tlsEnv = (host: string, path: string) => ({ DOCKER_HOST: host, DOCKER_TLS_VERIFY: "1", DOCKER_CERT_PATH: path });

async function oneLine(env: Record<string, string>, args = ["images", "ls"]) {
  const run = await runCli(args, { env });
  expect(run.stderr.trim().split("\n")).toHaveLength(1);
  expect(run.stderr).not.toMatch(INTERNALS);
  return run;
}

describe("TLS to an engine: one line naming cause and fix, exit 3", () => {
  test("the right CA, name and client certificate: the engine answers (the set-up below is sound)", async () => {
    const run = await runCli(["images", "ls", "--json"], { env: tlsEnv(front(), certPath()) });
    expect([run.exitCode, run.stderr]).toEqual([0, ""]);
  });

  test("the engine's certificate is from another CA", async () => {
    const host = front("other-server-cert.pem", "other-server-key.pem");
    const path = certPath();
    const run = await oneLine(tlsEnv(host, path));
    expect([run.exitCode, run.stderr]).toEqual([
      3,
      `[error] Docker engine unreachable at ${host.replace("tcp:", "https:")} (DOCKER_HOST): the engine's TLS certificate is not signed by the CA in ${path}/ca.pem; set DOCKER_CERT_PATH to the folder whose ca.pem signed the engine's certificate.\n`,
    ]);
  });

  test("the engine's certificate is made out for another name; doctor --json has the fix", async () => {
    const host = front("elsewhere-cert.pem", "elsewhere-key.pem");
    const run = await oneLine(tlsEnv(host, certPath()));
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toEndWith(
      "(DOCKER_HOST): the engine's TLS certificate is not made out for 127.0.0.1; use a name or address the certificate holds in DOCKER_HOST, or reissue the certificate for this one.\n",
    );
    const doctor = await runCli(["doctor", "--json"], { env: tlsEnv(host, certPath()) });
    expect(doctor.exitCode).toBe(3);
    expect(JSON.parse(doctor.stdout).engine.error).toEqual({
      kind: "unreachable",
      message: expect.stringContaining("is not made out for 127.0.0.1"),
      fix: "use a name or address the certificate holds in DOCKER_HOST, or reissue the certificate for this one",
    });
  });

  test("the engine refuses the client certificate", async () => {
    const path = certPath("other-client");
    const run = await oneLine(tlsEnv(front(), path));
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toEndWith(
      `(DOCKER_HOST): the engine closed the connection during TLS set-up: it does not accept the client certificate ${path}/cert.pem; set DOCKER_CERT_PATH to the folder holding the cert.pem and key.pem that the engine's CA signed.\n`,
    );
  });

  test("a plain engine on a TLS endpoint (DOCKER_TLS_VERIFY on the engine's plain port)", async () => {
    const run = await oneLine(tlsEnv(TCP_HOST, certPath()));
    expect(run.exitCode).toBe(3);
    expect(run.stderr).toEndWith(
      "(DOCKER_HOST): the TLS handshake failed: what answers on this port does not speak TLS; if the engine listens without TLS (usually port 2375), use tcp:// without DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.\n",
    );
  });

  test("a TLS server on a plain endpoint (no DOCKER_TLS_VERIFY)", async () => {
    const host = front();
    const run = await oneLine({ DOCKER_HOST: host });
    expect([run.exitCode, run.stderr]).toEqual([
      3,
      `[error] Docker engine unreachable at ${host.replace("tcp:", "http:")} (DOCKER_HOST): the connection closed before an answer to GET /_ping came, as a TLS server does to a request without TLS; if the engine speaks TLS (usually port 2376), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH.\n`,
    ]);
  });

  test("dockerd's own answer to a plain request on its TLS port (Go's net/http 400)", async () => {
    // The bytes Go's net/http server writes when a TLS port gets a plain HTTP request.
    const server = createServer((socket) => {
      socket.once("data", () =>
        socket.end("HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n"),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const address = server.address() as { port: number };
      const run = await oneLine({ DOCKER_HOST: `tcp://127.0.0.1:${address.port}` });
      expect(run.exitCode).toBe(3);
      expect(run.stderr).toEndWith(
        "(DOCKER_HOST): the engine speaks TLS on this port, and this request had none; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem.\n",
      );
    } finally {
      server.close();
    }
  });

  test("under Deno: the same lines for another CA and a plain engine on a TLS endpoint", async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [tlsEnv(front("other-server-cert.pem", "other-server-key.pem"), certPath()), "is not signed by the CA in"],
      [tlsEnv(TCP_HOST, certPath()), "what answers on this port does not speak TLS"],
    ];
    for (const [env, words] of cases) {
      const proc = Bun.spawn([DENO, "run", "-A", "src/cli.ts", "images", "ls"], {
        cwd: REPO_ROOT,
        env: { ...process.env, ...env },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [stderr, exitCode] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
      expect({ exitCode, stderr }).toEqual({ exitCode: 3, stderr: expect.stringContaining(words) });
      expect(stderr).not.toMatch(INTERNALS);
    }
  });
});

describe("TLS files that hold no certificate or key: exit 2, the file named", () => {
  test("cert.pem that holds no PEM, key.pem of another certificate", async () => {
    const garbage = certPath();
    writeFileSync(join(garbage, "cert.pem"), "not a certificate\n");
    const other = certPath();
    cpSync(join(certs, "other-client-key.pem"), join(other, "key.pem"));
    const host = front();
    for (const [path, detail] of [
      [garbage, `${garbage}/cert.pem holds no PEM certificate`],
      [other, `${other}/key.pem is not the key of ${other}/cert.pem`],
    ] as const) {
      const run = await oneLine(tlsEnv(host, path));
      expect([run.exitCode, run.stderr]).toEqual([
        2,
        `[error] cannot read the TLS certificates for ${host.replace("tcp:", "https:")} (DOCKER_HOST): ${detail}; set DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem\n`,
      ]);
    }
  });
});
