// An existing address's EIP-712 consent to a new address joining its legal id (an alias), as
// PartyRegistry.ALIAS_CONSENT_TYPEHASH defines it. One definition for the service and the
// tests: a field out of order here would make every consent fail on-chain.
import type { Signer, TypedDataDomain } from "ethers";

export const ALIAS_CONSENT_DOMAIN_NAME = "Tierline PartyRegistry";
export const ALIAS_CONSENT_DOMAIN_VERSION = "1";

export const ALIAS_CONSENT_TYPES = {
  AliasConsent: [
    { name: "account", type: "address" },
    { name: "legalIdHash", type: "bytes32" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/** What the approver signs: `account` may speak for the company of `legalIdHash`. */
export interface AliasConsentMessage {
  account: string;
  legalIdHash: string;
  nonce: bigint;
  deadline: bigint;
}

export function aliasConsentDomain(chainId: bigint, partyRegistry: string): TypedDataDomain {
  return {
    name: ALIAS_CONSENT_DOMAIN_NAME,
    version: ALIAS_CONSENT_DOMAIN_VERSION,
    chainId,
    verifyingContract: partyRegistry,
  };
}

/**
 * `approver` (an active address of the legal id) signs its consent to `message` for the party
 * registry at `partyRegistry` on chain `chainId`; returns the struct registerAlias takes.
 */
export async function signAliasConsent(
  approver: Signer,
  chainId: bigint,
  partyRegistry: string,
  message: AliasConsentMessage,
): Promise<{ approver: string; nonce: bigint; deadline: bigint; signature: string }> {
  const signature = await approver.signTypedData(aliasConsentDomain(chainId, partyRegistry), ALIAS_CONSENT_TYPES, {
    ...message,
  });
  return { approver: await approver.getAddress(), nonce: message.nonce, deadline: message.deadline, signature };
}
