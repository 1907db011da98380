// Resolves addresses to the parties behind them for auditors' views (see model/party-refs.ts).
import type { PartyRef } from "../model/party-refs.js";
import type { Db } from "./database.js";
import { findPartyByAddress } from "./parties-store.js";

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
