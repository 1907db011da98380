// Builds receivable terms and the debtor's EIP-712 confirmation, as a debtor's wallet would.
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { id, type Signer, type TypedDataDomain } from "ethers";
import type { ReceivableRegistry } from "../../types/ethers-contracts/index.js";
import {
  CONFIRMATION_DOMAIN_NAME,
  CONFIRMATION_DOMAIN_VERSION,
  CONFIRMATION_TYPES,
} from "../../server/chain/confirmation-typed-data.js";

export { CONFIRMATION_TYPES };

export interface Terms {
  seller: string;
  debtor: string;
  invoiceNumberHash: string;
  documentHash: string;
  faceValue: bigint;
  dueDate: bigint;
}

export interface Confirmation {
  nonce: bigint;
  deadline: bigint;
  signature: string;
}

export function makeTerms(
  seller: HardhatEthersSigner,
  debtor: HardhatEthersSigner,
  invoiceNumber: string,
  faceValue: bigint,
  dueDate: bigint,
): Terms {
  return {
    seller: seller.address,
    debtor: debtor.address,
    invoiceNumberHash: id(invoiceNumber),
    documentHash: id(`documents of ${invoiceNumber}`),
    faceValue,
    dueDate,
  };
}

export async function confirmationDomain(registry: ReceivableRegistry): Promise<TypedDataDomain> {
  const provider = registry.runner?.provider;
  if (!provider) throw new Error("registry has no provider");
  return {
    name: CONFIRMATION_DOMAIN_NAME,
    version: CONFIRMATION_DOMAIN_VERSION,
    chainId: (await provider.getNetwork()).chainId,
    verifyingContract: await registry.getAddress(),
  };
}

/** The debtor signs the confirmation of `terms` with `nonce`, valid until `deadline`. */
export async function signConfirmation(
  registry: ReceivableRegistry,
  signer: Signer,
  terms: Terms,
  nonce: bigint,
  deadline: bigint,
  domainOverride: Partial<TypedDataDomain> = {},
): Promise<Confirmation> {
  const receivableId = await registry.receivableIdOf(terms);
  const domain = { ...(await confirmationDomain(registry)), ...domainOverride };
  const message = {
    receivableId,
    documentHash: terms.documentHash,
    seller: terms.seller,
    debtor: terms.debtor,
    faceValue: terms.faceValue,
    settlementToken: await registry.settlementToken(),
    dueDate: terms.dueDate,
    nonce,
    deadline,
  };
  const signature = await signer.signTypedData(domain, CONFIRMATION_TYPES, message);
  return { nonce, deadline, signature };
}
