import { describe, expect, it } from 'vitest';
import { isDatabaseOutage } from './database-error';

describe('isDatabaseOutage', () => {
  it('recognises connection failures of pg and SQLite', () => {
    expect(isDatabaseOutage(Object.assign(new Error('x'), { code: '57P01' }))).toBe(true);
    expect(isDatabaseOutage(Object.assign(new Error('x'), { code: '08006' }))).toBe(true);
    expect(isDatabaseOutage(Object.assign(new Error('x'), { code: 'SQLITE_BUSY' }))).toBe(true);
    expect(isDatabaseOutage(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseOutage(new TypeError('The database connection is not open'))).toBe(true);
    expect(
      isDatabaseOutage(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])),
    ).toBe(true);
  });

  it('does not take bugs or constraint violations for an outage', () => {
    expect(isDatabaseOutage(new TypeError('x is not a function'))).toBe(false);
    expect(isDatabaseOutage(Object.assign(new Error('dup'), { code: '23505' }))).toBe(false);
    expect(isDatabaseOutage('ECONNREFUSED')).toBe(false);
  });
});
