import type { AppErrorCode } from './types';

/** A failure the caller can act on, with a stable code. `detail` is for logs only and holds no secret. */
export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    message?: string,
    readonly detail?: string,
  ) {
    super(message ?? code);
    this.name = 'AppError';
  }
}

export class AccountExistsError extends Error {
  constructor(readonly field: 'username' | 'email' | 'itemname') {
    super(`An account with this ${field} already exists`);
    this.name = 'AccountExistsError';
  }
}

export class RevisionConflictError extends Error {
  constructor(readonly username: string) {
    super(`Account ${username} was changed by someone else; read it again and retry`);
    this.name = 'RevisionConflictError';
  }
}

export class AccountNotFoundError extends Error {
  constructor(readonly username: string) {
    super(`No account named ${username}`);
    this.name = 'AccountNotFoundError';
  }
}

/** Raised when archive.org refuses our own service keys: an operator must fix the configuration. */
export class ArchiveConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArchiveConfigError';
  }
}
