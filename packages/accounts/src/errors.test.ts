import { describe, expect, it } from 'vitest';
import { AppError, causeChain, isAppError, RevisionConflictError } from './errors';

describe('AppError', () => {
  it('carries a code, a detail and a cause; its message starts with the code', () => {
    const cause = new Error('connect ECONNREFUSED');
    const error = new AppError('archive_unavailable', 'xauthn info: connection failed', { cause });
    expect(error).toMatchObject({ name: 'AppError', code: 'archive_unavailable', cause });
    expect(error.detail).toBe('xauthn info: connection failed');
    expect(error.message).toBe('archive_unavailable: xauthn info: connection failed');
    expect(isAppError(error)).toBe(true);
    expect(isAppError(error, 'archive_unavailable')).toBe(true);
    expect(isAppError(error, 'not_found')).toBe(false);
    expect(isAppError(new Error('x'))).toBe(false);
  });

  it('has RevisionConflictError as one of its codes', () => {
    const conflict = new RevisionConflictError('alice');
    expect(conflict).toBeInstanceOf(AppError);
    expect(conflict).toMatchObject({ code: 'revision_conflict', username: 'alice' });
  });
});

describe('causeChain', () => {
  it('follows causes outermost first, and stops on a loop', () => {
    const inner = new Error('inner');
    const outer = new Error('outer', { cause: inner });
    Object.assign(inner, { cause: outer });
    expect(causeChain(outer, { stacks: false })).toEqual([
      { name: 'Error', message: 'outer' },
      { name: 'Error', message: 'inner' },
    ]);
  });

  it('goes into the first error of an AggregateError (pg trying several addresses)', () => {
    const v6 = Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' });
    const chain = causeChain(new AggregateError([v6], ''), { stacks: false });
    expect(chain[1]).toEqual({
      name: 'Error',
      message: 'connect ECONNREFUSED ::1:5432',
      code: 'ECONNREFUSED',
    });
  });

  it('logs only the type of a thrown value that is not an Error', () => {
    expect(causeChain('password=hunter2', { stacks: true })).toEqual([
      { name: 'string', message: 'a thrown value that is not an Error' },
    ]);
  });
});
