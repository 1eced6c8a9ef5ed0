// What the runtimes said for each TLS failure, recorded against the servers of
// test/integration/tls-failures.test.ts (Bun 1.4: the error's code; Deno 2.9: rustls' words),
// read into one cause and one fix.
import { describe, expect, test } from "bun:test";
import type { DockerEndpoint } from "../../src/docker/docker-endpoint.ts";
import { explainTlsFailure, isPlainRequestToTlsServer } from "../../src/docker/tls-failure.ts";

const tls: DockerEndpoint = {
  kind: "tcp",
  origin: "https://127.0.0.1:2376",
  display: "https://127.0.0.1:2376",
  source: "DOCKER_HOST",
  tls: { ca: "/certs/ca.pem", cert: "/certs/cert.pem", key: "/certs/key.pem", verify: true },
};
const plain: DockerEndpoint = { kind: "tcp", origin: "http://127.0.0.1:2375", display: "", source: "DOCKER_HOST" };
const PING = "GET /_ping";

/** [what Bun said (code, message), what Deno said (message)] */
const recorded = {
  untrusted: [
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate"],
    [
      "",
      "error sending request for url (https://127.0.0.1:46111/_ping): client error (Connect): invalid peer certificate: UnknownIssuer",
    ],
  ],
  wrongName: [
    ["ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames"],
    [
      "",
      'error sending request for url (https://127.0.0.1:41747/_ping): client error (Connect): invalid peer certificate: certificate not valid for name "127.0.0.1"; certificate is only valid for DnsName("elsewhere.example")',
    ],
  ],
  notTls: [
    ["EPROTO", "EPROTO: The TLS handshake failed. Does the server speak TLS on this port?"],
    [
      "",
      "error sending request for url (https://127.0.0.1:45609/_ping): client error (Connect): received corrupt message of type InvalidContentType",
    ],
  ],
  clientRefused: [
    [
      "ECONNRESET",
      "ECONNRESET: The socket connection was closed unexpectedly. For more information, pass `verbose: true` in the second argument to fetch()",
    ],
    [
      "",
      "peer closed connection without sending TLS close_notify: https://docs.rs/rustls/latest/rustls/manual/_03_howto/index.html#unexpected-eof",
    ],
  ],
} as const;

describe("explainTlsFailure", () => {
  for (const [runtime, index] of [
    ["Bun", 0],
    ["Deno", 1],
  ] as const) {
    test(`${runtime}: another CA, another name, no TLS server, a refused client certificate`, () => {
      const explain = (kind: keyof typeof recorded) => {
        const [code, text] = recorded[kind][index];
        return explainTlsFailure(code, text, tls, PING);
      };
      expect(explain("untrusted")).toEqual({
        reason: "the engine's TLS certificate is not signed by the CA in /certs/ca.pem",
        fix: "set DOCKER_CERT_PATH to the folder whose ca.pem signed the engine's certificate",
      });
      expect(explain("wrongName")?.reason).toBe("the engine's TLS certificate is not made out for 127.0.0.1");
      expect(explain("notTls")?.reason).toBe("the TLS handshake failed: what answers on this port does not speak TLS");
      expect(explain("clientRefused")?.reason).toBe(
        "the engine closed the connection during TLS set-up: it does not accept the client certificate /certs/cert.pem",
      );
    });
  }

  test("without a CA or client certificate of its own, the words say so", () => {
    const bare: DockerEndpoint = { ...tls, tls: { verify: true } };
    expect(explainTlsFailure("SELF_SIGNED_CERT_IN_CHAIN", "", bare, PING)?.reason).toBe(
      "the engine's TLS certificate is not signed by a CA this machine trusts",
    );
    expect(explainTlsFailure("EPROTO", "", bare, PING)?.reason).toBe(
      "the TLS handshake failed: the engine wants a client certificate, or what answers does not speak TLS",
    );
    expect(explainTlsFailure("CERT_HAS_EXPIRED", "", bare, PING)?.fix).toBe(
      "renew the engine's certificate, or check this machine's clock",
    );
  });

  test("a connection closed later than the first request, or on a socket, is no TLS matter", () => {
    expect(explainTlsFailure("ECONNRESET", "", tls, "GET /v1.41/images/json")).toBeUndefined();
    expect(explainTlsFailure("ECONNRESET", "", plain, "GET /v1.41/images/json")).toBeUndefined();
    const unix: DockerEndpoint = { kind: "unix", socketPath: "/s", display: "/s", source: "x" };
    expect(explainTlsFailure("EPROTO", "", unix, PING)).toBeUndefined();
    // A plain request the server hangs up on at once: the hint for a TLS port.
    expect(explainTlsFailure("ECONNRESET", "", plain, PING)?.fix).toBe(
      "if the engine speaks TLS (usually port 2376), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH",
    );
  });

  test("Go's net/http answer to a plain request on a TLS port is recognised", () => {
    expect(isPlainRequestToTlsServer(400, "Client sent an HTTP request to an HTTPS server.\n")).toBe(true);
    expect(isPlainRequestToTlsServer(400, '{"message":"bad parameter"}')).toBe(false);
  });
});
