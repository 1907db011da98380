// Addresses as auditors read them: the address, and the party id and name behind it when
// the address belongs to a party this service knows (another registrar's parties stay bare).
import { z } from "zod";

export const PartyRefSchema = z
  .object({
    address: z.string(),
    partyId: z.string().nullable(),
    name: z.string().nullable(),
  })
  .meta({ id: "PartyRef" });

export type PartyRef = z.infer<typeof PartyRefSchema>;
