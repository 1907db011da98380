// Custodial keys at rest: AES-256-GCM under a master key that lives outside the database
// (an environment variable, or a 0600 file in the data directory).
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";

export class KeyVault {
  readonly #key: Buffer;

  constructor(masterKeyHex: string) {
    const key = Buffer.from(masterKeyHex.replace(/^0x/, ""), "hex");
    if (key.length !== 32) throw new Error("the master key must be 32 bytes");
    this.#key = key;
  }

  /** Loads the master key from `configured`, or from (or into) <dataDir>/master.key. */
  static open(dataDir: string, configured?: string): KeyVault {
    if (configured) return new KeyVault(configured);
    const file = path.join(dataDir, "master.key");
    if (!existsSync(file)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(file, `0x${randomBytes(32).toString("hex")}\n`, { mode: 0o600, flag: "wx" });
    }
    return new KeyVault(readFileSync(file, "utf8").trim());
  }

  encrypt(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.#key, iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64");
  }

  decrypt(sealed: string): string {
    const raw = Buffer.from(sealed, "base64");
    const decipher = createDecipheriv("aes-256-gcm", this.#key, raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  }
}
