// Short-hands for the dilution and recourse tests (issue 16): the seller's EIP-712 consent to a
// credit note, as a seller's wallet would sign it, and a receivable's leaves read from the chain.
import type { Signer } from "ethers";
import type { TierlineWorld } from "./fixture.js";
import {
  CREDIT_NOTE_CONSENT_TYPES,
  CREDIT_NOTE_DOMAIN_NAME,
  CREDIT_NOTE_DOMAIN_VERSION,
} from "../../server/chain/credit-note-typed-data.js";
import { CertificateState } from "../../server/model/contract-enums.js";

/** `seller` signs its consent to credit note `creditNoteId`, valid until `deadline`. */
export async function signCreditNoteConsent(
  world: Pick<TierlineWorld, "dilution">,
  seller: Signer,
  creditNoteId: bigint,
  deadline: bigint,
): Promise<{ deadline: bigint; signature: string }> {
  const note = await world.dilution.creditNoteOf(creditNoteId);
  const domain = {
    name: CREDIT_NOTE_DOMAIN_NAME,
    version: CREDIT_NOTE_DOMAIN_VERSION,
    chainId: (await seller.provider!.getNetwork()).chainId,
    verifyingContract: await world.dilution.getAddress(),
  };
  const message = {
    creditNoteId,
    receivableId: note.receivableId,
    amount: note.amount,
    reasonCode: note.reasonCode,
    documentHash: note.documentHash,
    deadline,
  };
  return { deadline, signature: await seller.signTypedData(domain, CREDIT_NOTE_CONSENT_TYPES, message) };
}

/** The live and pledged leaves of `receivableId`, ascending, by scanning every id issued. */
export async function leavesOf(world: Pick<TierlineWorld, "certificates">, receivableId: string): Promise<bigint[]> {
  const next = await world.certificates.nextCertificateId();
  const leaves: bigint[] = [];
  for (let id = 1n; id < next; id++) {
    const c = await world.certificates.certificateOf(id);
    if (c.receivableId === receivableId && (c.state === CertificateState.live || c.state === CertificateState.locked))
      leaves.push(id);
  }
  return leaves;
}
