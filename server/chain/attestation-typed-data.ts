// The service's EIP-712 risk attestation of a financing request, as
// FinancingMarket.ATTESTATION_TYPEHASH defines it. One definition for the service, the
// financier CLI and the tests: a field out of order here would make every attestation fail.
import type { Signer, TypedDataDomain } from "ethers";

export const ATTESTATION_DOMAIN_NAME = "Tierline FinancingMarket";
export const ATTESTATION_DOMAIN_VERSION = "1";

export const ATTESTATION_TYPES = {
  RiskAttestation: [
    { name: "requestId", type: "uint256" },
    { name: "certificateId", type: "uint256" },
    { name: "price", type: "uint256" },
    { name: "repayAmount", type: "uint256" },
    { name: "remainingClaim", type: "uint256" },
    { name: "advanceRateBps", type: "uint16" },
    { name: "expiry", type: "uint64" },
  ],
};

export interface RiskAttestation {
  requestId: bigint;
  certificateId: bigint;
  price: bigint;
  repayAmount: bigint;
  remainingClaim: bigint;
  advanceRateBps: number;
  expiry: bigint;
}

export function attestationDomain(chainId: bigint, market: string): TypedDataDomain {
  return { name: ATTESTATION_DOMAIN_NAME, version: ATTESTATION_DOMAIN_VERSION, chainId, verifyingContract: market };
}

/** Signs `attestation` for the market at `market` on chain `chainId` with the attester's key. */
export function signAttestation(
  attester: Signer,
  chainId: bigint,
  market: string,
  attestation: RiskAttestation,
): Promise<string> {
  return attester.signTypedData(attestationDomain(chainId, market), ATTESTATION_TYPES, { ...attestation });
}
