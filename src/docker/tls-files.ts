// The TLS files checked before the first connection: a ca.pem, cert.pem or key.pem that holds
// no PEM (or a key that is not the certificate's) would otherwise fail inside the runtime's TLS
// as "FailedToOpenSocket", which names neither the file nor the fix.
import { X509Certificate, createPrivateKey } from "node:crypto";

export interface TlsTexts {
  ca?: string;
  cert?: string;
  key?: string;
}

/** Throws an Error naming the first file (by its path) that cannot serve its purpose. */
export function checkTlsTexts(texts: TlsTexts, paths: TlsTexts): void {
  const certificate = (text: string, path: string) => {
    try {
      return new X509Certificate(text);
    } catch {
      throw new Error(`${path} holds no PEM certificate`);
    }
  };
  if (texts.ca !== undefined) certificate(texts.ca, paths.ca!);
  const cert = texts.cert === undefined ? undefined : certificate(texts.cert, paths.cert!);
  if (texts.key === undefined) return;
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(texts.key);
  } catch {
    throw new Error(`${paths.key} holds no PEM private key`);
  }
  if (cert && !cert.checkPrivateKey(key)) throw new Error(`${paths.key} is not the key of ${paths.cert}`);
}
