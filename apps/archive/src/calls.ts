/**
 * How many requests each endpoint received, so a test or a benchmark can count a client's upstream calls.
 * Keys name the endpoint and, where the URL carries one, the operation: `xauthn.authenticate`,
 * `loans.borrow_book`, `lendingApi`, `availability`, `advancedsearch`, `s3auth`, `bookreader`, `img`.
 */
export class CallCounter {
  private counts = new Map<string, number>();

  count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  /** Calls to `key`, or to every key starting with `key.` as well when `key` names a whole endpoint. */
  get(key: string): number {
    let total = 0;
    for (const [name, count] of this.counts) {
      if (name === key || name.startsWith(`${key}.`)) total += count;
    }
    return total;
  }

  total(): number {
    let total = 0;
    for (const count of this.counts.values()) total += count;
    return total;
  }

  /** A copy, sorted by key. */
  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.counts = new Map();
  }
}
