// Addresses as auditors read them: the address, and the party id and name behind it when
// the address belongs to a party this service knows (another registrar's parties stay bare).
import { z } from "zod";
import type { Db } from "../../store/database.js";
import { findPartyByAddress } from "../../store/parties-store.js";

export const PartyRefSchema = z
  .object({
    address: z.string(),
    partyId: z.string().nullable(),
    name: z.string().nullable(),
  })
  .meta({ id: "PartyRef" });

export type PartyRef = z.infer<typeof PartyRefSchema>;

/** Looks each address up once per request. */
export class PartyRefs {
  readonly #cache = new Map<string, Promise<PartyRef>>();

  constructor(private readonly db: Db) {}

  of(address: string): Promise<PartyRef> {
    let ref = this.#cache.get(address);
    if (!ref) {
      ref = findPartyByAddress(this.db, address).then((party) => ({
        address,
        partyId: party?.id ?? null,
        name: party?.name ?? null,
      }));
      this.#cache.set(address, ref);
    }
    return ref;
  }

  async ofNullable(address: string | null): Promise<PartyRef | null> {
    return address ? this.of(address) : null;
  }
}
