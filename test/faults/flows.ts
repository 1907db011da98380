// The steps the fault tests take through the API, and what each asserts about the chain
// afterwards, shared by the crash, outage and race tests.
import { expect } from "chai";
import { validSubmission } from "../server/scenario.js";
import type { FaultWorld, CastRole } from "./child-service.js";

let keys = 0;
/** A fresh Idempotency-Key header. */
export const idempotencyKey = (label: string): Record<string, string> => ({
  "idempotency-key": `${label}-${process.pid}-${++keys}-${Date.now()}`,
});

/** Submits a receivable of `seller` on `debtor` (100,000,000 minor units, due in 60 days); returns its id. */
export async function submitReceivable(world: FaultWorld, seller: CastRole, debtor: CastRole): Promise<string> {
  const submitted = await world.as(seller).post("/v1/receivables", validSubmission(world.party(debtor).id));
  expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
  expect(submitted.body.status).to.equal("awaiting_confirmation");
  return submitted.body.id as string;
}

/** Submits and confirms: the receivable and its root certificate. */
export async function registerReceivable(
  world: FaultWorld,
  seller: CastRole,
  debtor: CastRole,
): Promise<{ id: string; rootId: string }> {
  const id = await submitReceivable(world, seller, debtor);
  const confirmed = await world.as(debtor).post(`/v1/receivables/${id}/confirm`);
  expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
  return { id, rootId: confirmed.body.certificateId as string };
}

export interface Part {
  to: CastRole;
  amount: bigint;
}

export const splitBody = (world: FaultWorld, parts: Part[]) => ({
  parts: parts.map((p) => ({ toPartyId: world.party(p.to).id, amount: p.amount.toString() })),
});

/** Splits `certificateId` (held by `holder`); returns the children's ids in order. */
export async function split(
  world: FaultWorld,
  holder: CastRole,
  certificateId: string,
  parts: Part[],
): Promise<string[]> {
  const response = await world.as(holder).post(`/v1/certificates/${certificateId}/split`, splitBody(world, parts));
  expect(response.status, JSON.stringify(response.body)).to.equal(200);
  return (response.body.children as Array<{ id: string }>).map((c) => c.id);
}

/** Registrations of `receivableId` in the registry's logs. */
export async function registrationsOnChain(world: FaultWorld, receivableId: string): Promise<number> {
  return (await world.chainEvents(world.contracts.registry, "ReceivableRegistered", receivableId)).length;
}

/** The registry's status enum: 1 active, 4 repaid. */
export async function statusOnChain(world: FaultWorld, receivableId: string): Promise<number> {
  return Number(await world.contracts.registry.getFunction("statusOf")(receivableId));
}

/** Holder of a live certificate on chain, or undefined once it is burned (split). */
export async function ownerOnChain(world: FaultWorld, certificateId: string): Promise<string | undefined> {
  try {
    return String(await world.contracts.certificates.getFunction("ownerOf")(certificateId));
  } catch {
    return undefined;
  }
}

/** Children ids of every CertificateSplit event of `parentId` on chain. */
export async function splitsOnChain(world: FaultWorld, parentId: string): Promise<string[][]> {
  const events = await world.chainEvents(world.contracts.certificates, "CertificateSplit", parentId);
  return events.map((e) => (e.args.childIds as bigint[]).map(String));
}
