/** A message the stand-in "sent": archive.org emails one-time codes; here they stay in memory. */
export interface OutboxMessage {
  to: string;
  subject: string;
  text: string;
  /** The one-time code the message carries, for tests and the demo. */
  code: string;
  sentAt: string;
}

const KEPT = 200;

/** The last messages sent, newest first. Read through `GET /_dev/outbox` (never in production). */
export class Outbox {
  private messages: OutboxMessage[] = [];

  add(message: OutboxMessage): void {
    this.messages.unshift(message);
    this.messages.length = Math.min(this.messages.length, KEPT);
  }

  list(to?: string): OutboxMessage[] {
    const wanted = to?.trim().toLowerCase();
    return this.messages.filter((message) => wanted === undefined || message.to === wanted);
  }

  /** The code in the newest message to `to`, or null. */
  latestCode(to: string): string | null {
    return this.list(to)[0]?.code ?? null;
  }

  clear(): void {
    this.messages = [];
  }
}
