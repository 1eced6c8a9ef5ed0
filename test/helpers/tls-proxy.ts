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

/**
 * CA, server certificate for 127.0.0.1, client certificate: the DOCKER_CERT_PATH layout, in a
 * folder removed when the test process ends (private keys must not stay in the temp folder).
 */
export function makeCertificates(): string {
  const dir = tempDir("aicage-tls-");
  const sign = (csr: string, out: string, ext: string) =>
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      csr,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca-key.pem",
      "-CAcreateserial",
      "-out",
      out,
      "-days",
      "2",
      "-extfile",
      ext,
    ]);
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca-key.pem",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=aicage-test-ca",
  ]);
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server-key.pem",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  ]);
  writeFileSync(join(dir, "server.ext"), "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  sign("server.csr", "server-cert.pem", "server.ext");
  openssl(dir, [
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "key.pem",
    "-out",
    "client.csr",
    "-subj",
    "/CN=aicage-test-client",
  ]);
  writeFileSync(join(dir, "client.ext"), "extendedKeyUsage=clientAuth\n");
  sign("client.csr", "cert.pem", "client.ext");
  return dir;
}

/**
 * What a test needs to get TLS wrong on purpose, in `dir` beside makeCertificates' files: a
 * second CA ("other"), a server certificate it signed (other-server-*.pem), a server
 * certificate of the right CA made out for another name (elsewhere-*.pem), and a client
 * certificate of the other CA (other-client-*.pem).
 */
export function makeWrongCertificates(dir: string): void {
  const key = (name: string) =>
    openssl(dir, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}-key.pem`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${name}`,
    ]);
  const sign = (name: string, ca: string, ext: string) => {
    writeFileSync(join(dir, `${name}.ext`), ext);
    openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${ca}.pem`,
      "-CAkey",
      `${ca}-key.pem`,
      "-CAcreateserial",
      "-out",
      `${name}-cert.pem`,
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
    ]);
  };
  openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "other-key.pem",
    "-out",
    "other.pem",
    "-days",
    "2",
    "-subj",
    "/CN=aicage-test-other-ca",
  ]);
  key("other-server");
  sign("other-server", "other", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  key("elsewhere");
  sign("elsewhere", "ca", "subjectAltName=DNS:elsewhere.example\nextendedKeyUsage=serverAuth\n");
  key("other-client");
  sign("other-client", "other", "extendedKeyUsage=clientAuth\n");
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
