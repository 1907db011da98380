// The key an industry is stored and counted under (industry_risk.industry, parties.industry_key):
// the text a party gave, normalised (NFKC), trimmed, lower case, inner spaces collapsed, so
// "Retail ", "retail" and "RETAIL" are one industry.
export const industryKey = (industry: string): string =>
  industry.normalize("NFKC").trim().toLowerCase().replace(/\s+/g, " ");
