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
