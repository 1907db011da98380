// The caller's relations to a receivable, one of its pieces, a financing request or a party,
// read from the index: what the access policy (server/model/access-policy.ts) is asked with.
// Finding relations is all this does; what a relation may see is the policy's alone.
import type { Relation } from "../model/access-policy.js";
import type { Actor } from "../model/actor.js";
import type { Db } from "./database.js";

interface Piece {
  id: string;
  parent_id: string | null;
  holder: string;
  state: string;
}
interface Financing {
  id: string;
  certificate_id: string;
  holder: string;
  status: string;
  financier: string | null;
}

/** The statuses in which a request's financier has bought or lent against the piece. */
export const FUNDED = ["sold", "pledged", "released", "foreclosed"];

/** The relations a caller has by its roles alone (auditor, operator). */
export function roleRelations(actor: Actor): Relation[] {
  const out: Relation[] = [];
  if (actor.roles.includes("auditor")) out.push("auditor");
  if (actor.roles.includes("operator")) out.push("operator");
  return out;
}

/** One receivable's tree as the index has it, and the caller's place in it. */
export class ReceivableRelations {
  private readonly byId: Map<string, Piece>;
  private readonly children = new Map<string, string[]>();

  private constructor(
    readonly actor: Actor,
    readonly receivableId: string,
    private readonly tradeParty: { seller: boolean; debtor: boolean },
    readonly pieces: Piece[],
    readonly financing: Financing[],
  ) {
    this.byId = new Map(pieces.map((p) => [p.id, p]));
    for (const p of pieces)
      if (p.parent_id !== null) this.children.set(p.parent_id, [...(this.children.get(p.parent_id) ?? []), p.id]);
  }

  static async load(db: Db, actor: Actor, receivableId: string): Promise<ReceivableRelations> {
    const [relations] = (await ReceivableRelations.loadMany(db, actor, [receivableId])).values();
    return relations!;
  }

  /**
   * Several receivables' trees in four statements, whatever their number: a page of a list
   * asks the policy once per row, and a read per row would make the page cost grow with it.
   */
  static async loadMany(
    db: Db,
    actor: Actor,
    receivableIds: readonly string[],
  ): Promise<Map<string, ReceivableRelations>> {
    const ids = [...new Set(receivableIds)];
    const out = new Map<string, ReceivableRelations>();
    if (ids.length === 0) return out;
    const offChain = await db
      .selectFrom("receivables")
      .select(["id", "seller_id", "debtor_id"])
      .where("id", "in", ids)
      .execute();
    const onChain = await db
      .selectFrom("onchain_receivables")
      .select(["id", "seller", "debtor"])
      .where("id", "in", ids)
      .execute();
    const pieces = await db
      .selectFrom("onchain_certificates")
      .select(["id", "parent_id", "holder", "state", "receivable_id"])
      .where("receivable_id", "in", ids)
      .execute();
    const financing = pieces.length
      ? await db
          .selectFrom("onchain_financing_requests")
          .select(["id", "certificate_id", "holder", "status", "financier"])
          .where(
            "certificate_id",
            "in",
            pieces.map((p) => p.id),
          )
          .execute()
      : [];
    const receivableOfPiece = new Map(pieces.map((p) => [p.id, p.receivable_id]));
    const offById = new Map(offChain.map((r) => [r.id, r]));
    const onById = new Map(onChain.map((r) => [r.id, r]));
    for (const id of ids) {
      const off = offById.get(id);
      const on = onById.get(id);
      const own = pieces
        .filter((p) => p.receivable_id === id)
        .map(({ id: pieceId, parent_id, holder, state }) => ({ id: pieceId, parent_id, holder, state }));
      out.set(
        id,
        new ReceivableRelations(
          actor,
          id,
          {
            seller: off?.seller_id === actor.id || on?.seller === actor.address,
            debtor: off?.debtor_id === actor.id || on?.debtor === actor.address,
          },
          own,
          financing.filter((f) => receivableOfPiece.get(f.certificate_id) === id),
        ),
      );
    }
    return out;
  }

  private ancestorsOf(id: string): string[] {
    const out: string[] = [];
    let current = this.byId.get(id)?.parent_id ?? null;
    while (current !== null) {
      out.push(current);
      current = this.byId.get(current)?.parent_id ?? null;
    }
    return out;
  }

  private descendantsOf(id: string): string[] {
    const out: string[] = [];
    const stack = [...(this.children.get(id) ?? [])];
    while (stack.length) {
      const next = stack.pop()!;
      out.push(next);
      stack.push(...(this.children.get(next) ?? []));
    }
    return out;
  }

  /** A piece, its ancestors up to the root and all its descendants. */
  lineageOf(id: string): Set<string> {
    return new Set([id, ...this.ancestorsOf(id), ...this.descendantsOf(id)]);
  }

  private isFinancier(): boolean {
    return this.actor.roles.includes("financier");
  }

  /** The pieces that are the caller's: held, under an open request it may fund, or funded by it. */
  ownPieces(): Set<string> {
    const own = new Set<string>();
    for (const p of this.pieces) if (p.holder === this.actor.address) own.add(p.id);
    for (const f of this.financing) {
      if (f.holder === this.actor.address) own.add(f.certificate_id);
      if (f.status === "open" && this.isFinancier()) own.add(f.certificate_id);
      if (f.financier === this.actor.address && FUNDED.includes(f.status)) own.add(f.certificate_id);
    }
    return own;
  }

  /** The pieces whose financing terms the caller may see: its own requests, open ones it may fund, those it funded. */
  termsVisibleOn(): Set<string> {
    const visible = new Set<string>();
    for (const f of this.financing) {
      if (f.holder === this.actor.address) visible.add(f.certificate_id);
      if (f.status === "open" && this.isFinancier()) visible.add(f.certificate_id);
      if (f.financier === this.actor.address && FUNDED.includes(f.status)) visible.add(f.certificate_id);
    }
    for (const p of this.pieces) if (p.holder === this.actor.address) visible.add(p.id);
    return visible;
  }

  /** The caller's relations to the receivable as a whole. */
  toReceivable(): Set<Relation> {
    const relations = new Set<Relation>(roleRelations(this.actor));
    if (this.tradeParty.seller) relations.add("seller");
    if (this.tradeParty.debtor) relations.add("debtor");
    // A piece the caller split away (retired) still makes it a holder of an ancestor piece.
    const mine = this.pieces.filter((p) => p.holder === this.actor.address);
    if (mine.some((p) => p.state !== "retired")) relations.add("holder");
    if (mine.some((p) => p.state === "retired")) relations.add("lineageHolder");
    if (this.isFinancier() && this.financing.some((f) => f.status === "open")) relations.add("evaluatingFinancier");
    if (this.financing.some((f) => f.financier === this.actor.address && FUNDED.includes(f.status)))
      relations.add("fundingFinancier");
    return relations;
  }

  /** The caller's relations to one piece of the receivable. */
  toCertificate(certificateId: string): Set<Relation> {
    const relations = new Set<Relation>(roleRelations(this.actor));
    if (this.tradeParty.seller) relations.add("seller");
    if (this.tradeParty.debtor) relations.add("debtor");
    const piece = this.byId.get(certificateId);
    if (piece?.holder === this.actor.address) relations.add("holder");
    const lineage = this.lineageOf(certificateId);
    for (const id of lineage) {
      if (id !== certificateId && this.byId.get(id)?.holder === this.actor.address) relations.add("lineageHolder");
    }
    for (const f of this.financing) {
      if (!lineage.has(f.certificate_id)) continue;
      if (f.status === "open" && this.isFinancier()) relations.add("evaluatingFinancier");
      if (f.financier === this.actor.address && FUNDED.includes(f.status)) relations.add("fundingFinancier");
    }
    return relations;
  }

  /** The caller's relations to one financing request on a piece of the receivable. */
  toFinancing(request: Financing): Set<Relation> {
    const relations = new Set<Relation>(roleRelations(this.actor));
    if (this.tradeParty.seller) relations.add("seller");
    if (this.tradeParty.debtor) relations.add("debtor");
    if (request.holder === this.actor.address) relations.add("holder");
    for (const id of this.lineageOf(request.certificate_id))
      if (id !== request.certificate_id && this.byId.get(id)?.holder === this.actor.address)
        relations.add("lineageHolder");
    if (request.status === "open" && this.isFinancier()) relations.add("evaluatingFinancier");
    if (request.financier === this.actor.address && FUNDED.includes(request.status)) relations.add("fundingFinancier");
    return relations;
  }
}

/**
 * The caller's relations to a party: itself, a financier weighing an open request on the
 * party's paper (the party holds the piece or owes the receivable), or one that funded it.
 */
export async function relationsToParty(
  db: Db,
  actor: Actor,
  party: { id: string; address: string },
): Promise<Set<Relation>> {
  const relations = new Set<Relation>(roleRelations(actor));
  if (actor.id === party.id) relations.add("self");
  if (actor.roles.includes("financier") || relations.size === 0) {
    if (actor.roles.includes("financier") && (await requestOnPaperOf(db, party.address, { open: true })))
      relations.add("evaluatingFinancier");
    if (await requestOnPaperOf(db, party.address, { fundedBy: actor.address })) relations.add("fundingFinancier");
  }
  return relations;
}

/**
 * Whether some request on the party's paper (a piece it holds, or a receivable it owes) is
 * open, or was funded by `fundedBy`. Asked side by side and stopping at the first row, each
 * from an index (a party's requests as holder, the open ones, a financier's own): reading every
 * request of both sides at once could only scan the whole market (issue 12).
 */
async function requestOnPaperOf(
  db: Db,
  address: string,
  probe: { open: true } | { fundedBy: string },
): Promise<boolean> {
  for (const side of ["holder", "debtor"] as const) {
    let query = db
      .selectFrom("onchain_financing_requests as r")
      .innerJoin("onchain_certificates as c", "c.id", "r.certificate_id")
      .innerJoin("onchain_receivables as o", "o.id", "c.receivable_id")
      .select("r.id")
      .where(side === "holder" ? "r.holder" : "o.debtor", "=", address);
    query =
      "open" in probe
        ? query.where("r.status", "=", "open")
        : query.where("r.financier", "=", probe.fundedBy).where("r.status", "in", FUNDED);
    if (await query.limit(1).executeTakeFirst()) return true;
  }
  return false;
}
