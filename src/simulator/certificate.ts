// A fresh self-signed certificate for the HTTPS simulator, valid for localhost, 127.0.0.1 and ::1, like
// the one the real Client Portal Gateway ships with. Clients either pin it (broker.ca_file) or use the
// localhost TLS bypass.
import { generate } from "selfsigned";

export interface CertificatePair {
  readonly cert: string;
  readonly key: string;
}

export async function selfSignedCertificate(): Promise<CertificatePair> {
  const pems = await generate([{ name: "commonName", value: "localhost" }], {
    // An EC key generates in milliseconds; an RSA key would make every test start noticeably slower.
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          { type: 2, value: "localhost" },
          { type: 7, ip: "127.0.0.1" },
          { type: 7, ip: "::1" },
        ],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}
