// An encrypted copy of every key a data directory holds, written before `npm run reset
// -- --delete-keys` deletes them: the master key and the other key files, the credentials,
// and the custodial parties' keys from the database (still encrypted with the master key).
// scrypt derives a key from a passphrase; AES-256-GCM encrypts and authenticates the copy.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import SQLite from "better-sqlite3";

export const BACKUP_FORMAT = "tierline-key-backup/1";
const SCRYPT = { N: 1 << 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 };

export interface KeyBackupContents {
  createdAt: string;
  dataDir: string;
  rpcUrl: string | undefined;
  /** Files of the data directory (path relative to it → base64), chain state and database excluded. */
  files: Record<string, string>;
  /** Custodial parties' keys as the database keeps them (encrypted with the master key). */
  custodialKeys: { id: string; address: string; encryptedKey: string }[];
}

interface BackupFile {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  kdf: { name: "scrypt"; N: number; r: number; p: number; salt: string };
  cipher: "aes-256-gcm";
  iv: string;
  tag: string;
  ciphertext: string;
}

/** Every file worth keeping: not the chain (it is the network's), the database, locks or logs. */
function keyFiles(dataDir: string, databaseFile: string): Record<string, string> {
  const files: Record<string, string> = {};
  const skip = (rel: string, abs: string) =>
    rel === "chain" ||
    rel.startsWith(`chain${path.sep}`) ||
    abs.startsWith(databaseFile) ||
    rel.startsWith("instance.lock") ||
    rel.endsWith(".log");
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const abs = path.join(dir, name);
      const rel = path.relative(dataDir, abs);
      if (skip(rel, abs)) continue;
      const stat = statSync(abs);
      if (stat.isDirectory()) walk(abs);
      else if (stat.isFile()) files[rel] = readFileSync(abs).toString("base64");
    }
  };
  walk(dataDir);
  return files;
}

function custodialKeys(databaseFile: string): KeyBackupContents["custodialKeys"] {
  if (!existsSync(databaseFile)) return [];
  const db = new SQLite(databaseFile, { readonly: true, fileMustExist: true });
  try {
    return (
      db.prepare("select id, address, encrypted_key from parties where encrypted_key is not null").all() as {
        id: string;
        address: string;
        encrypted_key: string;
      }[]
    ).map((r) => ({ id: r.id, address: r.address, encryptedKey: r.encrypted_key }));
  } finally {
    db.close();
  }
}

export function collectKeys(dataDir: string, databaseFile: string, rpcUrl: string | undefined): KeyBackupContents {
  return {
    createdAt: new Date().toISOString(),
    dataDir,
    rpcUrl,
    files: keyFiles(dataDir, databaseFile),
    custodialKeys: custodialKeys(databaseFile),
  };
}

export function encryptKeyBackup(contents: KeyBackupContents, passphrase: string): string {
  if (passphrase.length < 8) throw new Error("the backup passphrase must have at least 8 characters");
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = scryptSync(passphrase, salt, 32, SCRYPT);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(contents), "utf8"), cipher.final()]);
  const file: BackupFile = {
    format: BACKUP_FORMAT,
    createdAt: contents.createdAt,
    kdf: { name: "scrypt", N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, salt: salt.toString("base64") },
    cipher: "aes-256-gcm",
    iv: iv.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
    ciphertext: ciphertext.toString("base64"),
  };
  return JSON.stringify(file, null, 2) + "\n";
}

export function decryptKeyBackup(text: string, passphrase: string): KeyBackupContents {
  const file = JSON.parse(text) as BackupFile;
  if (file.format !== BACKUP_FORMAT) throw new Error(`not a ${BACKUP_FORMAT} file`);
  const { N, r, p } = file.kdf;
  const key = scryptSync(passphrase, Buffer.from(file.kdf.salt, "base64"), 32, { N, r, p, maxmem: SCRYPT.maxmem });
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(file.iv, "base64"));
  decipher.setAuthTag(Buffer.from(file.tag, "base64"));
  let plain: Buffer;
  try {
    plain = Buffer.concat([decipher.update(Buffer.from(file.ciphertext, "base64")), decipher.final()]);
  } catch {
    throw new Error("the passphrase is wrong or the backup is damaged");
  }
  return JSON.parse(plain.toString("utf8")) as KeyBackupContents;
}

/** Writes the backup (0600, never over an existing file) and reads it back before returning. */
export function writeKeyBackup(file: string, contents: KeyBackupContents, passphrase: string): void {
  writeFileSync(file, encryptKeyBackup(contents, passphrase), { mode: 0o600, flag: "wx" });
  const again = decryptKeyBackup(readFileSync(file, "utf8"), passphrase);
  if (Object.keys(again.files).length !== Object.keys(contents.files).length)
    throw new Error(`the backup ${file} does not read back whole`);
}
