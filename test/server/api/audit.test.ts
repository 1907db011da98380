// Auditing through the API and the command line: one receivable split over three tiers,
// a piece transferred, a piece sold at a discount, a piece pledged, repaid in two halves
// and settled — then traced (JSON, text, DOT, Mermaid), verified against the chain's
// events (and caught out when the index is tampered with), and every party's exposure
// read, all against hand-computed values. Financing, repayment and settlement are sent
// directly on-chain with the parties' custodial keys.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { MaxUint256, Wallet, type BaseContract, type TransactionReceipt } from "ethers";
import { freePort, startTestService, type TestService } from "../harness.js";
import { ApiClient } from "../client.js";
import { createTestParty, validSubmission, type TestParty } from "../scenario.js";

const REPO = path.resolve(import.meta.dirname, "../../..");
const T = (whole: number) => (BigInt(whole) * 1_000_000n).toString(); // tUSD, 6 decimals
const BUCKETS = ["overdue", "0-30", "31-60", "61-90", "91-180", ">180"] as const;
const buckets = (amounts: Partial<Record<(typeof BUCKETS)[number], string>>) =>
  Object.fromEntries(BUCKETS.map((b) => [b, amounts[b] ?? "0"]));
const iso = (daysFromNow: number) => new Date(Date.now() + daysFromNow * 86_400_000).toISOString();
/** The due date as the service stores it: unix seconds. */
const dueIso = (isoDate: string) => new Date(Math.floor(Date.parse(isoDate) / 1000) * 1000).toISOString();
const nextId = (id: string, plus: number) => (BigInt(id) + BigInt(plus)).toString();

interface NamedParty extends TestParty {
  name: string;
}

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      path.join(REPO, "node_modules/.bin/tsx"),
      ["scripts/audit.ts", ...args],
      {
        cwd: REPO,
        env: { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, TIERLINE_API_KEY: "" },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("API: auditing a receivable's certificate tree", function () {
  this.timeout(300_000);
  let t: TestService;
  let api: ApiClient;
  let operator: ApiClient;
  let auditorApi: ApiClient;
  let acme: NamedParty; // tier-1 seller
  let northwind: NamedParty; // debtor
  let bolt: NamedParty; // tier 2 (and debtor of the second receivable)
  let coil: NamedParty; // tier 3
  let harbor: NamedParty; // buys at a discount
  let summit: NamedParty; // lends against a pledge
  let auditor: NamedParty;
  let outsider: NamedParty;

  // The receivable under audit and everything that happened to it.
  let receivableId: string;
  let dueDate: string;
  let root: string; // Acme, tier 1, 1000
  let toBolt: string; // root+1: Bolt, tier 2, 600 (split again)
  let acmeKept: string; // root+2: Acme, tier 1, 400, transferred to Coil
  let toCoil: string; // root+3: Coil, tier 3, 200, sold to Harbor
  let boltKept: string; // root+4: Bolt, tier 2, 400, pledged to Summit
  let discountRequest: string;
  let pledgeRequest: string;
  const tx: Record<string, string> = {};
  const block: Record<string, number> = {};

  // A second, smaller receivable: Coil sells to Bolt, due in 20 days, root held by Coil.
  let second: { id: string; root: string; dueDate: string };

  const ref = (p: NamedParty) => ({ address: p.address, partyId: p.id, name: p.name });

  async function party(roles: string[], name: string): Promise<NamedParty> {
    return { ...(await createTestParty(operator, roles, { name })), name };
  }

  /** Sends `fn` from the party's custodial key and waits until the index has it. */
  async function asParty(
    p: NamedParty,
    contract: BaseContract,
    fn: string,
    ...args: unknown[]
  ): Promise<TransactionReceipt> {
    const { ctx } = t.service;
    const row = await ctx.db
      .selectFrom("parties")
      .select("encrypted_key")
      .where("id", "=", p.id)
      .executeTakeFirstOrThrow();
    const wallet = new Wallet(ctx.vault.decrypt(row.encrypted_key!));
    const request = await contract.getFunction(fn).populateTransaction(...args);
    const receipt = await ctx.chain.senderFor(wallet).send(request, { kind: `test:${fn}`, ref: p.id });
    await ctx.indexer.sync(receipt.blockNumber);
    return receipt;
  }

  async function asRegistrar(contract: BaseContract, fn: string, ...args: unknown[]): Promise<TransactionReceipt> {
    const { ctx } = t.service;
    const receipt = await ctx.chain.registrar.send(await contract.getFunction(fn).populateTransaction(...args), {
      kind: `test:${fn}`,
      ref: "audit-test",
    });
    await ctx.indexer.sync(receipt.blockNumber);
    return receipt;
  }

  async function register(
    seller: NamedParty,
    debtor: NamedParty,
    quantity: number,
    dueInDays: number,
  ): Promise<{ id: string; root: string; dueDate: string; txHash: string }> {
    const submission = validSubmission(debtor.id, { quantity });
    submission.invoice.dueDate = iso(dueInDays);
    const submitted = await api.as(seller.apiKey).post("/v1/receivables", submission);
    expect(submitted.status, JSON.stringify(submitted.body)).to.equal(201);
    const confirmed = await api.as(debtor.apiKey).post(`/v1/receivables/${submitted.body.id}/confirm`);
    expect(confirmed.status, JSON.stringify(confirmed.body)).to.equal(200);
    return {
      id: submitted.body.id,
      root: confirmed.body.certificateId,
      dueDate: dueIso(submission.invoice.dueDate),
      txHash: confirmed.body.txHash,
    };
  }

  const record = (name: string, receipt: { hash: string; blockNumber: number }) => {
    tx[name] = receipt.hash;
    block[name] = receipt.blockNumber;
  };
  const blockOf = async (hash: string) => (await t.service.ctx.chain.provider.getTransactionReceipt(hash))!.blockNumber;

  const get = (client: ApiClient, route: string) => client.get(route);
  const trace = (format = "json", client = auditorApi) =>
    get(client, `/v1/audit/receivables/${receivableId}/trace?format=${format}`);
  const exposure = async (p: NamedParty) => {
    const response = await get(auditorApi, `/v1/audit/parties/${p.id}/exposure`);
    expect(response.status, JSON.stringify(response.body)).to.equal(200);
    return response.body;
  };

  before(async function () {
    t = await startTestService({ TIERLINE_KEEPER: "false" });
    api = new ApiClient(() => t.baseUrl);
    operator = api.as(t.operatorKey);
    acme = await party(["supplier"], "Acme Components");
    northwind = await party(["debtor"], "Northwind Mart");
    bolt = await party(["supplier", "debtor"], "Bolt Metals");
    coil = await party(["supplier"], "Coil Wire Co");
    harbor = await party(["financier"], "Harbor Bank");
    summit = await party(["financier"], "Summit Factoring");
    auditor = await party(["auditor"], "Ledger Audit");
    outsider = await party(["supplier"], "Outsider Supply");
    auditorApi = api.as(auditor.apiKey);

    const { token, financing, escrow } = t.service.ctx.chain.contracts;
    for (const p of [northwind, harbor, summit]) await asRegistrar(token, "mint", p.address, BigInt(T(10_000)));
    await asParty(harbor, token, "approve", financing.target, MaxUint256);
    await asParty(summit, token, "approve", financing.target, MaxUint256);
    await asParty(northwind, token, "approve", escrow.target, MaxUint256);

    const other = await register(coil, bolt, 250, 20);
    second = { id: other.id, root: other.root, dueDate: other.dueDate };

    // Due in 45 days, in the middle of the 31-60 bucket: at exactly 60 the bucket hung on
    // whether the chain's latest block was a second behind the clock that set the due date.
    const main = await register(acme, northwind, 1000, 45);
    receivableId = main.id;
    dueDate = main.dueDate;
    root = main.root;
    tx.register = main.txHash;
    block.register = await blockOf(main.txHash);
    [toBolt, acmeKept, toCoil, boltKept] = [1, 2, 3, 4].map((n) => nextId(root, n)) as [string, string, string, string];

    const split1 = await api.as(acme.apiKey).post(`/v1/certificates/${root}/split`, {
      parts: [
        { toPartyId: bolt.id, amount: T(600) },
        { toPartyId: acme.id, amount: T(400) },
      ],
    });
    expect(split1.status, JSON.stringify(split1.body)).to.equal(200);
    expect(split1.body.children.map((c: { id: string }) => c.id)).to.deep.equal([toBolt, acmeKept]);
    record("split1", { hash: split1.body.txHash, blockNumber: await blockOf(split1.body.txHash) });

    const split2 = await api.as(bolt.apiKey).post(`/v1/certificates/${toBolt}/split`, {
      parts: [
        { toPartyId: coil.id, amount: T(200) },
        { toPartyId: bolt.id, amount: T(400) },
      ],
    });
    expect(split2.status, JSON.stringify(split2.body)).to.equal(200);
    expect(split2.body.children.map((c: { id: string }) => c.id)).to.deep.equal([toCoil, boltKept]);
    record("split2", { hash: split2.body.txHash, blockNumber: await blockOf(split2.body.txHash) });

    const transfer = await api.as(acme.apiKey).post(`/v1/certificates/${acmeKept}/transfer`, { toPartyId: coil.id });
    expect(transfer.status, JSON.stringify(transfer.body)).to.equal(200);
    record("transfer", { hash: transfer.body.txHash, blockNumber: await blockOf(transfer.body.txHash) });

    record("openDiscount", await asParty(coil, financing, "openRequest", toCoil, 0, T(190), 0));
    discountRequest = (await financing.getFunction("requestCount")()).toString();
    const coilClaim = await financing.getFunction("remainingClaimOf")(toCoil);
    record("fundDiscount", await asParty(harbor, financing, "fund", discountRequest, T(190), 0, coilClaim));

    record("openPledge", await asParty(bolt, financing, "openRequest", boltKept, 1, T(300), T(320)));
    pledgeRequest = (await financing.getFunction("requestCount")()).toString();
    const boltClaim = await financing.getFunction("remainingClaimOf")(boltKept);
    record("fundPledge", await asParty(summit, financing, "fund", pledgeRequest, T(300), T(320), boltClaim));
  });

  after(async function () {
    await t?.close();
  });

  describe("when the tree is split over three tiers, a piece transferred, one sold and one pledged", function () {
    it("traces every certificate with its holder, tier, face value and state", async function () {
      const response = await trace();
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const flat: Array<[string, string | null, number, string, string]> = [];
      const walk = (node: any) => {
        flat.push([node.certificateId, node.holder.name, node.tier, node.faceValue, node.state]);
        node.children.forEach(walk);
      };
      walk(response.body.root);
      expect(flat).to.deep.equal([
        [root, "Acme Components", 1, T(1000), "retired"],
        [toBolt, "Bolt Metals", 2, T(600), "retired"],
        [toCoil, "Harbor Bank", 3, T(200), "live"],
        [boltKept, "Bolt Metals", 2, T(400), "locked"],
        [acmeKept, "Coil Wire Co", 1, T(400), "live"],
      ]);
      expect(response.body.conservation).to.deep.equal({
        rootFace: T(1000),
        liveLeafFaceSum: T(1000),
        leafCount: 3,
        retiredCount: 2,
        credited: "0",
        liveLeafClaimSum: T(1000),
        conserves: true,
        brokenSplits: [],
      });
    });

    it("shows the pledge as outstanding in the text tree", async function () {
      const response = await trace("text");
      expect(response.status).to.equal(200);
      expect(response.body).to.contain(`│   └── #${boltKept}  tier 2  Bolt Metals  400.000000 tUSD  locked\n`);
      expect(response.body).to.contain(
        `│           ↳ pledge request #${pledgeRequest} pledged with Summit Factoring, lent 300.000000 tUSD, repay 320.000000 tUSD, outstanding 320.000000 tUSD\n`,
      );
    });

    it("counts what a holder is owed directly at tier 1, by debtor and by maturity", async function () {
      const body = await exposure(coil);
      expect(body.party).to.deep.equal({
        id: coil.id,
        name: "Coil Wire Co",
        address: coil.address,
        roles: ["supplier"],
      });
      expect(body.owed).to.deep.equal({
        total: T(650),
        direct: T(650),
        throughTiers: "0",
        byTier: [{ tier: 1, amount: T(650), certificates: 2 }],
        byDebtor: [
          { debtor: ref(northwind), amount: T(400), certificates: 1, byMaturity: buckets({ "31-60": T(400) }) },
          { debtor: ref(bolt), amount: T(250), certificates: 1, byMaturity: buckets({ "0-30": T(250) }) },
        ],
        byMaturity: buckets({ "0-30": T(250), "31-60": T(400) }),
        count: 2,
        certificatesNextCursor: null,
        certificates: [
          {
            certificateId: second.root,
            receivableId: second.id,
            tier: 1,
            state: "live",
            faceValue: T(250),
            claim: T(250),
            paidOut: "0",
            owed: T(250),
            debtor: ref(bolt),
            dueDate: second.dueDate,
            maturity: "0-30",
            receivableStatus: "active",
            pledge: null,
          },
          {
            certificateId: acmeKept,
            receivableId,
            tier: 1,
            state: "live",
            faceValue: T(400),
            claim: T(400),
            paidOut: "0",
            owed: T(400),
            debtor: ref(northwind),
            dueDate,
            maturity: "31-60",
            receivableStatus: "active",
            pledge: null,
          },
        ],
      });
      // Coil sold its tier-3 piece: nothing owed on it any more, nothing owed as a debtor or financier.
      expect(body.owes).to.deep.equal({
        total: "0",
        byMaturity: buckets({}),
        count: 0,
        receivables: [],
        receivablesNextCursor: null,
      });
      expect(body.asFinancier).to.deep.equal({
        pledgesOutstanding: "0",
        collateralShortfall: "0",
        pledgeCount: 0,
        pledges: [],
        pledgesNextCursor: null,
        certificatesBought: { count: 0, pricePaid: "0", faceValue: "0", stillHeldOwed: "0" },
        purchases: [],
        purchasesNextCursor: null,
      });
    });

    it("counts a pledged piece two tiers down as owed through the tiers, with the pledge ahead of it, and what the pledgor owes as a debtor", async function () {
      const body = await exposure(bolt);
      expect(body.owed.total).to.equal(T(400));
      expect(body.owed.direct).to.equal("0");
      expect(body.owed.throughTiers).to.equal(T(400));
      expect(body.owed.byTier).to.deep.equal([{ tier: 2, amount: T(400), certificates: 1 }]);
      expect(body.owed.certificates).to.deep.equal([
        {
          certificateId: boltKept,
          receivableId,
          tier: 2,
          state: "locked",
          faceValue: T(400),
          claim: T(400),
          paidOut: "0",
          owed: T(400),
          debtor: ref(northwind),
          dueDate,
          maturity: "31-60",
          receivableStatus: "active",
          pledge: { requestId: pledgeRequest, pledgee: ref(summit), outstanding: T(320), collateralShortfall: "0" },
        },
      ]);
      expect(body.owes).to.deep.equal({
        total: T(250),
        byMaturity: buckets({ "0-30": T(250) }),
        count: 1,
        receivablesNextCursor: null,
        receivables: [
          {
            receivableId: second.id,
            seller: ref(coil),
            faceValue: T(250),
            creditedAmount: "0",
            repaidAmount: "0",
            outstanding: T(250),
            dueDate: second.dueDate,
            maturity: "0-30",
            status: "active",
          },
        ],
      });
    });

    it("counts the discount buyer's certificate at tier 3 and what it paid for it", async function () {
      const body = await exposure(harbor);
      expect(body.owed).to.include({ total: T(200), direct: "0", throughTiers: T(200) });
      expect(body.owed.byTier).to.deep.equal([{ tier: 3, amount: T(200), certificates: 1 }]);
      expect(body.asFinancier).to.deep.equal({
        pledgesOutstanding: "0",
        collateralShortfall: "0",
        pledgeCount: 0,
        pledges: [],
        pledgesNextCursor: null,
        certificatesBought: { count: 1, pricePaid: T(190), faceValue: T(200), stillHeldOwed: T(200) },
        purchasesNextCursor: null,
        purchases: [
          {
            requestId: discountRequest,
            certificateId: toCoil,
            receivableId,
            seller: ref(coil),
            price: T(190),
            faceValue: T(200),
            paidOut: "0",
            state: "live",
            stillHeld: true,
            fundedTxHash: tx.fundDiscount,
          },
        ],
      });
    });

    it("counts the pledgee's loan outstanding", async function () {
      const body = await exposure(summit);
      expect(body.owed.total).to.equal("0");
      expect(body.asFinancier.pledgesOutstanding).to.equal(T(320));
      expect(body.asFinancier.pledges).to.deep.equal([
        {
          requestId: pledgeRequest,
          certificateId: boltKept,
          receivableId,
          pledgor: ref(bolt),
          debtor: ref(northwind),
          lent: T(300),
          repayAmount: T(320),
          outstanding: T(320),
          collateralShortfall: "0",
          dueDate,
          maturity: "31-60",
        },
      ]);
    });

    it("counts what the debtor owes by maturity", async function () {
      const body = await exposure(northwind);
      expect(body.owed.total).to.equal("0");
      expect(body.owes).to.deep.equal({
        total: T(1000),
        byMaturity: buckets({ "31-60": T(1000) }),
        count: 1,
        receivablesNextCursor: null,
        receivables: [
          {
            receivableId,
            seller: ref(acme),
            faceValue: T(1000),
            creditedAmount: "0",
            repaidAmount: "0",
            outstanding: T(1000),
            dueDate,
            maturity: "31-60",
            status: "active",
          },
        ],
      });
    });
  });

  describe("when the debtor has repaid half and the leaves are settled", function () {
    before(async function () {
      const { escrow } = t.service.ctx.chain.contracts;
      record("repay1", await asParty(northwind, escrow, "repay", receivableId, T(500)));
      record("settle1", await asRegistrar(escrow, "settle", receivableId, [acmeKept, toCoil, boltKept]));
    });

    it("owes each holder its face value less its pro-rata payout, and the pledgee got paid first", async function () {
      // 500 of 1000 repaid: every leaf got half its face; the pledged leaf's half (200) went to the pledgee.
      expect((await exposure(coil)).owed).to.include({ total: T(200 + 250), direct: T(450) });
      expect(
        (await exposure(harbor)).owed.certificates.map((c: { owed: string; paidOut: string }) => [c.paidOut, c.owed]),
      ).to.deep.equal([[T(100), T(100)]]);
      expect((await exposure(harbor)).asFinancier.certificatesBought.stillHeldOwed).to.equal(T(100));
      const boltOwed = (await exposure(bolt)).owed;
      expect(boltOwed.total).to.equal(T(200));
      expect(boltOwed.certificates[0].pledge).to.deep.equal({
        requestId: pledgeRequest,
        pledgee: ref(summit),
        outstanding: T(120),
        collateralShortfall: "0",
      });
      expect((await exposure(summit)).asFinancier.pledgesOutstanding).to.equal(T(120));
      const owes = (await exposure(northwind)).owes;
      expect(owes.total).to.equal(T(500));
      expect(owes.receivables[0]).to.include({ repaidAmount: T(500), outstanding: T(500) });
    });
  });

  describe("when the debtor has repaid in full and every leaf is settled", function () {
    before(async function () {
      const { escrow } = t.service.ctx.chain.contracts;
      record("repay2", await asParty(northwind, escrow, "repay", receivableId, T(500)));
      record("settle2", await asRegistrar(escrow, "settle", receivableId, [acmeKept, toCoil, boltKept]));
    });

    it("traces the exact tree from the root to every settled leaf, with financing and payouts", async function () {
      const response = await trace();
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const body = response.body;
      expect(body.receivable).to.deep.equal({
        id: receivableId,
        seller: ref(acme),
        debtor: ref(northwind),
        registrar: t.service.ctx.chain.registrar.address,
        faceValue: T(1000),
        dueDate,
        status: "repaid",
        repaidAmount: T(1000),
        creditedAmount: "0",
        owedAmount: T(1000),
        distributed: T(1000),
        earlyDiscount: "0",
        documentHash: (await api.as(acme.apiKey).get(`/v1/receivables/${receivableId}`)).body.documentHash,
        rootCertificateId: root,
        registerTxHash: tx.register,
        registeredBlock: block.register,
      });
      expect(body.certificateCount).to.equal(5);
      expect(body.root).to.deep.equal({
        certificateId: root,
        parentId: null,
        tier: 1,
        holder: ref(acme),
        faceValue: T(1000),
        state: "retired",
        financing: [],
        paidOut: "0",
        reduction: "0",
        claim: T(1000),
        dilutions: [],
        endorsements: [],
        recourseClaims: [],
        collateralShortfalls: [],
        issuedTxHash: tx.register,
        issuedBlock: block.register,
        children: [
          {
            certificateId: toBolt,
            parentId: root,
            tier: 2,
            holder: ref(bolt),
            faceValue: T(600),
            state: "retired",
            financing: [],
            paidOut: "0",
            reduction: "0",
            claim: T(600),
            dilutions: [],
            endorsements: [],
            recourseClaims: [],
            collateralShortfalls: [],
            issuedTxHash: tx.split1,
            issuedBlock: block.split1,
            children: [
              {
                certificateId: toCoil,
                parentId: toBolt,
                tier: 3,
                holder: ref(harbor),
                faceValue: T(200),
                state: "settled",
                financing: [
                  {
                    requestId: discountRequest,
                    kind: "discount",
                    price: T(190),
                    repayAmount: "0",
                    status: "sold",
                    financier: ref(harbor),
                    outstanding: "0",
                    shortfall: null,
                    collateralShortfall: "0",
                    openedTxHash: tx.openDiscount,
                    fundedTxHash: tx.fundDiscount,
                  },
                ],
                paidOut: T(200),
                reduction: "0",
                claim: T(200),
                dilutions: [],
                endorsements: [],
                recourseClaims: [],
                collateralShortfalls: [],
                issuedTxHash: tx.split2,
                issuedBlock: block.split2,
                children: [],
              },
              {
                certificateId: boltKept,
                parentId: toBolt,
                tier: 2,
                holder: ref(bolt),
                faceValue: T(400),
                state: "settled",
                financing: [
                  {
                    requestId: pledgeRequest,
                    kind: "pledge",
                    price: T(300),
                    repayAmount: T(320),
                    status: "released",
                    financier: ref(summit),
                    outstanding: "0",
                    shortfall: "0",
                    collateralShortfall: "0",
                    openedTxHash: tx.openPledge,
                    fundedTxHash: tx.fundPledge,
                  },
                ],
                paidOut: T(400),
                reduction: "0",
                claim: T(400),
                dilutions: [],
                endorsements: [],
                recourseClaims: [],
                collateralShortfalls: [],
                issuedTxHash: tx.split2,
                issuedBlock: block.split2,
                children: [],
              },
            ],
          },
          {
            certificateId: acmeKept,
            parentId: root,
            tier: 1,
            holder: ref(coil),
            faceValue: T(400),
            state: "settled",
            financing: [],
            paidOut: T(400),
            reduction: "0",
            claim: T(400),
            dilutions: [],
            endorsements: [],
            recourseClaims: [],
            collateralShortfalls: [],
            issuedTxHash: tx.split1,
            issuedBlock: block.split1,
            children: [],
          },
        ],
      });
      expect(body.conservation).to.deep.equal({
        rootFace: T(1000),
        liveLeafFaceSum: T(1000),
        leafCount: 3,
        retiredCount: 2,
        credited: "0",
        liveLeafClaimSum: T(1000),
        conserves: true,
        brokenSplits: [],
      });
    });

    it("lists every transaction that touched the tree, in order, and none of the other receivable's", async function () {
      const body = (await trace()).body;
      expect(
        body.transactions.map((x: { txHash: string; kind: string; blockNumber: number }) => [
          x.txHash,
          x.kind,
          x.blockNumber,
        ]),
      ).to.deep.equal([
        [tx.register, "registration", block.register],
        [tx.split1, "split", block.split1],
        [tx.split2, "split", block.split2],
        [tx.transfer, "transfer", block.transfer],
        [tx.openDiscount, "financing-request", block.openDiscount],
        [tx.fundDiscount, "financing", block.fundDiscount],
        [tx.openPledge, "financing-request", block.openPledge],
        [tx.fundPledge, "financing", block.fundPledge],
        [tx.repay1, "repayment", block.repay1],
        [tx.settle1, "settlement", block.settle1],
        [tx.repay2, "repayment", block.repay2],
        [tx.settle2, "settlement", block.settle2],
      ]);
      const names = (hash: string | undefined) =>
        body.transactions
          .find((x: { txHash: string }) => x.txHash === hash)
          .events.map((e: { contract: string; name: string }) => `${e.contract}.${e.name}`);
      expect(names(tx.register)).to.deep.equal([
        "certificates.Transfer",
        "certificates.CertificateIssued",
        "registry.ReceivableRegistered",
        "registry.ReceivableTermsFrozen", // the grace period and early rate frozen for its whole life
      ]);
      expect(names(tx.fundDiscount)).to.deep.equal([
        "financing.FinancingFunded",
        "certificates.CertificateLockLifted",
        "certificates.Transfer",
      ]);
      expect(names(tx.repay2)).to.deep.equal([
        "registry.RepaymentRecorded",
        "registry.ReceivableStatusChanged",
        "escrow.RepaymentReceived",
      ]);
      expect(names(tx.settle2)).to.deep.equal([
        "escrow.LeafSettled",
        "certificates.Transfer",
        "certificates.CertificateSettled",
        "escrow.LeafSettled",
        "certificates.Transfer",
        "certificates.CertificateSettled",
        "escrow.LeafSettled",
        "financing.PledgeRepaid",
        "financing.PledgeReleased",
        "certificates.CertificateLockLifted",
        "certificates.Transfer",
        "certificates.CertificateSettled",
      ]);
    });

    it("renders the tree as text with box-drawing lines, names, tiers, states, amounts and financing", async function () {
      const response = await trace("text");
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
      const lines = (response.body as string).split("\n");
      const start = lines.indexOf("Certificates (5):");
      expect(lines.slice(start + 1, start + 8)).to.deep.equal([
        `#${root}  tier 1  Acme Components  1000.000000 tUSD  retired`,
        `├── #${toBolt}  tier 2  Bolt Metals  600.000000 tUSD  retired`,
        `│   ├── #${toCoil}  tier 3  Harbor Bank  200.000000 tUSD  settled, paid out 200.000000 tUSD`,
        `│   │       ↳ discount request #${discountRequest} sold to Harbor Bank, price 190.000000 tUSD`,
        `│   └── #${boltKept}  tier 2  Bolt Metals  400.000000 tUSD  settled, paid out 400.000000 tUSD`,
        `│           ↳ pledge request #${pledgeRequest} released with Summit Factoring, lent 300.000000 tUSD, repay 320.000000 tUSD, outstanding 0.000000 tUSD, shortfall 0.000000 tUSD`,
        `└── #${acmeKept}  tier 1  Coil Wire Co  400.000000 tUSD  settled, paid out 400.000000 tUSD`,
      ]);
      expect(lines[0]).to.equal(`Receivable ${receivableId}`);
      expect(lines).to.include(`  seller      Acme Components (${acme.id}) ${acme.address}`);
      expect(lines).to.include(
        "  repaid      1000.000000 tUSD, distributed 1000.000000 tUSD, early discount 0.000000 tUSD",
      );
      expect(lines).to.include(
        "Conservation: leaves 1000.000000 tUSD = root 1000.000000 tUSD (3 leaves, 2 retired): conserves",
      );
      expect(lines.filter((l) => l.startsWith("  block "))).to.have.length(12);
      expect(lines.find((l) => l.includes(tx.transfer!))).to.match(
        new RegExp(`^  block +${block.transfer}  transfer +${tx.transfer}  Transfer$`),
      );
    });

    it("renders Graphviz DOT with one node per certificate and one edge per split", async function () {
      const response = await trace("dot");
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.equal("text/vnd.graphviz; charset=utf-8");
      const text = response.body as string;
      expect(text.startsWith("digraph")).to.equal(true);
      expect(text.trimEnd().endsWith("}")).to.equal(true);
      const nodes = [...text.matchAll(/^ {2}c(\d+) \[label=/gm)].map((m) => m[1]);
      const edges = [...text.matchAll(/^ {2}c(\d+) -> c(\d+);$/gm)].map((m) => [m[1], m[2]]);
      expect(nodes).to.deep.equal([root, toBolt, toCoil, boltKept, acmeKept]);
      expect(edges).to.deep.equal([
        [root, toBolt],
        [root, acmeKept],
        [toBolt, toCoil],
        [toBolt, boltKept],
      ]);
    });

    it("renders a Mermaid flowchart with one node per certificate and one edge per split", async function () {
      const response = await trace("mermaid");
      expect(response.status).to.equal(200);
      expect(response.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
      const text = response.body as string;
      expect(text.split("\n")[0]).to.equal("graph TD");
      expect([...text.matchAll(/^ {2}c(\d+)\["/gm)].map((m) => m[1])).to.deep.equal([
        root,
        toBolt,
        toCoil,
        boltKept,
        acmeKept,
      ]);
      expect([...text.matchAll(/^ {2}c(\d+) --> c(\d+)$/gm)]).to.have.length(4);
      expect(text).to.contain(`  class c${root},c${toBolt} retired\n`);
      expect(text).to.contain(`  class c${toCoil},c${boltKept},c${acmeKept} settled\n`);
    });

    it("refuses an unknown format", async function () {
      const response = await trace("pdf");
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal("VALIDATION_FAILED");
      expect(response.body.error.details.fields[0].path).to.equal("query.format");
    });

    it("finds the index in agreement with the chain's events and the contracts' views", async function () {
      const response = await get(auditorApi, `/v1/audit/verify/${receivableId}`);
      expect(response.status, JSON.stringify(response.body)).to.equal(200);
      const body = response.body;
      expect(body.differences).to.deep.equal([]);
      expect(body.matches).to.equal(true);
      expect(body.checkedCertificates).to.equal(5);
      expect(body.checkedFinancingRequests).to.equal(2);
      // registry 4 (registered, 2 repayments, repaid) + issued 5 + splits 2 + locks placed 2 + lifted 2
      // + settled 3 + ERC-721 transfers 12 (5 mints, 5 burns, 1 transfer, 1 delivery)
      // + financing 5 (2 requested, 2 funded, 1 released) + pledge repaid 2 + escrow 8 (2 repayments, 6 leaf payouts)
      expect(body.chainEvents).to.equal(45);
      expect(body.fromBlock).to.equal(block.register);
      expect(body.asOfBlock).to.be.at.least(block.settle2);
      expect(body.contractView).to.deep.equal({ checked: true, matches: true, differences: [] });
    });

    it("journals the wallets' ERC-4906 refresh signals without letting them into the trace or the verify", async function () {
      const tree = new Set([root, toBolt, acmeKept, toCoil, boltKept]);
      const rows = await t.service.ctx.db
        .selectFrom("chain_events")
        .select(["tx_hash", "args"])
        .where("contract", "=", "certificates")
        .where("name", "in", ["MetadataUpdate", "BatchMetadataUpdate"])
        .where("block_number", ">=", block.register!)
        .orderBy("block_number")
        .orderBy("log_index")
        .execute();
      const updates = rows
        .map((r) => [r.tx_hash, Object.values(JSON.parse(r.args) as Record<string, string>).join("-")])
        .filter(([, ids]) => ids!.split("-").every((id) => tree.has(id)));
      const leaves = [acmeKept, toCoil, boltKept];
      expect(updates).to.deep.equal([
        [tx.split1, root], // retired
        [tx.split2, toBolt], // retired
        [tx.openDiscount, toCoil], // locked
        [tx.fundDiscount, toCoil], // delivered, unlocked
        [tx.openPledge, boltKept], // locked (stays locked while pledged)
        [tx.settle1, `${acmeKept}-${boltKept}`], // paid half: one range over the batch
        ...leaves.map((id) => [tx.settle2, id]), // settled
      ]);
      const body = (await trace()).body;
      const traced = body.transactions.flatMap((x: { events: Array<{ name: string }> }) => x.events.map((e) => e.name));
      expect(traced).to.include("CertificateSettled");
      expect(traced).not.to.include("MetadataUpdate");
    });

    describe("when someone rewrote a holder in the index", function () {
      before(async function () {
        await t.service.ctx.db
          .updateTable("onchain_certificates")
          .set({ holder: acme.address })
          .where("id", "=", acmeKept)
          .execute();
      });
      after(async function () {
        await t.service.ctx.db
          .updateTable("onchain_certificates")
          .set({ holder: coil.address })
          .where("id", "=", acmeKept)
          .execute();
      });

      it("reports exactly that holder, with the chain's and the index's value", async function () {
        const body = (await get(auditorApi, `/v1/audit/verify/${receivableId}`)).body;
        expect(body.matches).to.equal(false);
        expect(body.differences).to.deep.equal([
          { certificateId: acmeKept, field: "holder", chain: coil.address, index: acme.address },
        ]);
        expect(body.contractView).to.deep.equal({ checked: true, matches: true, differences: [] });
      });
    });

    describe("when someone inflated a face value in the index", function () {
      before(async function () {
        await t.service.ctx.db
          .updateTable("onchain_certificates")
          .set({ face_value: T(250) })
          .where("id", "=", toCoil)
          .execute();
      });
      after(async function () {
        await t.service.ctx.db
          .updateTable("onchain_certificates")
          .set({ face_value: T(200) })
          .where("id", "=", toCoil)
          .execute();
      });

      it("reports exactly that face value", async function () {
        const body = (await get(auditorApi, `/v1/audit/verify/${receivableId}`)).body;
        expect(body.matches).to.equal(false);
        expect(body.differences).to.deep.equal([
          { certificateId: toCoil, field: "faceValue", chain: T(200), index: T(250) },
        ]);
      });

      it("fails the trace's conservation check at the split it broke", async function () {
        const body = (await trace()).body;
        expect(body.conservation).to.deep.equal({
          rootFace: T(1000),
          liveLeafFaceSum: T(1050),
          leafCount: 3,
          retiredCount: 2,
          credited: "0",
          liveLeafClaimSum: T(1050),
          conserves: false,
          brokenSplits: [{ certificateId: toBolt, faceValue: T(600), childrenFaceSum: T(650) }],
        });
      });
    });

    describe("when someone rewrote the repaid amount and a pledge's balance, and dropped a certificate from the index", function () {
      let dropped: Awaited<ReturnType<typeof droppedRow>>;
      const droppedRow = () =>
        t.service.ctx.db
          .selectFrom("onchain_certificates")
          .selectAll()
          .where("id", "=", boltKept)
          .executeTakeFirstOrThrow();
      before(async function () {
        const { db } = t.service.ctx;
        dropped = await droppedRow();
        await db
          .updateTable("onchain_receivables")
          .set({ repaid_amount: T(900) })
          .where("id", "=", receivableId)
          .execute();
        await db
          .updateTable("onchain_financing_requests")
          .set({ outstanding: T(5) })
          .where("id", "=", pledgeRequest)
          .execute();
        await db.deleteFrom("onchain_certificates").where("id", "=", boltKept).execute();
      });
      after(async function () {
        const { db } = t.service.ctx;
        await db.insertInto("onchain_certificates").values(dropped).execute();
        await db
          .updateTable("onchain_financing_requests")
          .set({ outstanding: "0" })
          .where("id", "=", pledgeRequest)
          .execute();
        await db
          .updateTable("onchain_receivables")
          .set({ repaid_amount: T(1000) })
          .where("id", "=", receivableId)
          .execute();
      });

      it("reports each of them, the receivable first, then certificates and requests by id", async function () {
        const body = (await get(auditorApi, `/v1/audit/verify/${receivableId}`)).body;
        expect(body.matches).to.equal(false);
        expect(body.differences).to.deep.equal([
          { field: "receivable.repaidAmount", chain: T(1000), index: T(900) },
          { certificateId: boltKept, field: "exists", chain: true, index: false },
          {
            certificateId: boltKept,
            requestId: pledgeRequest,
            field: "financing.outstanding",
            chain: "0",
            index: T(5),
          },
        ]);
        expect(body.checkedCertificates).to.equal(5);
      });
    });

    it("finds the restored index in agreement again", async function () {
      const body = (await get(auditorApi, `/v1/audit/verify/${receivableId}`)).body;
      expect(body).to.include({ matches: true, checkedCertificates: 5, checkedFinancingRequests: 2 });
      expect(body.differences).to.deep.equal([]);
    });

    it("owes nothing any more on the settled tree", async function () {
      for (const p of [coil, harbor, summit, northwind]) {
        const body = await exposure(p);
        expect(body.asFinancier.pledgesOutstanding, p.name).to.equal("0");
      }
      expect((await exposure(coil)).owed.total).to.equal(T(250)); // only the second receivable's root
      expect((await exposure(harbor)).owed.total).to.equal("0");
      expect((await exposure(harbor)).asFinancier.purchases[0]).to.include({
        state: "settled",
        stillHeld: false,
        paidOut: T(200),
      });
      expect((await exposure(northwind)).owes.total).to.equal("0");
      expect((await exposure(bolt)).owed.total).to.equal("0");
    });
  });

  describe("when the caller may not see it", function () {
    it("lets the seller and the debtor trace their receivable", async function () {
      expect((await trace("json", api.as(acme.apiKey))).status).to.equal(200);
      expect((await trace("json", api.as(northwind.apiKey))).status).to.equal(200);
      expect((await trace("json", operator)).status).to.equal(200);
    });

    it("refuses a supplier that is not party to the receivable", async function () {
      const response = await trace("json", api.as(outsider.apiKey));
      expect(response.status, outsider.name).to.equal(403);
      expect(response.body.error.code).to.equal("FORBIDDEN");
    });

    // Issue 18: a holder of a piece reads its lineage path (it was refused before), not the other branches.
    it("shows a holder of a piece its lineage path, without the branches it has no part in", async function () {
      const response = await trace("json", api.as(coil.apiKey));
      expect(response.status, JSON.stringify(response.body).slice(0, 300)).to.equal(200);
      const text = JSON.stringify(response.body.root);
      expect(text).to.include(`"certificateId":"${toCoil}"`);
      expect(text).not.to.include(`"certificateId":"${boltKept}"`);
    });

    it("answers 404 for a receivable nobody registered and 400 for a malformed id", async function () {
      const unknown = await get(auditorApi, `/v1/audit/receivables/0x${"0".repeat(63)}1/trace`);
      expect(unknown.status).to.equal(404);
      expect(unknown.body.error.code).to.equal("NOT_FOUND");
      expect((await get(auditorApi, "/v1/audit/receivables/0x1234/trace")).status).to.equal(400);
    });

    it("asks for an API key", async function () {
      expect((await trace("json", api.as(undefined))).status).to.equal(401);
    });

    it("lets a party read its own exposure but not another's", async function () {
      expect((await get(api.as(coil.apiKey), `/v1/audit/parties/${coil.id}/exposure`)).status).to.equal(200);
      const refused = await get(api.as(outsider.apiKey), `/v1/audit/parties/${coil.id}/exposure`);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("FORBIDDEN");
    });

    it("answers 404 for an unknown party", async function () {
      const response = await get(auditorApi, "/v1/audit/parties/pty_nobody/exposure");
      expect(response.status).to.equal(404);
      expect(response.body.error.code).to.equal("NOT_FOUND");
    });

    it("keeps verification to auditors and the operator", async function () {
      const refused = await get(api.as(acme.apiKey), `/v1/audit/verify/${receivableId}`);
      expect(refused.status).to.equal(403);
      expect(refused.body.error.code).to.equal("FORBIDDEN");
      expect((await get(operator, `/v1/audit/verify/${receivableId}`)).status).to.equal(200);
      const unknown = await get(auditorApi, `/v1/audit/verify/0x${"0".repeat(63)}1`);
      expect(unknown.status).to.equal(404);
    });
  });

  describe("when used from the command line", function () {
    let dir: string;
    before(function () {
      dir = mkdtempSync(path.join(tmpdir(), "tierline-audit-cli-"));
    });
    after(function () {
      rmSync(dir, { recursive: true, force: true });
    });

    it("prints the tree with an auditor's key", async function () {
      const { code, stdout, stderr } = await runCli([
        "trace",
        receivableId,
        "--api",
        t.baseUrl,
        "--key",
        auditor.apiKey,
      ]);
      expect(code, stderr).to.equal(0);
      const lines = stdout.split("\n");
      expect(lines).to.include(`#${root}  tier 1  Acme Components  1000.000000 tUSD  retired`);
      expect(lines).to.include(
        `│   ├── #${toCoil}  tier 3  Harbor Bank  200.000000 tUSD  settled, paid out 200.000000 tUSD`,
      );
      expect(lines).to.include(
        `└── #${acmeKept}  tier 1  Coil Wire Co  400.000000 tUSD  settled, paid out 400.000000 tUSD`,
      );
      expect(lines).to.include(
        "Conservation: leaves 1000.000000 tUSD = root 1000.000000 tUSD (3 leaves, 2 retired): conserves",
      );
    });

    it("takes the first auditor's key from a credentials file and verifies", async function () {
      const file = path.join(dir, "credentials.json");
      writeFileSync(
        file,
        JSON.stringify({
          operator: { apiKey: "not-this-one" },
          parties: [
            { id: acme.id, name: acme.name, roles: ["supplier"], address: acme.address, apiKey: acme.apiKey },
            {
              id: auditor.id,
              name: auditor.name,
              roles: ["auditor"],
              address: auditor.address,
              apiKey: auditor.apiKey,
            },
          ],
        }),
      );
      const { code, stdout, stderr } = await runCli([
        "verify",
        receivableId,
        "--api",
        t.baseUrl,
        "--credentials",
        file,
      ]);
      expect(code, stderr).to.equal(0);
      expect(stdout).to.contain(`Receivable ${receivableId}: the index matches the chain\n`);
      expect(stdout).to.contain("  5 certificates, 2 financing requests, 45 chain events");
    });

    it("prints a party's exposure, and JSON on request", async function () {
      const text = await runCli(["exposure", coil.id, "--api", t.baseUrl, "--key", auditor.apiKey]);
      expect(text.code, text.stderr).to.equal(0);
      expect(text.stdout).to.match(/^Owed as holder\s+250\.000000 tUSD$/m);
      const json = await runCli(["exposure", coil.id, "--api", t.baseUrl, "--key", auditor.apiKey, "--format", "json"]);
      expect(json.code, json.stderr).to.equal(0);
      expect(JSON.parse(json.stdout).owed.total).to.equal(T(250));
    });

    it("says so and exits non-zero when the service is not running", async function () {
      const port = await freePort();
      const { code, stdout, stderr } = await runCli([
        "trace",
        receivableId,
        "--api",
        `http://127.0.0.1:${port}`,
        "--key",
        auditor.apiKey,
      ]);
      expect(code).to.equal(2);
      expect(stdout).to.equal("");
      expect(stderr).to.contain(`audit: cannot reach the Tierline service at http://127.0.0.1:${port}`);
      expect(stderr).to.contain("is it running?");
    });

    it("passes on the service's refusal and exits 1", async function () {
      const { code, stderr } = await runCli(["trace", receivableId, "--api", t.baseUrl, "--key", outsider.apiKey]);
      expect(code).to.equal(1);
      expect(stderr).to.contain("audit: the service answered 403: FORBIDDEN:");
    });

    it("refuses to run without a key", async function () {
      const { code, stderr } = await runCli([
        "trace",
        receivableId,
        "--api",
        t.baseUrl,
        "--credentials",
        path.join(dir, "missing.json"),
      ]);
      expect(code).to.equal(1);
      expect(stderr).to.contain("audit: no API key");
    });
  });
});
