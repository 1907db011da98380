// Use case for auditors: is the service's index of one receivable what the chain says?
// One side is rebuilt here from the contracts' logs alone (eth_getLogs from the
// deployment block, filtered by the receivable's id and then by its certificates' and
// requests' ids), replayed by a reducer of its own — not the indexer's projections and
// not the onchain_* tables. The other side is the index. A third opinion comes from the
// contracts' view functions at the same block, where that is cheap.
import { getAddress, toBeHex, zeroPadValue, type BaseContract, type Log, type LogDescription } from "ethers";
import { z } from "zod";
import type { ServiceContext } from "../../context.js";
import { notFound } from "../../model/errors.js";
import { chainError } from "../../chain/revert-errors.js";
import { requireRole, type Actor } from "../../model/actor.js";
import { CERTIFICATE_STATES, RECEIVABLE_STATUSES, REQUEST_STATUSES } from "../../model/contract-enums.js";

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
        field: z.string(),
        chain: Value,
        index: Value,
      }),
    ),
    checkedCertificates: z.number(),
    checkedFinancingRequests: z.number(),
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

interface ChainView {
  receivable: ChainReceivable | undefined;
  certificates: Map<string, ChainCertificate>;
  requests: Map<string, ChainRequest>;
  events: number;
  fromBlock: number;
}

interface DecodedLog {
  contract: "registry" | "certificates" | "financing" | "escrow";
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
      const parsed = contract.interface.parseLog({ topics: [...log.topics], data: log.data });
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
      ["ReceivableRegistered", "RepaymentRecorded", "ReceivableStatusChanged", "ReceivableDischargedEarly"].map((n) =>
        topic(registry, n),
      ),
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

  const unique = new Map(decoded.map((e) => [`${e.blockNumber}:${e.logIndex}`, e]));
  const ordered = [...unique.values()].sort((a, b) => a.blockNumber - b.blockNumber || a.logIndex - b.logIndex);
  return { ...replay(ordered), events: ordered.length, fromBlock };
}

/** The receivable, its certificates and their financing requests, as the events tell it. */
function replay(events: DecodedLog[]): Omit<ChainView, "events" | "fromBlock"> {
  let receivable: ChainReceivable | undefined;
  const certificates = new Map<string, ChainCertificate>();
  const requests = new Map<string, ChainRequest>();
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
      default:
        break;
    }
  }
  return { receivable, certificates, requests };
}

/* ------------------------------------------------------------------ */
/*                               The index                            */
/* ------------------------------------------------------------------ */

interface IndexView {
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

/* ------------------------------------------------------------------ */
/*                               Comparisons                          */
/* ------------------------------------------------------------------ */

const byId = (a: string, b: string) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0);

function compareRecords<T extends object>(
  chain: T | undefined,
  index: T | undefined,
  fields: Array<keyof T & string>,
  prefix: string,
  key: { certificateId?: string; requestId?: string },
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
