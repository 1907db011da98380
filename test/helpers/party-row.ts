// A party as the parties table holds it, for tests that write the store directly: id, name,
// registry id and key hash all `id`, an address derived from it, active since 2026-01-01.
export const partyRow = (id: string) => ({
  id,
  name: id,
  registry_id: id,
  legal_id_hash: `0x${id}`,
  industry: "retail",
  roles: "[]",
  address: `0x${id.replace(/\W/g, "").padStart(40, "0")}`,
  custodial: 0,
  encrypted_key: null,
  api_key_hash: id,
  related_party_ids: "[]",
  status: "active" as const,
  created_at: "2026-01-01T00:00:00.000Z",
});
