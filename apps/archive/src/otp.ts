import { randomInt, timingSafeEqual } from 'node:crypto';

/** A one-time code lives 10 minutes. */
export const OTP_TTL_MS = 10 * 60 * 1000;
/** The 5th wrong code burns the one outstanding, so a code withstands at most 5 guesses. */
export const OTP_MAX_TRIES = 5;
/** Codes issued per email, and per originating IP, within a window. */
export const OTP_ISSUE_LIMITS = { perEmail: 5, perIp: 30, windowMs: 15 * 60 * 1000 } as const;

/** Counts hits per key in fixed windows that start at a key's first hit. */
class FixedWindows {
  private windows = new Map<string, { start: number; hits: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** 0 when `key` may go ahead now, else the milliseconds until it may. */
  waitFor(key: string, now: number): number {
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) return 0;
    return window.hits < this.limit ? 0 : window.start + this.windowMs - now;
  }

  hit(key: string, now: number): void {
    const window = this.windows.get(key);
    if (!window || now - window.start >= this.windowMs) this.windows.set(key, { start: now, hits: 1 });
    else window.hits += 1;
  }
}

interface OutstandingCode {
  code: string;
  expires: number;
  wrongTries: number;
}

export type IssueDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/**
 * xauthn's one-time codes: random 6 digits, one outstanding per email (a new one replaces it), expiring after
 * OTP_TTL_MS, single use, burnt by OTP_MAX_TRIES wrong tries; issuing is limited per email and per IP.
 */
export class OtpDesk {
  private codes = new Map<string, OutstandingCode>();
  private perEmail = new FixedWindows(OTP_ISSUE_LIMITS.perEmail, OTP_ISSUE_LIMITS.windowMs);
  private perIp = new FixedWindows(OTP_ISSUE_LIMITS.perIp, OTP_ISSUE_LIMITS.windowMs);

  constructor(private readonly clock: () => number) {}

  /**
   * Spends one issue from the email's and the IP's allowance, the same for known and unknown emails (so a 429
   * tells nothing about an account). Neither is spent when either is exhausted.
   */
  admit(email: string, ip: string | null): IssueDecision {
    const now = this.clock();
    const wait = Math.max(this.perEmail.waitFor(email, now), ip === null ? 0 : this.perIp.waitFor(ip, now));
    if (wait > 0) return { allowed: false, retryAfterSeconds: Math.ceil(wait / 1000) };
    this.perEmail.hit(email, now);
    if (ip !== null) this.perIp.hit(ip, now);
    return { allowed: true };
  }

  /** A fresh code for `email`, replacing any outstanding one. */
  issue(email: string): string {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    this.codes.set(email, { code, expires: this.clock() + OTP_TTL_MS, wrongTries: 0 });
    return code;
  }

  /** True once for the right, unexpired code; a wrong one counts towards burning it. */
  redeem(email: string, attempt: string): boolean {
    const outstanding = this.codes.get(email);
    if (!outstanding) return false;
    if (outstanding.expires <= this.clock()) {
      this.codes.delete(email);
      return false;
    }
    const given = Buffer.from(attempt.trim());
    const expected = Buffer.from(outstanding.code);
    const right = given.length === expected.length && timingSafeEqual(given, expected);
    if (right) {
      this.codes.delete(email);
      return true;
    }
    outstanding.wrongTries += 1;
    if (outstanding.wrongTries >= OTP_MAX_TRIES) this.codes.delete(email);
    return false;
  }
}
