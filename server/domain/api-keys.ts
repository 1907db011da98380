// API keys: random, shown once, stored only as a SHA-256 hash.
import { createHash, randomBytes } from "node:crypto";

export const newApiKey = (): string => `tl_${randomBytes(24).toString("base64url")}`;
export const hashApiKey = (apiKey: string): string => createHash("sha256").update(apiKey).digest("hex");
export const newId = (prefix: string): string => `${prefix}_${randomBytes(9).toString("base64url")}`;
