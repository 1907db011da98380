// Use case: the operator registers a party. The profile is stored first (status
// "registering"), then the party is written to the on-chain party registry, then marked
// active: a crash in between is finished by resumePartyRegistrations() at start-up.
import PQueue from "p-queue";
import { withLock } from "../store/locks.js";
import { Wallet, getAddress, parseEther } from "ethers";
import type { ServiceContext } from "../context.js";
import { conflict } from "../model/errors.js";
import { nowIso } from "../store/database.js";
import { findPartyById, publicParty, toParty, type PartyRecord } from "../store/parties-store.js";
import { hashApiKey, newApiKey, newId, replaceApiKey } from "./api-keys.js";
import type { z } from "zod";
import {
  mayHoldCertificates,
  normaliseRegistryId,
  type CreatedPartySchema,
  type CreateParty,
  type Role,
} from "../model/parties-schema.js";
import { hashText } from "../model/receivable-schema.js";
import { industryKey } from "../model/industry-key.js";
import type { SentTransaction } from "../model/transactions.js";

/** Gas money for a custodial party on the local chain, so it can sign its own transactions. */
const LOCAL_GAS_ALLOWANCE = parseEther("10");

export type CreatedParty = z.infer<typeof CreatedPartySchema>;

// Party creation holds, in this order, a lock of the legal identity's own for its whole course
// and the global creation lock for the uniqueness checks and the stored profile only: one at a
// time in every replica, so the checks cannot race. The registration on-chain waits for a block
// under the identity's lock alone, so a network's suppliers onboarded at once share blocks
// instead of taking one each in turn (with the receipt under the global lock, the embedded chain
// took ~0.5 s a party, and a 12 s-block network would take hours for a few thousand). A retry of
// the same identity, and the start-up resume, wait for that lock: they never race the request
// that stored the row, and find the party registered or its registration failed.
const CREATION_LOCK = "party-creation";
const identityLock = (legalIdHash: string) => `party-identity:${legalIdHash}`;
// Registrations waiting for their blocks at once in this process. Each holds its identity's lock
// (on PostgreSQL a connection of the lock pool) and needs the party manager's signer lock (one
// more): unbounded, a burst of onboarding could take every connection and wait forever.
const REGISTRATIONS_AT_ONCE = 8;
const registrations = new PQueue({ concurrency: REGISTRATIONS_AT_ONCE });

/** What the checks under the global lock leave to finish under the identity's lock. */
type Claim = { stored: PartyRecord; apiKey: string } | { unfinished: PartyRecord };

export async function createParty(
  ctx: ServiceContext,
  input: CreateParty,
  options: { roles?: Role[] } = {},
): Promise<CreatedParty> {
  const registryKey = normaliseRegistryId(input.registryId);
  const legalIdHash = hashText(registryKey);
  // Asked before the locks, read under them (as a submission's duplicate check): the chain is no
  // lock of ours to order. A refusal found first leaves it unread, handled.
  const addressesOnChain = ctx.chain.contracts.parties.addressCountOf(legalIdHash);
  addressesOnChain.catch(() => undefined);
  return registrations.add(() =>
    withLock(ctx.db, identityLock(legalIdHash), async () => {
      const claim = await withLock(ctx.db, CREATION_LOCK, () =>
        claimIdentity(ctx, input, options, legalIdHash, addressesOnChain),
      );
      if ("stored" in claim) return createdAnswer(await registerOnChain(ctx, claim.stored), claim.apiKey);
      return finishUnfinished(ctx, claim.unfinished);
    }),
  );
}

/**
 * A retry of a registration that failed on-chain (chain down): finish it, with a fresh key,
 * since the first answer never reached the caller. The identity's lock is held: no request or
 * resume is finishing it meanwhile.
 */
async function finishUnfinished(ctx: ServiceContext, party: PartyRecord): Promise<CreatedParty> {
  const apiKey = await replaceApiKey(ctx.db, party.id);
  ctx.log.warn({ partyId: party.id }, "finishing a party registration that had not reached the chain");
  return createdAnswer(await registerOnChain(ctx, party), apiKey);
}

async function claimIdentity(
  ctx: ServiceContext,
  input: CreateParty,
  options: { roles?: Role[] },
  legalIdHash: string,
  addressesOnChainAsked: Promise<bigint>,
): Promise<Claim> {
  const existing = await ctx.db
    .selectFrom("parties")
    .selectAll()
    .where("legal_id_hash", "=", legalIdHash)
    .executeTakeFirst();
  if (existing?.status === "registering") return { unfinished: toParty(existing) };
  if (existing)
    throw conflict("PARTY_ALREADY_EXISTS", `a party with registry id ${input.registryId} exists already`, {
      partyId: existing.id,
    });
  // The registry takes the first address of a legal id from the party manager alone; a further
  // one (an alias) needs an existing address's signed consent or the governor. This platform
  // keeps one address per company, so a legal id already on-chain is another platform's party:
  // say so before storing anything, rather than leave a registration the chain will refuse.
  const addressesOnChain = await addressesOnChainAsked;
  if (addressesOnChain > 0n)
    throw conflict(
      "PARTY_ALIAS_CONSENT_REQUIRED",
      `the party registry already has ${addressesOnChain} address(es) for registry id ${input.registryId}; ` +
        "another address joins only with the consent of one of them or through the governor",
      { legalIdHash, addressesOnChain: addressesOnChain.toString() },
    );
  for (const related of input.relatedPartyIds) {
    if (!(await findPartyById(ctx.db, related)))
      throw conflict("RELATED_PARTY_UNKNOWN", `related party ${related} does not exist`, { relatedPartyId: related });
  }

  let address: string;
  let encryptedKey: string | null = null;
  if (input.address) {
    address = getAddress(input.address.toLowerCase());
    const taken = await ctx.db.selectFrom("parties").select("id").where("address", "=", address).executeTakeFirst();
    if (taken)
      throw conflict("ADDRESS_IN_USE", `address ${address} belongs to party ${taken.id}`, { partyId: taken.id });
  } else {
    const wallet = Wallet.createRandom();
    address = wallet.address;
    encryptedKey = ctx.vault.encrypt(wallet.privateKey);
  }

  const apiKey = newApiKey();
  const id = newId("pty");
  await ctx.db
    .insertInto("parties")
    .values({
      id,
      name: input.name,
      registry_id: input.registryId,
      legal_id_hash: legalIdHash,
      industry: input.industry,
      industry_key: industryKey(input.industry),
      roles: JSON.stringify(options.roles ?? input.roles),
      address,
      custodial: encryptedKey ? 1 : 0,
      encrypted_key: encryptedKey,
      api_key_hash: hashApiKey(apiKey),
      related_party_ids: JSON.stringify(input.relatedPartyIds),
      status: "registering",
      created_at: nowIso(),
    })
    .execute();
  ctx.log.info({ partyId: id, address }, "party stored; registering it on-chain");
  return { stored: (await findPartyById(ctx.db, id))!, apiKey };
}

function createdAnswer(registered: Registered, apiKey: string): CreatedParty {
  const party = publicParty(registered.party);
  return { ...party, apiKey, party, transactions: registered.transactions };
}

interface Registered {
  party: PartyRecord;
  transactions: SentTransaction[];
}

async function registerOnChain(ctx: ServiceContext, party: PartyRecord): Promise<Registered> {
  const transactions: SentTransaction[] = [];
  const { parties } = ctx.chain.contracts;
  const onChain = await parties.partyOf(party.address);
  if (onChain.legalIdHash === "0x" + "0".repeat(64)) {
    // The chain refuses to hand a certificate to a party its roles do not let hold (an auditor),
    // as the API does: one rule, set once here with the registration.
    const mayHold = mayHoldCertificates(party.roles);
    const request = await parties.registerParty.populateTransaction(party.address, party.legalIdHash, mayHold);
    const receipt = await ctx.chain.partyManager.send(request, { kind: "registerParty", ref: party.id });
    transactions.push({ kind: "registerParty", hash: receipt.hash });
    ctx.log.info({ partyId: party.id, mayHold, txHash: receipt.hash }, "party registered on-chain");
  }
  if (party.custodial && ctx.chain.deployment.localToken) {
    const balance = await ctx.chain.provider.getBalance(party.address);
    if (balance < LOCAL_GAS_ALLOWANCE / 2n) {
      const funded = await ctx.chain.registrar.send(
        { to: party.address, value: LOCAL_GAS_ALLOWANCE },
        { kind: "fundGas", ref: party.id },
      );
      transactions.push({ kind: "fundGas", hash: funded.hash });
    }
  }
  await ctx.db.updateTable("parties").set({ status: "active" }).where("id", "=", party.id).execute();
  return { party: { ...party, status: "active" }, transactions };
}

/** Start-up: finish registrations a crash interrupted. */
export function resumePartyRegistrations(ctx: ServiceContext): Promise<number> {
  return resumeAll(ctx);
}

async function resumeAll(ctx: ServiceContext): Promise<number> {
  const rows = await ctx.db
    .selectFrom("parties")
    .select(["id", "legal_id_hash"])
    .where("status", "=", "registering")
    .execute();
  let resumed = 0;
  for (const row of rows) {
    // Under the identity's lock, read again: a request may have been finishing it meanwhile.
    resumed += await withLock(ctx.db, identityLock(row.legal_id_hash), async () => {
      const party = await findPartyById(ctx.db, row.id);
      if (party?.status !== "registering") return 0;
      ctx.log.warn({ partyId: row.id }, "resuming a party registration interrupted by a stop");
      await registerOnChain(ctx, party);
      return 1;
    });
  }
  return resumed;
}
