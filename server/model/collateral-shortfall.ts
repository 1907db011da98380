// A pledge's collateral shortfall (issue 16): by how much a pledged leaf's claim (face less
// credit-note cuts) is below what its pledgee is still owed, as
// DilutionLedger.collateralShortfallOf reads it on-chain. The pledgee is still paid first from
// what the leaf receives; the gap is what it can no longer expect from the collateral, an
// unsecured claim on the pledgor.

/** max(0, outstanding - (face - reduction)) for a live pledge; 0 for anything else. */
export function collateralShortfallOf(pledge: {
  kind: string;
  status: string;
  outstanding: string;
  face_value: string;
  reduction: string;
}): bigint {
  if (pledge.kind !== "pledge" || pledge.status !== "pledged") return 0n;
  const gap = BigInt(pledge.outstanding) - (BigInt(pledge.face_value) - BigInt(pledge.reduction));
  return gap > 0n ? gap : 0n;
}
