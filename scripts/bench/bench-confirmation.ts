// A fresh invoice's terms and the debtor's EIP-712 confirmation of them, signed as the debtor's
// wallet would: one helper for every gas benchmark that registers receivables.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { id } from "ethers";
import {
  CONFIRMATION_DOMAIN_NAME,
  CONFIRMATION_DOMAIN_VERSION,
  CONFIRMATION_TYPES,
} from "../../server/chain/confirmation-typed-data.js";
import type { ReceivableRegistry } from "../../types/ethers-contracts/index.js";

const DAY = 86_400n;

export interface BenchInvoice {
  registry: ReceivableRegistry;
  chainId: number | bigint;
  settlementToken: string;
  debtor: HardhatEthersSigner;
  seller: string;
  /** The invoice number; the documents' hash and the nonce derive from it. */
  invoice: string;
  faceValue: bigint;
  /** Chain time now, unix seconds: due in 90 days, the consent good for an hour. */
  now: bigint;
}

export async function signedRegistration(b: BenchInvoice) {
  const terms = {
    seller: b.seller,
    debtor: b.debtor.address,
    invoiceNumberHash: id(b.invoice),
    documentHash: id(`documents of ${b.invoice}`),
    faceValue: b.faceValue,
    dueDate: b.now + 90n * DAY,
  };
  const receivableId = await b.registry.receivableIdOf(terms);
  // Any number: signed, not stored (the service uses the receivable id).
  const nonce = BigInt(id(`nonce ${b.invoice}`));
  const deadline = b.now + 3_600n;
  const domain = {
    name: CONFIRMATION_DOMAIN_NAME,
    version: CONFIRMATION_DOMAIN_VERSION,
    chainId: b.chainId,
    verifyingContract: String(b.registry.target),
  };
  const message = { ...terms, receivableId, settlementToken: b.settlementToken, nonce, deadline };
  const signature = await b.debtor.signTypedData(domain, CONFIRMATION_TYPES, message);
  return { receivableId, item: { terms, confirmation: { nonce, deadline, signature } } };
}
