// A TLS front for the real engine's loopback TCP port, demanding a client certificate
// signed by a throwaway CA (the way a TLS-protected remote engine behaves). Bytes pass
// through unchanged: what answers is the real engine.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type RelayLink, relayHandlers } from "./socket-relay.ts";
import { tempDir } from "./engine.ts";

function openssl(dir: string, args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "ignore", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr.toString()}`);
}

/** A self-signed CA: `<name>.pem` and `<name>-key.pem`. */
function makeCa(dir: string, name: string, subject: string): void {
  const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}-key.pem`, "-out", `${name}.pem`];
  openssl(dir, [...args, "-days", "2", "-subj", `/CN=${subject}`]);
}

/** A key and its signing request: `keyFile` and `<name>.csr`. */
function makeRequest(dir: string, name: string, keyFile: string, subject: string): void {
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${subject}`,
  ]);
}

/** `<name>.csr` signed by CA `ca` with the extensions `ext`, written to `out`. */
function signRequest(dir: string, name: string, ca: string, ext: string, out: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  const args = ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}-key.pem`, "-CAcreateserial"];
  openssl(dir, [...args, "-out", out, "-days", "2", "-extfile", `${name}.ext`]);
}

const SERVER_EXT = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
const CLIENT_EXT = "extendedKeyUsage=clientAuth\n";

/**
 * CA, server certificate for 127.0.0.1, client certificate: the DOCKER_CERT_PATH layout, in a
 * folder removed when the test process ends (private keys must not stay in the temp folder).
 */
export function makeCertificates(): string {
  const dir = tempDir("aicage-tls-");
  makeCa(dir, "ca", "aicage-test-ca");
  makeRequest(dir, "server", "server-key.pem", "127.0.0.1");
  signRequest(dir, "server", "ca", SERVER_EXT, "server-cert.pem");
  makeRequest(dir, "client", "key.pem", "aicage-test-client");
  signRequest(dir, "client", "ca", CLIENT_EXT, "cert.pem");
  return dir;
}

/**
 * What a test needs to get TLS wrong on purpose, in `dir` beside makeCertificates' files: a
 * second CA ("other"), a server certificate it signed (other-server-*.pem), a server
 * certificate of the right CA made out for another name (elsewhere-*.pem), and a client
 * certificate of the other CA (other-client-*.pem).
 */
export function makeWrongCertificates(dir: string): void {
  const made = (name: string, ca: string, ext: string) => {
    makeRequest(dir, name, `${name}-key.pem`, name);
    signRequest(dir, name, ca, ext, `${name}-cert.pem`);
  };
  makeCa(dir, "other", "aicage-test-other-ca");
  made("other-server", "other", SERVER_EXT);
  made("elsewhere", "ca", "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n");
  made("other-client", "other", CLIENT_EXT);
}

/** The TLS front; `presented` names the certificate and key it presents (of makeCertificates by default). */
export function startTlsProxy(
  certDir: string,
  engine: { hostname: string; port: number },
  presented = { cert: "server-cert.pem", key: "server-key.pem" },
) {
  const read = (name: string) => readFileSync(join(certDir, name), "utf8");
  const server = Bun.listen<RelayLink>({
    hostname: "127.0.0.1",
    port: 0,
    tls: {
      cert: read(presented.cert),
      key: read(presented.key),
      ca: read("ca.pem"),
      requestCert: true,
      rejectUnauthorized: true,
    } as never,
    socket: relayHandlers((socket) => Bun.connect({ ...engine, socket })) as never,
  });
  return { host: `tcp://127.0.0.1:${server.port}`, stop: () => server.stop(true) };
}
