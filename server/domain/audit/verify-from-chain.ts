// Use case for auditors: is the service's index of one receivable what the chain says?
// One side is rebuilt here from the contracts' logs alone (eth_getLogs from the
// deployment block, filtered by the receivable's id and then by its certificates' and
// requests' ids), replayed by a reducer of its own — not the indexer's projections and
// not the onchain_* tables. The other side is the index. A third opinion comes from the
// contracts' view functions at the same block, where that is cheap.
// Issue 16's tables are covered the same way: the receivable's disputes, credit notes and each
// leaf's cut (DilutionLedger, the registry's CreditRecorded), and the endorsements and recourse
// claims on its certificates (RecourseLedger).
import { getAddress, toBeHex, zeroPadValue, type BaseContract, type Log, type LogDescription } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../../context.js";
import { notFound } from "../../model/errors.js";
import { chainError } from "../../chain/revert-errors.js";
import { requireRole, type Actor } from "../../model/actor.js";
import { CERTIFICATE_STATES, RECEIVABLE_STATUSES, REQUEST_STATUSES } from "../../model/contract-enums.js";
import { decodeLog } from "../../chain/event-decoder.js";

const FINANCING_KIND = ["discount", "pledge"] as const;
const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** Ids per OR-list in one eth_getLogs topic filter. */
const TOPIC_CHUNK = 100;
/** Contract-view checks stop here: a huge tree is verified against events only. */
const MAX_VIEW_CHECKS = 300;

const Value = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const VerifyReportSchema = z
  .object({
    receivableId: z.string(),
    matches: z.boolean().meta({
      description: "No difference between the chain and the index, nor between the events and the contracts' views",
    }),
    differences: z.array(
      z.object({
        certificateId: z.string().optional(),
        requestId: z.string().optional(),
        disputeId: z.string().optional().meta({ description: "<block>:<log index> of the dispute's DisputeOpened" }),
        creditNoteId: z.string().optional(),
        claimId: z.string().optional().meta({ description: "a recourse claim" }),
        field: z.string(),
        chain: Value,
        index: Value,
      }),
    ),
    checkedCertificates: z.number(),
    checkedFinancingRequests: z.number(),
    checkedDilutionAndRecourse: z.number().meta({
      description: "Disputes, credit notes, leaf cuts, endorsements and recourse claims compared",
    }),
    chainEvents: z.number().meta({ description: "Logs read from the chain for this receivable" }),
    fromBlock: z.number(),
    asOfBlock: z.number().meta({ description: "Both sides are compared as of this block" }),
    contractView: z.object({
      checked: z.boolean(),
      note: z.string().optional(),
      matches: z.boolean(),
      differences: z.array(
        z.object({
          certificateId: z.string().optional(),
          requestId: z.string().optional(),
          field: z.string(),
          events: Value,
          contract: Value,
        }),
      ),
    }),
  })
  .meta({ id: "VerifyReport" });

export type VerifyReport = z.infer<typeof VerifyReportSchema>;
type Difference = VerifyReport["differences"][number];
type DifferenceKey = Omit<Difference, "field" | "chain" | "index">;
type Scalar = z.infer<typeof Value>;

interface ChainReceivable {
  seller: string;
  debtor: string;
  registrar: string;
  faceValue: string;
  dueDate: number;
  documentHash: string;
  rootCertificateId: string;
  status: string;
  repaidAmount: string;
  distributed: string;
  earlyDiscount: string;
  credited: string;
  registerTxHash: string;
  registeredBlock: number;
}

interface ChainCertificate {
  receivableId: string;
  parentId: string | null;
  holder: string;
  faceValue: string;
  tier: number;
  state: string;
  paidOut: string;
  reduction: string;
  issuedTxHash: string;
  issuedBlock: number;
}

interface ChainRequest {
  certificateId: string;
  holder: string;
  kind: string;
  price: string;
  repayAmount: string;
  outstanding: string;
  status: string;
  financier: string | null;
  shortfall: string | null;
  openedTxHash: string;
  fundedTxHash: string | null;
}

interface ChainDispute {
  receivableId: string;
  number: number;
  debtor: string;
  reasonCode: string;
  documentHash: string;
  status: string;
  creditNoteId: string | null;
  openedTxHash: string;
  openedBlock: number;
  closedTxHash: string | null;
}

interface ChainCreditNote {
  receivableId: string;
  amount: string;
  reasonCode: string;
  documentHash: string;
  sellerRespondBy: number;
  status: string;
  approvedBy: string | null;
  retainedReduction: string | null;
  sharedReduction: string | null;
  proposedTxHash: string;
  proposedBlock: number;
  closedTxHash: string | null;
}

interface ChainLeafReduction {
  creditNoteId: string;
  certificateId: string;
  holder: string;
  reduction: string;
  claim: string;
  retained: boolean;
  txHash: string;
}

/** A pledged leaf a credit note cut below what its pledgee is owed (PledgeCollateralShortfall). */
interface ChainShortfall {
  certificateId: string;
  requestId: string;
  pledgee: string;
  outstanding: string;
  claim: string;
  txHash: string;
}

interface ChainEndorsement {
  certificateId: string;
  endorsementIndex: number;
  endorser: string;
  txHash: string;
  blockNumber: number;
}

interface ChainClaim {
  leafId: string;
  receivableId: string | null;
  kind: string;
  status: string;
  creditor: string;
  guarantor: string;
  guarantorCertificateId: string;
  endorsementIndex: number;
  amount: string;
  parentClaimId: string | null;
  openedTxHash: string;
  openedBlock: number;
  paidTxHash: string | null;
  paidBy: string | null;
}

/** Issue 16's records of one receivable, keyed as the index keys them. */
interface DilutionAndRecourse {
  /** By "<block>:<log index>" of DisputeOpened. */
  disputes: Map<string, ChainDispute>;
  creditNotes: Map<string, ChainCreditNote>;
  /** By "<credit note id>/<certificate id>". */
  leafReductions: Map<string, ChainLeafReduction>;
  /** By "<certificate id>#<endorsement index>". */
  endorsements: Map<string, ChainEndorsement>;
  claims: Map<string, ChainClaim>;
  /** By "<block>:<log index>" of PledgeCollateralShortfall. */
  shortfalls: Map<string, ChainShortfall>;
}

interface ChainView extends DilutionAndRecourse {
  receivable: ChainReceivable | undefined;
  certificates: Map<string, ChainCertificate>;
  requests: Map<string, ChainRequest>;
  events: number;
  fromBlock: number;
}

/** IDilutionLedger.CreditNoteApproval and IRecourseLedger.RecourseKind, as the index writes them. */
const APPROVED_BY = ["seller", "arbiter"] as const;
const RECOURSE_KIND = ["dilution", "default"] as const;

interface DecodedLog {
  contract: "registry" | "certificates" | "financing" | "escrow" | "dilution" | "recourse";
  name: string;
  args: LogDescription["args"];
  blockNumber: number;
  logIndex: number;
  txHash: string;
}

export async function verifyFromChain(ctx: ServiceContext, actor: Actor, receivableId: string): Promise<VerifyReport> {
  requireRole(actor, "auditor", "operator");
  try {
    await ctx.indexer.sync();
  } catch (error) {
    throw chainError(error);
  }
  // Both sides as of one block the index has fully applied: read the chain up to it, then
  // the index, and start again if the indexer moved on meanwhile.
  let asOfBlock = await ctx.indexer.indexedBlock();
  let chain!: ChainView;
  let index!: IndexView;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      chain = await readChain(ctx, receivableId, asOfBlock);
    } catch (error) {
      throw chainError(error);
    }
    // The chain's certificate ids too: a request whose certificate row is missing from the index still counts.
    index = await readIndex(ctx, receivableId, [...chain.certificates.keys()]);
    const indexedNow = await ctx.indexer.indexedBlock();
    if (indexedNow === asOfBlock) break;
    asOfBlock = indexedNow;
  }
  if (!chain.receivable && !index.receivable) throw notFound("Receivable", receivableId);

  const differences = compareWithIndex(chain, index);
  const contractView = await compareWithContracts(ctx, receivableId, chain, asOfBlock);
  return {
    receivableId,
    matches: differences.length === 0 && contractView.differences.length === 0,
    differences,
    checkedCertificates: new Set([...chain.certificates.keys(), ...index.certificates.keys()]).size,
    checkedFinancingRequests: new Set([...chain.requests.keys(), ...index.requests.keys()]).size,
    checkedDilutionAndRecourse: (
      ["disputes", "creditNotes", "leafReductions", "endorsements", "claims", "shortfalls"] as const
    ).reduce((n, table) => n + new Set([...chain[table].keys(), ...index[table].keys()]).size, 0),
    chainEvents: chain.events,
    fromBlock: chain.fromBlock,
    asOfBlock,
    contractView,
  };
}

/* ------------------------------------------------------------------ */
/*                         The chain, from logs alone                 */
/* ------------------------------------------------------------------ */

const idTopic = (id: string | bigint) => zeroPadValue(toBeHex(BigInt(id)), 32);

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function readChain(ctx: ServiceContext, receivableId: string, toBlock: number): Promise<ChainView> {
  const { registry, certificates, financing, escrow } = ctx.chain.contracts;
  const provider = ctx.chain.provider;
  const deploymentBlock = ctx.chain.deployment.deploymentBlock;
  const topic = (contract: BaseContract, name: string) => contract.interface.getEvent(name)!.topicHash;

  /** eth_getLogs over [from, to]; halves the range when the node refuses a wide one. */
  const getLogs = async (address: string, topics: Array<string | string[] | null>, from: number): Promise<Log[]> => {
    if (from > toBlock) return [];
    const fetchRange = async (a: number, b: number): Promise<Log[]> => {
      try {
        return await provider.getLogs({ address, topics, fromBlock: a, toBlock: b });
      } catch (error) {
        if (b - a < 1_000) throw error;
        const mid = Math.floor((a + b) / 2);
        return [...(await fetchRange(a, mid)), ...(await fetchRange(mid + 1, b))];
      }
    };
    return fetchRange(from, toBlock);
  };

  const decoded: DecodedLog[] = [];
  const decode = (name: DecodedLog["contract"], contract: BaseContract, logs: Log[]) => {
    for (const log of logs) {
      const parsed = decodeLog(contract.interface, log);
      if (!parsed) continue;
      decoded.push({
        contract: name,
        name: parsed.name,
        args: parsed.args,
        blockNumber: log.blockNumber,
        logIndex: log.index,
        txHash: log.transactionHash,
      });
    }
  };

  const registryAddress = String(registry.target);
  const registryLogs = await getLogs(
    registryAddress,
    [
      [
        "ReceivableRegistered",
        "RepaymentRecorded",
        "ReceivableStatusChanged",
        "ReceivableDischargedEarly",
        "CreditRecorded",
      ].map((n) => topic(registry, n)),
      receivableId,
    ],
    deploymentBlock,
  );
  decode("registry", registry, registryLogs);
  const registered = decoded.find((e) => e.name === "ReceivableRegistered");
  // Nothing can touch the tree before it was registered.
  const fromBlock = registered?.blockNumber ?? deploymentBlock;

  const certificateAddress = String(certificates.target);
  const issued = await getLogs(
    certificateAddress,
    [topic(certificates, "CertificateIssued"), null, receivableId],
    fromBlock,
  );
  decode("certificates", certificates, issued);
  const certificateIds = decoded
    .filter((e) => e.name === "CertificateIssued")
    .map((e) => (e.args.certificateId as bigint).toString());

  const lifecycle = ["CertificateSplit", "CertificateLockPlaced", "CertificateLockLifted", "CertificateSettled"].map(
    (n) => topic(certificates, n),
  );
  const financingOpened = [
    "FinancingRequested",
    "FinancingCancelled",
    "FinancingFunded",
    "PledgeReleased",
    "PledgeForeclosed",
  ].map((n) => topic(financing, n));
  for (const ids of chunks(certificateIds.map(idTopic), TOPIC_CHUNK)) {
    decode("certificates", certificates, await getLogs(certificateAddress, [lifecycle, ids], fromBlock));
    decode(
      "certificates",
      certificates,
      await getLogs(certificateAddress, [topic(certificates, "Transfer"), null, null, ids], fromBlock),
    );
    decode("financing", financing, await getLogs(String(financing.target), [financingOpened, null, ids], fromBlock));
  }
  const requestIds = [
    ...new Set(
      decoded.filter((e) => e.name === "FinancingRequested").map((e) => (e.args.requestId as bigint).toString()),
    ),
  ];
  for (const ids of chunks(requestIds.map(idTopic), TOPIC_CHUNK)) {
    decode(
      "financing",
      financing,
      await getLogs(String(financing.target), [topic(financing, "PledgeRepaid"), ids], fromBlock),
    );
  }
  decode(
    "escrow",
    escrow,
    await getLogs(
      String(escrow.target),
      [["RepaymentReceived", "LeafSettled", "DustSwept"].map((n) => topic(escrow, n)), receivableId],
      fromBlock,
    ),
  );

  const { dilution, recourse } = ctx.chain.contracts;
  if (dilution) {
    // Disputes carry the receivable in their first topic, credit notes and cuts in their second.
    const disputeEvents = ["DisputeOpened", "DisputeResolved", "DisputeWithdrawn", "DisputeDismissed"];
    const noteEvents = [
      "CreditNoteProposed",
      "CreditNoteWithdrawn",
      "CreditNoteRejected",
      "CreditNoteApplying",
      "CreditNoteApplied",
    ];
    const address = String(dilution.target);
    decode(
      "dilution",
      dilution,
      await getLogs(address, [disputeEvents.map((n) => topic(dilution, n)), receivableId], fromBlock),
    );
    decode(
      "dilution",
      dilution,
      await getLogs(
        address,
        [[...noteEvents, "LeafDiluted"].map((n) => topic(dilution, n)), null, receivableId],
        fromBlock,
      ),
    );
    // Shortfalls name the leaf, not the receivable.
    for (const ids of chunks(certificateIds.map(idTopic), TOPIC_CHUNK))
      decode(
        "dilution",
        dilution,
        await getLogs(address, [topic(dilution, "PledgeCollateralShortfall"), ids], fromBlock),
      );
  }
  if (recourse) {
    const address = String(recourse.target);
    for (const ids of chunks(certificateIds.map(idTopic), TOPIC_CHUNK)) {
      decode("recourse", recourse, await getLogs(address, [topic(recourse, "RecourseGranted"), ids], fromBlock));
      // Claims on a leaf of this receivable, escalations included (they name the same leaf).
      decode(
        "recourse",
        recourse,
        await getLogs(address, [topic(recourse, "RecourseClaimOpened"), null, ids], fromBlock),
      );
    }
    const claimIds = [
      ...new Set(
        decoded.filter((e) => e.name === "RecourseClaimOpened").map((e) => (e.args.claimId as bigint).toString()),
      ),
    ];
    for (const ids of chunks(claimIds.map(idTopic), TOPIC_CHUNK))
      decode("recourse", recourse, await getLogs(address, [topic(recourse, "RecourseClaimPaid"), ids], fromBlock));
  }

  const unique = new Map(decoded.map((e) => [`${e.blockNumber}:${e.logIndex}`, e]));
  const ordered = [...unique.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  return { ...replay(ordered), events: ordered.length, fromBlock };
}

/** The receivable, its certificates and their financing requests, as the events tell it. */
function replay(events: DecodedLog[]): Omit<ChainView, "events" | "fromBlock"> {
  let receivable: ChainReceivable | undefined;
  const certificates = new Map<string, ChainCertificate>();
  const requests = new Map<string, ChainRequest>();
  const disputes = new Map<string, ChainDispute>();
  const creditNotes = new Map<string, ChainCreditNote>();
  const leafReductions = new Map<string, ChainLeafReduction>();
  const endorsements = new Map<string, ChainEndorsement>();
  const claims = new Map<string, ChainClaim>();
  const shortfalls = new Map<string, ChainShortfall>();
  /** Closes the receivable's open dispute (the chain keeps at most one open). */
  const closeDispute = (status: string, txHash: string, creditNoteId: string | null) => {
    for (const d of disputes.values())
      if (d.status === "open") Object.assign(d, { status, closedTxHash: txHash, creditNoteId });
  };
  const str = (v: unknown) => (v as bigint).toString();
  for (const e of events) {
    const a = e.args;
    const certificate = (id: unknown) => certificates.get(str(id));
    const request = (id: unknown) => requests.get(str(id));
    switch (`${e.contract}.${e.name}`) {
      case "registry.ReceivableRegistered":
        receivable = {
          seller: getAddress(a.seller as string),
          debtor: getAddress(a.debtor as string),
          registrar: getAddress(a.registrar as string),
          faceValue: str(a.faceValue),
          dueDate: Number(a.dueDate),
          documentHash: a.documentHash as string,
          rootCertificateId: str(a.rootCertificateId),
          status: "active",
          repaidAmount: "0",
          distributed: "0",
          earlyDiscount: "0",
          credited: "0",
          registerTxHash: e.txHash,
          registeredBlock: e.blockNumber,
        };
        break;
      case "registry.RepaymentRecorded":
        if (receivable) receivable.repaidAmount = str(a.repaidAmount);
        break;
      case "registry.ReceivableStatusChanged":
        if (receivable) receivable.status = RECEIVABLE_STATUSES[Number(a.status)] ?? "unknown";
        break;
      case "registry.ReceivableDischargedEarly":
        if (receivable) receivable.earlyDiscount = str(a.discount);
        break;
      case "certificates.CertificateIssued":
        certificates.set(str(a.certificateId), {
          receivableId: a.receivableId as string,
          parentId: (a.parentId as bigint) === 0n ? null : str(a.parentId),
          holder: getAddress(a.holder as string),
          faceValue: str(a.faceValue),
          tier: Number(a.tier),
          state: "live",
          paidOut: "0",
          reduction: "0",
          issuedTxHash: e.txHash,
          issuedBlock: e.blockNumber,
        });
        break;
      case "certificates.Transfer": {
        // Mints and burns do not change who held it last.
        const c = certificate(a.tokenId);
        if (c && a.from !== ZERO_ADDRESS && a.to !== ZERO_ADDRESS) c.holder = getAddress(a.to as string);
        break;
      }
      case "certificates.CertificateSplit": {
        const c = certificate(a.parentId);
        if (c) c.state = "retired";
        break;
      }
      case "certificates.CertificateLockPlaced": {
        const c = certificate(a.certificateId);
        if (c) c.state = "locked";
        break;
      }
      case "certificates.CertificateLockLifted": {
        const c = certificate(a.certificateId);
        if (c && c.state === "locked") c.state = "live";
        break;
      }
      case "certificates.CertificateSettled": {
        const c = certificate(a.certificateId);
        if (c) c.state = "settled";
        break;
      }
      case "escrow.LeafSettled": {
        const c = certificate(a.certificateId);
        if (c) c.paidOut = str(a.paidOut);
        if (receivable)
          receivable.distributed = (
            BigInt(receivable.distributed) +
            (a.toHolder as bigint) +
            (a.toPledgee as bigint)
          ).toString();
        break;
      }
      case "escrow.DustSwept":
        if (receivable) receivable.distributed = (BigInt(receivable.distributed) + (a.amount as bigint)).toString();
        break;
      case "financing.FinancingRequested":
        requests.set(str(a.requestId), {
          certificateId: str(a.certificateId),
          holder: getAddress(a.holder as string),
          kind: FINANCING_KIND[Number(a.kind)] ?? "unknown",
          price: str(a.price),
          repayAmount: str(a.repayAmount),
          outstanding: "0",
          status: "open",
          financier: null,
          shortfall: null,
          openedTxHash: e.txHash,
          fundedTxHash: null,
        });
        break;
      case "financing.FinancingCancelled": {
        const r = request(a.requestId);
        if (r) r.status = "cancelled";
        break;
      }
      case "financing.FinancingFunded": {
        const r = request(a.requestId);
        if (!r) break;
        const pledge = Number(a.kind) === 1;
        r.status = pledge ? "pledged" : "sold";
        r.financier = getAddress(a.financier as string);
        r.fundedTxHash = e.txHash;
        r.outstanding = pledge ? r.repayAmount : "0";
        break;
      }
      case "financing.PledgeRepaid": {
        const r = request(a.requestId);
        if (r) r.outstanding = str(a.outstanding);
        break;
      }
      case "financing.PledgeReleased": {
        const r = request(a.requestId);
        if (!r) break;
        r.status = "released";
        r.outstanding = "0";
        r.shortfall = str(a.shortfall);
        break;
      }
      case "financing.PledgeForeclosed": {
        const r = request(a.requestId);
        if (r) r.status = "foreclosed";
        break;
      }
      case "registry.CreditRecorded":
        if (receivable) receivable.credited = str(a.credited);
        break;
      case "dilution.DisputeOpened":
        disputes.set(`${e.blockNumber}:${e.logIndex}`, {
          receivableId: a.receivableId as string,
          number: Number(a.disputeNumber),
          debtor: getAddress(a.debtor as string),
          reasonCode: a.reasonCode as string,
          documentHash: a.documentHash as string,
          status: "open",
          creditNoteId: null,
          openedTxHash: e.txHash,
          openedBlock: e.blockNumber,
          closedTxHash: null,
        });
        break;
      case "dilution.DisputeResolved":
        closeDispute("resolved", e.txHash, str(a.creditNoteId));
        break;
      case "dilution.DisputeWithdrawn":
        closeDispute("withdrawn", e.txHash, null);
        break;
      case "dilution.DisputeDismissed":
        closeDispute("dismissed", e.txHash, null);
        break;
      case "dilution.CreditNoteProposed":
        creditNotes.set(str(a.creditNoteId), {
          receivableId: a.receivableId as string,
          amount: str(a.amount),
          reasonCode: a.reasonCode as string,
          documentHash: a.documentHash as string,
          sellerRespondBy: Number(a.sellerRespondBy),
          status: "proposed",
          approvedBy: null,
          retainedReduction: null,
          sharedReduction: null,
          proposedTxHash: e.txHash,
          proposedBlock: e.blockNumber,
          closedTxHash: null,
        });
        break;
      case "dilution.CreditNoteWithdrawn":
      case "dilution.CreditNoteRejected": {
        const n = creditNotes.get(str(a.creditNoteId));
        if (n)
          Object.assign(n, {
            status: e.name === "CreditNoteWithdrawn" ? "withdrawn" : "rejected",
            closedTxHash: e.txHash,
          });
        break;
      }
      case "dilution.CreditNoteApplying": {
        const n = creditNotes.get(str(a.creditNoteId));
        if (n) Object.assign(n, { status: "applying", approvedBy: APPROVED_BY[Number(a.approvedBy)] ?? "unknown" });
        break;
      }
      case "dilution.CreditNoteApplied": {
        const n = creditNotes.get(str(a.creditNoteId));
        if (n)
          Object.assign(n, {
            status: "applied",
            approvedBy: APPROVED_BY[Number(a.approvedBy)] ?? "unknown",
            retainedReduction: str(a.retainedReduction),
            sharedReduction: str(a.sharedReduction),
            closedTxHash: e.txHash,
          });
        break;
      }
      case "dilution.LeafDiluted": {
        leafReductions.set(`${str(a.creditNoteId)}/${str(a.certificateId)}`, {
          creditNoteId: str(a.creditNoteId),
          certificateId: str(a.certificateId),
          holder: getAddress(a.holder as string),
          reduction: str(a.reduction),
          claim: str(a.claim),
          retained: Boolean(a.retained),
          txHash: e.txHash,
        });
        // The event carries the leaf's claim after the cut: its total reduction is face - claim.
        const c = certificate(a.certificateId);
        if (c) c.reduction = (BigInt(c.faceValue) - (a.claim as bigint)).toString();
        break;
      }
      case "dilution.PledgeCollateralShortfall":
        shortfalls.set(`${e.blockNumber}:${e.logIndex}`, {
          certificateId: str(a.certificateId),
          requestId: str(a.requestId),
          pledgee: getAddress(a.pledgee as string),
          outstanding: str(a.outstanding),
          claim: str(a.claim),
          txHash: e.txHash,
        });
        break;
      case "recourse.RecourseGranted":
        endorsements.set(`${str(a.certificateId)}#${Number(a.endorsementIndex)}`, {
          certificateId: str(a.certificateId),
          endorsementIndex: Number(a.endorsementIndex),
          endorser: getAddress(a.endorser as string),
          txHash: e.txHash,
          blockNumber: e.blockNumber,
        });
        break;
      case "recourse.RecourseClaimOpened":
        claims.set(str(a.claimId), {
          leafId: str(a.leafId),
          receivableId: certificate(a.leafId)?.receivableId ?? null,
          kind: RECOURSE_KIND[Number(a.kind)] ?? "unknown",
          status: "open",
          creditor: getAddress(a.creditor as string),
          guarantor: getAddress(a.guarantor as string),
          guarantorCertificateId: str(a.guarantorCertificateId),
          endorsementIndex: Number(a.endorsementIndex),
          amount: str(a.amount),
          parentClaimId: (a.parentClaimId as bigint) === 0n ? null : str(a.parentClaimId),
          openedTxHash: e.txHash,
          openedBlock: e.blockNumber,
          paidTxHash: null,
          paidBy: null,
        });
        break;
      case "recourse.RecourseClaimPaid": {
        const claim = claims.get(str(a.claimId));
        if (claim)
          Object.assign(claim, {
            status: "paid",
            amount: str(a.amount), // what was paid: a default claim's is held to the leaf's unpaid claim
            paidTxHash: e.txHash,
            paidBy: getAddress(a.payer as string),
          });
        break;
      }
      default:
        break;
    }
  }
  return {
    receivable,
    certificates,
    requests,
    disputes,
    creditNotes,
    leafReductions,
    endorsements,
    claims,
    shortfalls,
  };
}

/* ------------------------------------------------------------------ */
/*                               The index                            */
/* ------------------------------------------------------------------ */

interface IndexView extends DilutionAndRecourse {
  receivable: ChainReceivable | undefined;
  certificates: Map<string, ChainCertificate>;
  requests: Map<string, ChainRequest>;
}

async function readIndex(ctx: ServiceContext, receivableId: string, chainCertificateIds: string[]): Promise<IndexView> {
  const r = await ctx.db
    .selectFrom("onchain_receivables")
    .selectAll()
    .where("id", "=", receivableId)
    .executeTakeFirst();
  const certificateRows = await ctx.db
    .selectFrom("onchain_certificates")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .execute();
  const certificateIds = [...new Set([...certificateRows.map((c) => c.id), ...chainCertificateIds])];
  const requestRows = [];
  for (const ids of chunks(certificateIds, 500)) {
    requestRows.push(
      ...(await ctx.db
        .selectFrom("onchain_financing_requests")
        .selectAll()
        .where("certificate_id", "in", ids)
        .execute()),
    );
  }
  return {
    ...(await readDilutionAndRecourseIndex(ctx, receivableId, certificateIds)),
    receivable: r && {
      seller: r.seller,
      debtor: r.debtor,
      registrar: r.registrar,
      faceValue: r.face_value,
      dueDate: r.due_date,
      documentHash: r.document_hash,
      rootCertificateId: r.root_certificate_id,
      status: r.status,
      repaidAmount: r.repaid_amount,
      distributed: r.distributed,
      earlyDiscount: r.early_discount,
      credited: r.credited,
      registerTxHash: r.register_tx_hash,
      registeredBlock: r.registered_block,
    },
    certificates: new Map(
      certificateRows.map((c) => [
        c.id,
        {
          receivableId: c.receivable_id,
          parentId: c.parent_id,
          holder: c.holder,
          faceValue: c.face_value,
          tier: c.tier,
          state: c.state,
          paidOut: c.paid_out,
          reduction: c.reduction,
          issuedTxHash: c.issued_tx_hash,
          issuedBlock: c.issued_block,
        },
      ]),
    ),
    requests: new Map(
      requestRows.map((f) => [
        f.id,
        {
          certificateId: f.certificate_id,
          holder: f.holder,
          kind: f.kind,
          price: f.price,
          repayAmount: f.repay_amount,
          outstanding: f.outstanding,
          status: f.status,
          financier: f.financier,
          shortfall: f.shortfall,
          openedTxHash: f.opened_tx_hash,
          fundedTxHash: f.funded_tx_hash,
        },
      ]),
    ),
  };
}

/** Issue 16's index rows of the receivable, and of claims and endorsements on its certificates. */
export async function readDilutionAndRecourseIndex(
  ctx: ServiceContext,
  receivableId: string,
  certificateIds: string[],
): Promise<DilutionAndRecourse> {
  const disputes = await ctx.db
    .selectFrom("onchain_disputes")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .execute();
  const notes = await ctx.db
    .selectFrom("onchain_credit_notes")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .execute();
  const cuts = await ctx.db
    .selectFrom("onchain_leaf_reductions")
    .selectAll()
    .where("receivable_id", "=", receivableId)
    .execute();
  const endorsementRows = [];
  const claimRows = [];
  const shortfallRows = [];
  for (const ids of chunks(certificateIds, 500)) {
    shortfallRows.push(
      ...(await ctx.db
        .selectFrom("onchain_pledge_shortfalls")
        .selectAll()
        .where("certificate_id", "in", ids)
        .execute()),
    );
    endorsementRows.push(
      ...(await ctx.db
        .selectFrom("onchain_recourse_endorsements")
        .selectAll()
        .where("certificate_id", "in", ids)
        .execute()),
    );
    claimRows.push(
      ...(await ctx.db.selectFrom("onchain_recourse_claims").selectAll().where("leaf_id", "in", ids).execute()),
    );
  }
  return {
    disputes: new Map(
      disputes.map((d) => [
        d.id,
        {
          receivableId: d.receivable_id,
          number: Number(d.dispute_number),
          debtor: d.debtor,
          reasonCode: d.reason_code,
          documentHash: d.document_hash,
          status: d.status,
          creditNoteId: d.credit_note_id,
          openedTxHash: d.opened_tx_hash,
          openedBlock: d.opened_block,
          closedTxHash: d.closed_tx_hash,
        },
      ]),
    ),
    creditNotes: new Map(
      notes.map((n) => [
        n.id,
        {
          receivableId: n.receivable_id,
          amount: n.amount,
          reasonCode: n.reason_code,
          documentHash: n.document_hash,
          sellerRespondBy: n.seller_respond_by,
          status: n.status,
          approvedBy: n.approved_by,
          retainedReduction: n.retained_reduction,
          sharedReduction: n.shared_reduction,
          proposedTxHash: n.proposed_tx_hash,
          proposedBlock: n.proposed_block,
          closedTxHash: n.closed_tx_hash,
        },
      ]),
    ),
    leafReductions: new Map(
      cuts.map((c) => [
        `${c.credit_note_id}/${c.certificate_id}`,
        {
          creditNoteId: c.credit_note_id,
          certificateId: c.certificate_id,
          holder: c.holder,
          reduction: c.reduction,
          claim: c.claim,
          retained: c.retained === 1,
          txHash: c.tx_hash,
        },
      ]),
    ),
    endorsements: new Map(
      endorsementRows.map((e) => [
        `${e.certificate_id}#${Number(e.endorsement_index)}`,
        {
          certificateId: e.certificate_id,
          endorsementIndex: Number(e.endorsement_index),
          endorser: e.endorser,
          txHash: e.tx_hash,
          blockNumber: e.block_number,
        },
      ]),
    ),
    claims: new Map(
      claimRows.map((c) => [
        c.id,
        {
          leafId: c.leaf_id,
          receivableId: c.receivable_id,
          kind: c.kind,
          status: c.status,
          creditor: c.creditor,
          guarantor: c.guarantor,
          guarantorCertificateId: c.guarantor_certificate_id,
          endorsementIndex: Number(c.endorsement_index),
          amount: c.amount,
          parentClaimId: c.parent_claim_id && c.parent_claim_id !== "0" ? c.parent_claim_id : null,
          openedTxHash: c.opened_tx_hash,
          openedBlock: c.opened_block,
          paidTxHash: c.paid_tx_hash,
          paidBy: c.paid_by,
        },
      ]),
    ),
    shortfalls: new Map(
      shortfallRows.map((f) => [
        `${f.block_number}:${f.log_index}`,
        {
          certificateId: f.certificate_id,
          requestId: f.request_id,
          pledgee: f.pledgee,
          outstanding: f.outstanding,
          claim: f.claim,
          txHash: f.tx_hash,
        },
      ]),
    ),
  };
}

/* ------------------------------------------------------------------ */
/*                               Comparisons                          */
/* ------------------------------------------------------------------ */

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

function compareRecords<T extends object>(
  chain: T | undefined,
  index: T | undefined,
  fields: Array<keyof T & string>,
  prefix: string,
  key: DifferenceKey,
  out: Difference[],
): void {
  if (!chain || !index) {
    if (chain || index)
      out.push({ ...key, field: `${prefix}exists`, chain: chain !== undefined, index: index !== undefined });
    return;
  }
  for (const field of fields) {
    const c = chain[field] as Scalar;
    const i = index[field] as Scalar;
    if (String(c) !== String(i)) out.push({ ...key, field: `${prefix}${field}`, chain: c, index: i });
  }
}

const RECEIVABLE_FIELDS: Array<keyof ChainReceivable> = [
  "seller",
  "debtor",
  "registrar",
  "faceValue",
  "dueDate",
  "documentHash",
  "rootCertificateId",
  "status",
  "repaidAmount",
  "distributed",
  "earlyDiscount",
  "credited",
  "registerTxHash",
  "registeredBlock",
];
const CERTIFICATE_FIELDS: Array<keyof ChainCertificate> = [
  "receivableId",
  "parentId",
  "holder",
  "faceValue",
  "tier",
  "state",
  "paidOut",
  "reduction",
  "issuedTxHash",
  "issuedBlock",
];
const REQUEST_FIELDS: Array<keyof ChainRequest> = [
  "certificateId",
  "holder",
  "kind",
  "price",
  "repayAmount",
  "outstanding",
  "status",
  "financier",
  "shortfall",
  "openedTxHash",
  "fundedTxHash",
];

const DISPUTE_FIELDS: Array<keyof ChainDispute> = [
  "receivableId",
  "number",
  "debtor",
  "reasonCode",
  "documentHash",
  "status",
  "creditNoteId",
  "openedTxHash",
  "openedBlock",
  "closedTxHash",
];
const CREDIT_NOTE_FIELDS: Array<keyof ChainCreditNote> = [
  "receivableId",
  "amount",
  "reasonCode",
  "documentHash",
  "sellerRespondBy",
  "status",
  "approvedBy",
  "retainedReduction",
  "sharedReduction",
  "proposedTxHash",
  "proposedBlock",
  "closedTxHash",
];
const LEAF_REDUCTION_FIELDS: Array<keyof ChainLeafReduction> = ["holder", "reduction", "claim", "retained", "txHash"];
const ENDORSEMENT_FIELDS: Array<keyof ChainEndorsement> = ["endorser", "txHash", "blockNumber"];
const SHORTFALL_FIELDS: Array<keyof ChainShortfall> = [
  "certificateId",
  "requestId",
  "pledgee",
  "outstanding",
  "claim",
  "txHash",
];
const CLAIM_FIELDS: Array<keyof ChainClaim> = [
  "leafId",
  "receivableId",
  "kind",
  "status",
  "creditor",
  "guarantor",
  "guarantorCertificateId",
  "endorsementIndex",
  "amount",
  "parentClaimId",
  "openedTxHash",
  "openedBlock",
  "paidTxHash",
  "paidBy",
];

/** Ids in the order of the chain: "<block>:<log index>" and "<a>/<b>", "<a>#<b>" compare part by part as numbers. */
function byCompoundId(a: string, b: string): number {
  const pa = a.split(/[:/#]/);
  const pb = b.split(/[:/#]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const order = byId(pa[i] ?? "0", pb[i] ?? "0");
    if (order !== 0) return order;
  }
  return 0;
}

function compareDilutionAndRecourse(chain: DilutionAndRecourse, index: DilutionAndRecourse, out: Difference[]): void {
  const ids = (table: keyof DilutionAndRecourse) =>
    [...new Set([...chain[table].keys(), ...index[table].keys()])].sort(byCompoundId);
  for (const id of ids("disputes"))
    compareRecords(chain.disputes.get(id), index.disputes.get(id), DISPUTE_FIELDS, "dispute.", { disputeId: id }, out);
  for (const id of ids("creditNotes"))
    compareRecords(
      chain.creditNotes.get(id),
      index.creditNotes.get(id),
      CREDIT_NOTE_FIELDS,
      "creditNote.",
      { creditNoteId: id },
      out,
    );
  for (const id of ids("leafReductions")) {
    const [creditNoteId, certificateId] = id.split("/") as [string, string];
    compareRecords(
      chain.leafReductions.get(id),
      index.leafReductions.get(id),
      LEAF_REDUCTION_FIELDS,
      "leafReduction.",
      { certificateId, creditNoteId },
      out,
    );
  }
  for (const id of ids("endorsements")) {
    const [certificateId, endorsementIndex] = id.split("#") as [string, string];
    compareRecords(
      chain.endorsements.get(id),
      index.endorsements.get(id),
      ENDORSEMENT_FIELDS,
      `recourse.endorsement[${endorsementIndex}].`,
      { certificateId },
      out,
    );
  }
  for (const id of ids("claims"))
    compareRecords(chain.claims.get(id), index.claims.get(id), CLAIM_FIELDS, "recourseClaim.", { claimId: id }, out);
  for (const id of ids("shortfalls")) {
    const certificateId = chain.shortfalls.get(id)?.certificateId ?? index.shortfalls.get(id)?.certificateId;
    compareRecords(
      chain.shortfalls.get(id),
      index.shortfalls.get(id),
      SHORTFALL_FIELDS,
      "pledgeShortfall.",
      { certificateId },
      out,
    );
  }
}

function compareWithIndex(chain: ChainView, index: IndexView): Difference[] {
  const out: Difference[] = [];
  compareRecords(chain.receivable, index.receivable, RECEIVABLE_FIELDS, "receivable.", {}, out);
  for (const id of [...new Set([...chain.certificates.keys(), ...index.certificates.keys()])].sort(byId)) {
    compareRecords(
      chain.certificates.get(id),
      index.certificates.get(id),
      CERTIFICATE_FIELDS,
      "",
      { certificateId: id },
      out,
    );
  }
  for (const id of [...new Set([...chain.requests.keys(), ...index.requests.keys()])].sort(byId)) {
    const certificateId = chain.requests.get(id)?.certificateId ?? index.requests.get(id)?.certificateId;
    compareRecords(
      chain.requests.get(id),
      index.requests.get(id),
      REQUEST_FIELDS,
      "financing.",
      { certificateId, requestId: id },
      out,
    );
  }
  compareDilutionAndRecourse(chain, index, out);
  return out;
}

/** The events' story against the contracts' own storage at the same block. */
async function compareWithContracts(
  ctx: ServiceContext,
  receivableId: string,
  chain: ChainView,
  blockTag: number,
): Promise<VerifyReport["contractView"]> {
  const differences: VerifyReport["contractView"]["differences"] = [];
  if (!chain.receivable)
    return { checked: false, note: "the receivable has no events on the chain", matches: true, differences };
  if (chain.certificates.size > MAX_VIEW_CHECKS) {
    return {
      checked: false,
      note: `more than ${MAX_VIEW_CHECKS} certificates: checked against events only`,
      matches: true,
      differences,
    };
  }
  const { registry, certificates, financing, escrow } = ctx.chain.contracts;
  const at = { blockTag };
  const check = (
    key: { certificateId?: string; requestId?: string },
    field: string,
    events: Scalar,
    contract: Scalar,
  ) => {
    if (String(events) !== String(contract)) differences.push({ ...key, field, events, contract });
  };
  try {
    const r = await registry.receivableOf(receivableId, at);
    const e = chain.receivable;
    // Registrar and document hash are not in the registry's storage (its lean layout keeps only
    // what contracts check): ReceivableRegistered is their one record, compared with the index above.
    check({}, "receivable.seller", e.seller, getAddress(r.seller));
    check({}, "receivable.debtor", e.debtor, getAddress(r.debtor));
    check({}, "receivable.status", e.status, RECEIVABLE_STATUSES[Number(r.status)] ?? "unknown");
    check({}, "receivable.faceValue", e.faceValue, r.faceValue.toString());
    check({}, "receivable.repaidAmount", e.repaidAmount, r.repaidAmount.toString());
    check({}, "receivable.dueDate", e.dueDate, Number(r.dueDate));
    check({}, "receivable.rootCertificateId", e.rootCertificateId, r.rootCertificateId.toString());
    check({}, "receivable.distributed", e.distributed, (await escrow.distributedOf(receivableId, at)).toString());
    check({}, "receivable.credited", e.credited, (await registry.creditedOf(receivableId, at)).toString());
    const { dilution } = ctx.chain.contracts;
    if (dilution) {
      check(
        {},
        "receivable.disputed",
        [...chain.disputes.values()].some((d) => d.status === "open"),
        await dilution.isDisputed(receivableId, at),
      );
      // The events' latest dispute number is the one the ledger holds (0 when none was opened).
      const [number] = await dilution.disputeOf(receivableId, at);
      check(
        {},
        "receivable.disputeNumber",
        Math.max(0, ...[...chain.disputes.values()].map((d) => d.number)),
        Number(number),
      );
    }

    for (const [id, c] of [...chain.certificates.entries()].sort(([a], [b]) => byId(a, b))) {
      const onChain = await certificates.certificateOf(id, at);
      const key = { certificateId: id };
      check(key, "receivableId", c.receivableId, onChain.receivableId);
      check(key, "parentId", c.parentId, onChain.parentId === 0n ? null : onChain.parentId.toString());
      check(key, "faceValue", c.faceValue, onChain.faceValue.toString());
      check(key, "tier", c.tier, Number(onChain.tier));
      check(key, "state", c.state, CERTIFICATE_STATES[Number(onChain.state)] ?? "unknown");
      if (c.state === "live" || c.state === "locked")
        check(key, "holder", c.holder, getAddress(await certificates.ownerOf(id, at)));
      const [, paidOut] = await escrow.entitlementOf(id, at);
      check(key, "paidOut", c.paidOut, paidOut.toString());
      if (dilution) check(key, "reduction", c.reduction, (await dilution.reductionOf(id, at)).toString());
    }
    for (const [id, q] of [...chain.requests.entries()].sort(([a], [b]) => byId(a, b))) {
      const onChain = await financing.requestOf(id, at);
      const key = { certificateId: q.certificateId, requestId: id };
      check(key, "financing.certificateId", q.certificateId, onChain.certificateId.toString());
      check(key, "financing.holder", q.holder, getAddress(onChain.holder));
      check(key, "financing.kind", q.kind, FINANCING_KIND[Number(onChain.kind)] ?? "unknown");
      check(key, "financing.status", q.status, REQUEST_STATUSES[Number(onChain.status)] ?? "unknown");
      check(
        key,
        "financing.financier",
        q.financier,
        onChain.financier === ZERO_ADDRESS ? null : getAddress(onChain.financier),
      );
      check(key, "financing.price", q.price, onChain.price.toString());
      check(key, "financing.repayAmount", q.repayAmount, onChain.repayAmount.toString());
      check(key, "financing.outstanding", q.outstanding, onChain.outstanding.toString());
    }
  } catch (error) {
    throw chainError(error);
  }
  return { checked: true, matches: differences.length === 0, differences };
}
