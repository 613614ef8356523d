import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import type { KeyObject } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";

export const SIGNING_KEY_FILE = "member-cache-ed25519.pem";

export interface SigningKey {
  privateKey: KeyObject;
  /** SPKI PEM, what edges are provisioned with (GET /api/keys/member-cache). */
  publicKeyPem: string;
}

/**
 * The server's Ed25519 key for member caches: generated on first start and
 * kept next to the registry (PKCS#8 PEM, mode 0600), written to a temp file
 * and renamed so a crash never leaves half a key. Losing it means
 * re-provisioning every edge, so it is never regenerated over an existing file.
 */
export async function loadOrCreateSigningKey(dir: string): Promise<SigningKey> {
  const file = path.join(dir, SIGNING_KEY_FILE);
  let pem: string;
  try {
    pem = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    await mkdir(dir, { recursive: true });
    const { privateKey } = generateKeyPairSync("ed25519");
    pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, pem, { mode: 0o600, flag: "wx" });
    await rename(tmp, file);
  }
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== "ed25519") throw new Error(`${file} is not an Ed25519 key`);
  return { privateKey, publicKeyPem: createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString() };
}
