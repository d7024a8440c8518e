// Login throttling per client address and per email (in memory: each server instance counts its own).
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { LoginLimiter } from '@lending/api';

export interface LoginLimits {
  /** Attempts per address per window. */
  perIp: number;
  /** Attempts per email per window. */
  perEmail: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perIp: 10, perEmail: 5, windowSeconds: 60 };

export function createLoginLimiter(limits: LoginLimits = DEFAULT_LOGIN_LIMITS): LoginLimiter {
  const byIp = new RateLimiterMemory({
    keyPrefix: 'login-ip',
    points: limits.perIp,
    duration: limits.windowSeconds,
  });
  const byEmail = new RateLimiterMemory({
    keyPrefix: 'login-email',
    points: limits.perEmail,
    duration: limits.windowSeconds,
  });

  async function wait(limiter: RateLimiterMemory, key: string): Promise<number> {
    try {
      await limiter.consume(key);
      return 0;
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) return Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw rejection;
    }
  }

  return {
    async consume(ip, email) {
      const waits = await Promise.all([
        wait(byIp, ip),
        email === null ? 0 : wait(byEmail, email.trim().toLowerCase()),
      ]);
      return Math.max(...waits);
    },
  };
}
