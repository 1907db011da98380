// Recourse as the holder of a piece sees it (issue 16): who endorsed the piece, or an
// ancestor, before passing it on, and whom the holder would claim on. A term fixed when the
// piece was passed on, so it is shown wherever the piece is: the certificate and the market.
import { z } from "zod";
import type { ServiceContext } from "../context.js";
import { PartyRefSchema } from "../model/party-refs.js";
import { PartyRefs } from "../store/party-refs.js";
import { endorsementsOnLineage } from "../store/recourse-lineage.js";

export const CertificateRecourseSchema = z
  .object({
    endorsements: z
      .array(z.object({ certificateId: z.string(), endorser: PartyRefSchema }))
      .meta({ description: "Endorsements with recourse on this piece and its ancestors, nearest first" }),
    nearestGuarantor: PartyRefSchema.nullable().meta({
      description:
        "Whom the holder would claim on if the debtor defaults or a credit note cuts past the seller's pieces: " +
        "the nearest endorser other than the holder; null: the piece is held without recourse",
    }),
  })
  .meta({ id: "CertificateRecourse" });
export type CertificateRecourse = z.infer<typeof CertificateRecourseSchema>;

export async function certificateRecourse(
  ctx: ServiceContext,
  certificateId: string,
  holder: string,
): Promise<CertificateRecourse> {
  const refs = new PartyRefs(ctx.db);
  const endorsements = await endorsementsOnLineage(ctx.db, certificateId);
  const guarantor = endorsements.find((e) => e.endorser.toLowerCase() !== holder.toLowerCase());
  return {
    endorsements: await Promise.all(
      endorsements.map(async (e) => ({ certificateId: e.certificateId, endorser: await refs.of(e.endorser) })),
    ),
    nearestGuarantor: guarantor ? await refs.of(guarantor.endorser) : null,
  };
}
