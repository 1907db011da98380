// Parties: who they are, which roles they play, and the API's shapes for them.
import { z } from "zod";
import { displayText } from "./text.js";
import { transactionsSchema } from "./transactions.js";

export const ROLES = ["operator", "supplier", "debtor", "financier", "auditor"] as const;
export type Role = (typeof ROLES)[number];

/**
 * The roles that may hold certificates: suppliers and financiers. An auditor reads and never
 * holds; a company that is only a debtor pays and has nothing to hold (one that also supplies
 * holds, and the per-receivable rule keeps it from holding a claim on itself). The API's
 * recipient check and the chain ask the same question: every party is registered on-chain with
 * `mayHold` = this (IPartyRegistry.mayHold), so a self-custody holder calling the token
 * directly meets the refusal the API gives.
 */
export const HOLDER_ROLES = ["supplier", "financier"] as const satisfies readonly Role[];

export const mayHoldCertificates = (roles: readonly Role[]): boolean =>
  roles.some((role) => (HOLDER_ROLES as readonly Role[]).includes(role));

export const CreatePartySchema = z
  .object({
    name: displayText(200),
    registryId: z
      .string()
      .trim()
      .min(4)
      .max(64)
      .regex(/^[A-Za-z0-9][A-Za-z0-9 .\-/]*$/, "letters, digits, space, dot, dash and slash only")
      .meta({ description: "Legal registry id (unified social credit code, LEI, …)", example: "91310000MA1FL0001X" }),
    industry: displayText(100),
    roles: z
      .array(z.enum(ROLES).exclude(["operator"]))
      .min(1)
      .max(4),
    address: z
      .string()
      .regex(/^0x[0-9a-fA-F]{40}$/)
      .optional()
      .meta({ description: "Own address for a non-custodial party; omit and the service generates and keeps the key" }),
    relatedPartyIds: z
      .array(z.string().max(64))
      .max(50)
      .default([])
      .meta({ description: "Parties under common control" }),
  })
  .strict()
  .meta({ id: "CreateParty" });

export type CreateParty = z.infer<typeof CreatePartySchema>;

export const PartySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    registryId: z.string(),
    industry: z.string(),
    roles: z.array(z.enum(ROLES)),
    address: z.string(),
    custodial: z.boolean(),
    status: z.enum(["registering", "active", "suspended"]),
    relatedPartyIds: z.array(z.string()),
    createdAt: z.string(),
  })
  .meta({ id: "Party" });

export type Party = z.infer<typeof PartySchema>;

// The party's fields stay at the top level (every client reads `id` and `apiKey` there);
// `party` and `transactions` are the envelope every write that sends transactions answers.
export const CreatedPartySchema = PartySchema.extend({
  apiKey: z.string().meta({ description: "Shown once; stored only as a hash" }),
  party: PartySchema.meta({ description: "The created party (the envelope's named resource)" }),
  transactions: transactionsSchema,
}).meta({
  id: "CreatedParty",
  description:
    "The party under `party` plus `transactions`; the same party's fields at the top level are deprecated (kept for older clients), `apiKey` is not",
});

/** Normalised legal id: what the on-chain legal id hash is taken of. */
export const normaliseRegistryId = (registryId: string): string =>
  registryId
    .normalize("NFKC")
    .toUpperCase()
    .replace(/[\s.\-/]/g, "");

/** A party as the service keeps it: its public face plus what never leaves the service. */
export interface PartyRecord extends Party {
  legalIdHash: string;
  encryptedKey: string | null;
}
