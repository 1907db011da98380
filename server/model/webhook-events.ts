// The event types a webhook endpoint can receive, and the envelope every delivery carries
// (Standard Webhooks: { type, timestamp, data }).
export const WEBHOOK_EVENT_TYPES = [
  "receivable.submitted",
  "receivable.held",
  "receivable.approved",
  "receivable.rejected",
  "receivable.confirmed",
  "receivable.registered",
  "receivable.declined",
  "receivable.withdrawn",
  "receivable.overdue",
  "receivable.defaulted",
  "receivable.repaid",
  "certificate.split",
  "certificate.transferred",
  "certificate.locked",
  "certificate.unlocked",
  "financing.opened",
  "financing.funded",
  "financing.cancelled",
  "repayment.received",
  "payout.made",
  // Issue 16: disputes, credit notes and recourse (payloads in webhook-payloads.ts).
  "dispute.opened",
  "dispute.withdrawn",
  "dispute.dismissed",
  "dispute.resolved",
  "credit_note.proposed",
  "credit_note.withdrawn",
  "credit_note.rejected",
  "credit_note.applying",
  "credit_note.applied",
  "recourse.granted",
  "recourse_claim.opened",
  "recourse_claim.escalated",
  "recourse_claim.paid",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export interface WebhookEvent {
  /** The webhook-id: the same on every retry and replay, so a receiver deduplicates on it. */
  id: string;
  type: WebhookEventType;
  data: Record<string, unknown>;
  /** The parties it concerns; endpoints of operators and auditors receive every event. */
  partyIds: string[];
  occurredAt: string;
}
