// Why a TLS connection to an engine failed, in words, with the setting that fixes it. The
// runtimes name the cause by a code (Bun: UNABLE_TO_VERIFY_LEAF_SIGNATURE, EPROTO...) or a
// rustls text (Deno: "invalid peer certificate: UnknownIssuer"); both are read here.
import type { DockerEndpoint } from "./docker-endpoint.ts";

export interface TlsFailure {
  reason: string;
  fix: string;
}

const UNTRUSTED = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "INVALID_CA",
]);
const EXPIRED = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID"]);
const WRONG_NAME = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH"]);

const CERT_PATH_FIX = "set DOCKER_CERT_PATH to the folder holding the cert.pem and key.pem that the engine's CA signed";

/**
 * The TLS cause of a failed request to a tcp endpoint, or undefined when it is none.
 * `code` is the runtime's error code, `text` the messages of the error and its causes.
 */
export function explainTlsFailure(
  code: string,
  text: string,
  endpoint: DockerEndpoint,
  request: string,
): TlsFailure | undefined {
  if (endpoint.kind !== "tcp") return undefined;
  const host = new URL(endpoint.origin!).hostname;
  if (!endpoint.origin!.startsWith("https:")) {
    // A TLS server that hangs up on a plain request: the commonest sign of a missing DOCKER_TLS_VERIFY.
    if (request === "GET /_ping" && isClosed(code, text)) return tlsExpected(request);
    return undefined;
  }
  const ca = endpoint.tls?.ca;
  if (UNTRUSTED.has(code) || /UnknownIssuer|BadSignature|invalid peer certificate: Other/i.test(text)) {
    return {
      reason: `the engine's TLS certificate is not signed by ${ca ? `the CA in ${ca}` : "a CA this machine trusts"}`,
      fix: ca
        ? "set DOCKER_CERT_PATH to the folder whose ca.pem signed the engine's certificate"
        : "set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder holding the engine's ca.pem",
    };
  }
  if (EXPIRED.has(code) || /invalid peer certificate: (Expired|NotValidYet)/i.test(text)) {
    return {
      reason: "the engine's TLS certificate has expired or is not valid yet",
      fix: "renew the engine's certificate, or check this machine's clock",
    };
  }
  if (WRONG_NAME.has(code) || /NotValidForName|certificate not valid for name/i.test(text)) {
    return {
      reason: `the engine's TLS certificate is not made out for ${host}`,
      fix: "use a name or address the certificate holds in DOCKER_HOST, or reissue the certificate for this one",
    };
  }
  return handshakeFailure(code, text, endpoint, request);
}

/** A handshake that broke off: not a TLS server, or one that refused this client's certificate. */
function handshakeFailure(code: string, text: string, endpoint: DockerEndpoint, request: string) {
  const cert = endpoint.tls?.cert;
  if (/CertificateRequired|BadCertificate|UnknownCA|AccessDenied|DecryptError/i.test(text)) return clientRefused(cert);
  if (code === "EPROTO" || /InvalidContentType|corrupt message|wrong version number/i.test(text)) {
    // Bun says EPROTO both for a server that is no TLS server and for one that wanted a
    // certificate this client did not send.
    return cert
      ? {
          reason: "the TLS handshake failed: what answers on this port does not speak TLS",
          fix: "if the engine listens without TLS (usually port 2375), use tcp:// without DOCKER_TLS_VERIFY and DOCKER_CERT_PATH",
        }
      : {
          reason: "the TLS handshake failed: the engine wants a client certificate, or what answers does not speak TLS",
          fix: `${CERT_PATH_FIX}, or, for an engine without TLS, use tcp:// without DOCKER_TLS_VERIFY`,
        };
  }
  if (code === "FailedToOpenSocket" && endpoint.tls) {
    return {
      reason: "the TLS connection could not be set up with ca.pem, cert.pem and key.pem",
      fix: "set DOCKER_CERT_PATH to the folder holding the engine's ca.pem and your cert.pem and key.pem",
    };
  }
  // A server that hangs up at once on the first request has refused the handshake's certificate.
  if (request === "GET /_ping" && isClosed(code, text)) return clientRefused(cert);
  return undefined;
}

function clientRefused(cert: string | undefined): TlsFailure {
  return {
    reason: cert
      ? `the engine closed the connection during TLS set-up: it does not accept the client certificate ${cert}`
      : "the engine closed the connection during TLS set-up: it wants a client certificate",
    fix: CERT_PATH_FIX,
  };
}

function isClosed(code: string, text: string): boolean {
  return code === "ECONNRESET" || /connection (was )?(closed|reset)|closed unexpectedly|close_notify/i.test(text);
}

function tlsExpected(request: string): TlsFailure {
  return {
    reason: `the connection closed before an answer to ${request} came, as a TLS server does to a request without TLS`,
    fix: "if the engine speaks TLS (usually port 2376), set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH",
  };
}

/** Go's net/http answers a plain request on a TLS port with this 400 (dockerd's --tlsverify port). */
export function isPlainRequestToTlsServer(status: number, body: string): boolean {
  return status === 400 && body.startsWith("Client sent an HTTP request to an HTTPS server");
}

/** The failure for that answer. */
export function plainRequestToTlsServer(): TlsFailure {
  return {
    reason: "the engine speaks TLS on this port, and this request had none",
    fix: "set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder holding ca.pem, cert.pem and key.pem",
  };
}
