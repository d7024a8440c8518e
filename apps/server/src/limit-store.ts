// Where the login limiter keeps its counters: Redis (REDIS_URL), PostgreSQL (a limiter-owned table beside the
// accounts table) or this process's memory. Every operation is atomic in its store, so instances sharing one
// store share the limits. A shared store that fails or hangs is replaced, call by call, by an in-memory insurance
// store (with a warning line and a metric) until it answers again: never a silent fail-open.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

/** A counter's value and the milliseconds before it expires (0 when absent). */
export interface CounterValue {
  count: number;
  msLeft: number;
}

export interface LimitStore {
  readonly kind: 'redis' | 'postgres' | 'memory';
  /** Adds one unless the counter already reached `limit`; creates it with a `windowMs` lifetime. */
  take(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; msLeft: number }>;
  /** Takes one back (a refund); never below 0. */
  give(key: string): Promise<void>;
  /** Adds one, creating the counter with a `windowMs` lifetime. */
  add(key: string, windowMs: number): Promise<CounterValue>;
  read(keys: string[]): Promise<CounterValue[]>;
  /** Sets a marker (count 1) living `ttlMs`, replacing any value. */
  put(key: string, ttlMs: number): Promise<void>;
  remove(keys: string[]): Promise<void>;
  /** Resolves once the store answers (or rejects); the app waits for it, boundedly, before listening. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

const ABSENT: CounterValue = { count: 0, msLeft: 0 };

export class MemoryLimitStore implements LimitStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, { count: number; expires: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  private live(key: string): { count: number; expires: number } | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expires <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.entries.delete(key);
  }

  take(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; msLeft: number }> {
    const entry = this.live(key);
    if (entry && entry.count >= limit)
      return Promise.resolve({ ok: false, msLeft: entry.expires - this.now() });
    if (entry) entry.count += 1;
    else this.entries.set(key, { count: 1, expires: this.now() + windowMs });
    return Promise.resolve({ ok: true, msLeft: (entry?.expires ?? this.now() + windowMs) - this.now() });
  }

  give(key: string): Promise<void> {
    const entry = this.live(key);
    if (entry && entry.count > 0) entry.count -= 1;
    return Promise.resolve();
  }

  add(key: string, windowMs: number): Promise<CounterValue> {
    const entry = this.live(key) ?? { count: 0, expires: this.now() + windowMs };
    entry.count += 1;
    this.entries.set(key, entry);
    return Promise.resolve({ count: entry.count, msLeft: entry.expires - this.now() });
  }

  read(keys: string[]): Promise<CounterValue[]> {
    return Promise.resolve(
      keys.map((key) => {
        const entry = this.live(key);
        return entry ? { count: entry.count, msLeft: entry.expires - this.now() } : ABSENT;
      }),
    );
  }

  put(key: string, ttlMs: number): Promise<void> {
    this.entries.set(key, { count: 1, expires: this.now() + ttlMs });
    return Promise.resolve();
  }

  remove(keys: string[]): Promise<void> {
    for (const key of keys) this.entries.delete(key);
    return Promise.resolve();
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearInterval(this.sweeper);
    this.entries.clear();
    return Promise.resolve();
  }
}

// Each script is one atomic step in Redis. Counters are plain integers with a PX expiry.
const TAKE = `
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c >= tonumber(ARGV[1]) then return {0, redis.call('PTTL', KEYS[1])} end
c = redis.call('INCR', KEYS[1])
if c == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return {1, redis.call('PTTL', KEYS[1])}`;
const ADD = `
local c = redis.call('INCR', KEYS[1])
if c == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {c, redis.call('PTTL', KEYS[1])}`;
const GIVE = `
local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c > 0 then redis.call('DECR', KEYS[1]) end
return 0`;
const READ = `
local out = {}
for i, key in ipairs(KEYS) do
  out[#out + 1] = tonumber(redis.call('GET', key) or '0')
  out[#out + 1] = redis.call('PTTL', key)
end
return out`;

type ScriptedRedis = Redis & {
  limitTake(key: string, limit: number, windowMs: number): Promise<[number, number]>;
  limitAdd(key: string, windowMs: number): Promise<[number, number]>;
  limitGive(key: string): Promise<number>;
  limitRead(count: number, ...keys: string[]): Promise<number[]>;
};

export interface RedisLimitStoreOptions {
  url: string;
  /** Prefix of every key (REDIS_PREFIX), so that several deployments or tests can share one Redis. */
  prefix: string;
  /** Milliseconds a command may take before it counts as failed (a hung Redis must not hang logins). */
  commandTimeoutMs?: number;
  /** Connection problems, reported by ioredis between commands. */
  onError?: (error: Error) => void;
}

export class RedisLimitStore implements LimitStore {
  readonly kind = 'redis' as const;
  private readonly redis: ScriptedRedis;
  private readonly prefix: string;

  constructor(options: RedisLimitStoreOptions) {
    this.prefix = options.prefix;
    const redis = new Redis(options.url, {
      commandTimeout: options.commandTimeoutMs ?? 500,
      connectTimeout: 1000,
      // Fail at once while disconnected (the insurance store answers) rather than queue behind a dead link.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
    });
    redis.on('error', (error: Error) => options.onError?.(error));
    redis.defineCommand('limitTake', { numberOfKeys: 1, lua: TAKE });
    redis.defineCommand('limitAdd', { numberOfKeys: 1, lua: ADD });
    redis.defineCommand('limitGive', { numberOfKeys: 1, lua: GIVE });
    redis.defineCommand('limitRead', { lua: READ });
    this.redis = redis as ScriptedRedis;
  }

  private k(key: string): string {
    return this.prefix + key;
  }

  async take(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; msLeft: number }> {
    const [ok, ms] = await this.redis.limitTake(this.k(key), limit, windowMs);
    return { ok: ok === 1, msLeft: Math.max(0, ms) };
  }

  async give(key: string): Promise<void> {
    await this.redis.limitGive(this.k(key));
  }

  async add(key: string, windowMs: number): Promise<CounterValue> {
    const [count, ms] = await this.redis.limitAdd(this.k(key), windowMs);
    return { count, msLeft: Math.max(0, ms) };
  }

  async read(keys: string[]): Promise<CounterValue[]> {
    if (keys.length === 0) return [];
    const flat = await this.redis.limitRead(keys.length, ...keys.map((key) => this.k(key)));
    return keys.map((_, i) => {
      const count = flat[2 * i] ?? 0;
      return count > 0 ? { count, msLeft: Math.max(0, flat[2 * i + 1] ?? 0) } : ABSENT;
    });
  }

  async put(key: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.k(key), '1', 'PX', Math.max(1, Math.round(ttlMs)));
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.redis.del(...keys.map((key) => this.k(key)));
  }

  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('error', reject);
    });
  }

  async close(): Promise<void> {
    this.redis.disconnect(false);
    return Promise.resolve();
  }
}

export interface PostgresLimitStoreOptions {
  connectionString: string;
  schema: string | undefined;
  /** Milliseconds a query may take before it counts as failed. */
  queryTimeoutMs?: number;
  /** Waited for before creating the table: the account store's opening, which creates the schema. */
  after?: Promise<unknown>;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * Counters in their own table, `lending_limits` (key, count, expires_at), in the accounts' schema: never in the
 * accounts table. A small pool of its own, with short timeouts; expired rows are deleted once a minute.
 */
export class PostgresLimitStore implements LimitStore {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private readonly table: string;
  private readonly opening: Promise<void>;
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: PostgresLimitStoreOptions) {
    const timeout = options.queryTimeoutMs ?? 500;
    this.pool = new pg.Pool({
      connectionString: options.connectionString,
      max: 2,
      connectionTimeoutMillis: 1000,
      query_timeout: timeout,
      statement_timeout: timeout,
      keepAlive: true,
      application_name: 'lending-limits',
    });
    this.pool.on('error', () => undefined);
    this.table = `${options.schema ? `${quoteIdent(options.schema)}.` : ''}lending_limits`;
    this.opening = (options.after ?? Promise.resolve()).then(() => this.migrate(options.schema));
    this.opening.catch(() => undefined);
    this.sweeper = setInterval(() => {
      void this.query(`DELETE FROM ${this.table} WHERE expires_at < now()`, []).catch(() => undefined);
    }, 60_000);
    this.sweeper.unref();
  }

  private async migrate(schema: string | undefined): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // One creator at a time: concurrent CREATE TABLE IF NOT EXISTS can still collide in the catalogue.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`lending.limits:${schema ?? ''}`]);
      if (schema) await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.table} (
          key text PRIMARY KEY,
          count integer NOT NULL,
          expires_at timestamptz NOT NULL,
          op text
        )`,
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    await this.opening;
    return (await this.pool.query<R>(text, values)).rows;
  }

  async take(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; msLeft: number }> {
    const t = this.table;
    // `op` marks the statement that last counted: this one counted iff the row carries its token afterwards (an
    // UPDATE's SET reads the row as it was, after waiting for any concurrent writer of it).
    const token = randomUUID();
    const [row] = await this.query<{ ok: boolean; ms: number }>(
      `INSERT INTO ${t} AS l (key, count, expires_at, op)
       VALUES ($1, 1, now() + make_interval(secs => $3::float8 / 1000), $4)
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN l.expires_at <= now() THEN 1
                      WHEN l.count >= $2 THEN l.count ELSE l.count + 1 END,
         op = CASE WHEN l.expires_at <= now() OR l.count < $2 THEN $4 ELSE l.op END,
         expires_at = CASE WHEN l.expires_at <= now() THEN excluded.expires_at ELSE l.expires_at END
       RETURNING op = $4 AS ok, greatest(0, extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms`,
      [key, limit, windowMs, token],
    );
    return { ok: row?.ok ?? false, msLeft: Math.round(row?.ms ?? 0) };
  }

  async give(key: string): Promise<void> {
    await this.query(`UPDATE ${this.table} SET count = count - 1 WHERE key = $1 AND count > 0`, [key]);
  }

  async add(key: string, windowMs: number): Promise<CounterValue> {
    const t = this.table;
    const [row] = await this.query<{ count: number; ms: number }>(
      `INSERT INTO ${t} AS l (key, count, expires_at)
       VALUES ($1, 1, now() + make_interval(secs => $2::float8 / 1000))
       ON CONFLICT (key) DO UPDATE SET
         count = CASE WHEN l.expires_at <= now() THEN 1 ELSE l.count + 1 END,
         expires_at = CASE WHEN l.expires_at <= now() THEN excluded.expires_at ELSE l.expires_at END
       RETURNING count, greatest(0, extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms`,
      [key, windowMs],
    );
    return { count: row?.count ?? 1, msLeft: Math.round(row?.ms ?? windowMs) };
  }

  async read(keys: string[]): Promise<CounterValue[]> {
    if (keys.length === 0) return [];
    const rows = await this.query<{ key: string; count: number; ms: number }>(
      `SELECT key, count, greatest(0, extract(epoch FROM expires_at - now()) * 1000)::float8 AS ms
       FROM ${this.table} WHERE key = ANY($1) AND expires_at > now()`,
      [keys],
    );
    const found = new Map(rows.map((r) => [r.key, r]));
    return keys.map((key) => {
      const row = found.get(key);
      return row && row.count > 0 ? { count: row.count, msLeft: Math.round(row.ms) } : ABSENT;
    });
  }

  async put(key: string, ttlMs: number): Promise<void> {
    await this.query(
      `INSERT INTO ${this.table} (key, count, expires_at)
       VALUES ($1, 1, now() + make_interval(secs => $2::float8 / 1000))
       ON CONFLICT (key) DO UPDATE SET count = 1, expires_at = excluded.expires_at`,
      [key, ttlMs],
    );
  }

  async remove(keys: string[]): Promise<void> {
    if (keys.length > 0) await this.query(`DELETE FROM ${this.table} WHERE key = ANY($1)`, [keys]);
  }

  ready(): Promise<void> {
    return this.opening;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.pool.end().catch(() => undefined);
  }
}

export interface InsuredLimitStoreEvents {
  /** The shared store failed (first failure after it worked, then at most once a minute). */
  degraded(store: LimitStore['kind'], error: Error): void;
  /** It answers again: limits are shared once more. */
  recovered(store: LimitStore['kind']): void;
  /** Every call the insurance store answered. */
  failure(store: LimitStore['kind']): void;
}

/**
 * The shared store, with an in-memory insurance store answering each call it fails (error or timeout). While
 * degraded every instance limits on its own counters: stricter per instance, never unlimited.
 */
export class InsuredLimitStore implements LimitStore {
  private readonly insurance = new MemoryLimitStore();
  private degradedSince: number | null = null;
  private lastWarning = 0;
  /** While degraded, calls go straight to the insurance store until then (one probe a second, not every call). */
  private retryAt = 0;

  constructor(
    readonly shared: LimitStore,
    private readonly events: InsuredLimitStoreEvents,
    private readonly timeoutMs = 500,
  ) {}

  get kind(): LimitStore['kind'] {
    return this.shared.kind;
  }

  /** True while the insurance store is answering. */
  get degraded(): boolean {
    return this.degradedSince !== null;
  }

  private async run<T>(call: (store: LimitStore) => Promise<T>): Promise<T> {
    if (this.degradedSince !== null && Date.now() < this.retryAt) {
      this.events.failure(this.shared.kind);
      return call(this.insurance);
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        call(this.shared),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`limit store did not answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
      if (this.degradedSince !== null) {
        this.degradedSince = null;
        this.events.recovered(this.shared.kind);
      }
      return result;
    } catch (error) {
      const now = Date.now();
      this.retryAt = now + 1000;
      if (this.degradedSince === null || now - this.lastWarning >= 60_000) {
        this.degradedSince ??= now;
        this.lastWarning = now;
        this.events.degraded(this.shared.kind, error instanceof Error ? error : new Error(String(error)));
      }
      this.events.failure(this.shared.kind);
      return call(this.insurance);
    } finally {
      clearTimeout(timer);
    }
  }

  take(key: string, limit: number, windowMs: number): Promise<{ ok: boolean; msLeft: number }> {
    return this.run((s) => s.take(key, limit, windowMs));
  }
  give(key: string): Promise<void> {
    return this.run((s) => s.give(key));
  }
  add(key: string, windowMs: number): Promise<CounterValue> {
    return this.run((s) => s.add(key, windowMs));
  }
  read(keys: string[]): Promise<CounterValue[]> {
    return this.run((s) => s.read(keys));
  }
  put(key: string, ttlMs: number): Promise<void> {
    return this.run((s) => s.put(key, ttlMs));
  }
  remove(keys: string[]): Promise<void> {
    return this.run((s) => s.remove(keys));
  }
  ready(): Promise<void> {
    return this.shared.ready();
  }
  async close(): Promise<void> {
    await Promise.all([this.shared.close(), this.insurance.close()]);
  }
}
