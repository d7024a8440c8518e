// `pnpm lending borrow|return|loans|read`: a small command on the typed client, the way another internal
// app would use the Lending API (log in with S3 keys, keep the cookies, call procedures).
import type { AppErrorCode } from '@lending/api';
import { createLendingClient } from '@lending/client';
import type { LendingEnv } from './env';

export const USAGE = `Usage: pnpm lending <command>

Commands:
  borrow <identifier> [--browse]  borrow a book (or browse it for an hour with --browse)
  return <identifier>             return a book
  loans                           list the books you have on loan
  read <identifier>               print a BookReader link for a book you have on loan (open it within 2 minutes)

Environment:
  LENDING_ACCESS, LENDING_SECRET  your archive.org S3 keys (https://archive.org/account/s3.php)
  LENDING_URL                     the Lending server (default http://127.0.0.1:3000)

Exit codes: 0 done, 1 failed, 2 usage or configuration error.`;

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export type LendingCommand =
  | { command: 'borrow'; identifier: string; browse: boolean }
  | { command: 'return'; identifier: string }
  | { command: 'read'; identifier: string }
  | { command: 'loans' }
  | { command: 'help' };

export interface Output {
  out(line: string): void;
  err(line: string): void;
}

/** Parses argv (without node and the script); a string is a usage error to show. */
export function parseArgs(argv: readonly string[]): LendingCommand | string {
  const args = argv.filter((a) => a !== '--');
  if (args.includes('--help') || args.includes('-h') || args[0] === 'help') return { command: 'help' };
  const [command, ...rest] = args;
  const flags = rest.filter((a) => a.startsWith('-'));
  const positional = rest.filter((a) => !a.startsWith('-'));
  switch (command) {
    case undefined:
      return 'Missing command.';
    case 'borrow':
    case 'return':
    case 'read': {
      const allowed = command === 'borrow' ? ['--browse'] : [];
      const unknown = flags.find((f) => !allowed.includes(f));
      if (unknown) return `Unknown option for ${command}: ${unknown}`;
      if (positional.length === 0) return `Missing book identifier: pnpm lending ${command} <identifier>`;
      if (positional.length > 1) return `Too many arguments: ${command} takes one identifier.`;
      const identifier = positional[0]!;
      return command === 'borrow'
        ? { command, identifier, browse: flags.includes('--browse') }
        : { command, identifier };
    }
    case 'loans':
      if (rest.length > 0) return `loans takes no arguments (got: ${rest.join(' ')}).`;
      return { command };
    default:
      return `Unknown command: ${command}`;
  }
}

// What this command says for each error code: keyed by the API's list, so a new code without words here fails the
// typecheck. The reader holds S3 keys in LENDING_ACCESS / LENDING_SECRET and can run the command again.
const WORDS: Record<AppErrorCode, string> = {
  invalid_email: 'The email address is not valid.',
  invalid_credentials: 'The Lending server refused the login.',
  account_locked: 'This archive.org account is locked. Contact archive.org support to unlock it.',
  account_blocked: 'This account is blocked on the Lending server. Ask its operator.',
  ia_account_not_verified:
    'This archive.org account is not verified yet: follow the link in the email archive.org sent, then run this again.',
  invalid_s3keys:
    'archive.org refused the keys in LENDING_ACCESS / LENDING_SECRET. Check them at https://archive.org/account/s3.php',
  max_retries_exceeded: 'The account could not be created just now. Run the command again.',
  rate_limited: 'Too many logins from here. Wait a few minutes and run the command again.',
  s3_keys_missing: 'The session has no archive.org keys. Run the command again.',
  lending_limit: 'archive.org refused: the lending limit is reached. Return a book, or try again later.',
  item_locked: 'archive.org refused: no copy is free, or the item is locked for now. Try again later.',
  print_disabled_only: 'archive.org refused: only print-disabled patrons may borrow this book.',
  not_found: 'No such book or loan. Check the identifier (`pnpm lending loans` lists your loans).',
  not_borrowed:
    'You do not have this book on loan now. Borrow it first (`pnpm lending loans` lists your loans).',
  archive_unavailable: 'archive.org is not answering. Try again in a minute.',
  archive_busy: 'The Lending server is busy talking to archive.org. Try again in a moment.',
  batch_too_large: 'The request held too many calls in one batch.',
  archive_misconfigured:
    'The Lending server cannot use archive.org (its own service keys are refused). Tell its operator.',
  revision_conflict: 'The account changed at the same moment. Run the command again.',
  database_unavailable: "The Lending server's database is not answering. Try again in a minute.",
  database_busy: "The Lending server's database is busy. Run the command again in a moment.",
  invalid_code: 'The one-time code was refused (wrong, expired or already used). Ask for a new one.',
};

interface ClientError {
  message: string;
  data?: {
    code?: string;
    appCode?: string;
    retryAfter?: number;
    fieldErrors?: Record<string, string[]>;
  } | null;
}

function isClientError(error: unknown): error is ClientError {
  return error instanceof Error && 'data' in error;
}

/**
 * One line for the terminal: this command's words for the error's code, with the code for scripts and support.
 * A code this version does not know gets the server's own (neutral, English) message.
 */
export function describeFailure(error: unknown, url: string): string {
  if (isClientError(error) && error.data) {
    const { appCode, code, fieldErrors, retryAfter } = error.data;
    if (fieldErrors && Object.keys(fieldErrors).length > 0) {
      const fields = Object.entries(fieldErrors).map(
        ([field, messages]) => `${field}: ${messages.join(', ')}`,
      );
      return `${fields.join('; ')} (${code ?? 'BAD_REQUEST'})`;
    }
    if (appCode === 'rate_limited' && typeof retryAfter === 'number') {
      return `Too many logins from here. Wait ${retryAfter} s and run the command again. (${appCode})`;
    }
    if (appCode !== undefined && Object.hasOwn(WORDS, appCode)) {
      return `${WORDS[appCode as AppErrorCode]} (${appCode})`;
    }
    return `${error.message} (${appCode ?? code ?? 'error'})`;
  }
  // No tRPC error body: nothing answered, or something that is not the Lending API did.
  return `Cannot reach the Lending server at ${url}. Is it running? Start it with \`pnpm start\`, or set LENDING_URL.`;
}

function formatDue(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export interface RunOptions {
  env: LendingEnv;
  output: Output;
  fetch?: typeof fetch;
}

export async function runLending(argv: readonly string[], options: RunOptions): Promise<number> {
  const { env, output } = options;
  const parsed = parseArgs(argv);
  if (typeof parsed === 'string') {
    output.err(`lending: ${parsed}\n\n${USAGE}`);
    return EXIT.usage;
  }
  if (parsed.command === 'help') {
    output.out(USAGE);
    return EXIT.ok;
  }
  if (!env.LENDING_ACCESS || !env.LENDING_SECRET) {
    const missing = [!env.LENDING_ACCESS && 'LENDING_ACCESS', !env.LENDING_SECRET && 'LENDING_SECRET'].filter(
      Boolean,
    );
    output.err(
      `lending: set ${missing.join(' and ')} to your archive.org S3 keys (https://archive.org/account/s3.php).`,
    );
    return EXIT.usage;
  }

  const client = createLendingClient({
    url: `${env.LENDING_URL}/trpc`,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  try {
    const me = await client.auth.loginWithKeys.mutate({
      access: env.LENDING_ACCESS,
      secret: env.LENDING_SECRET,
    });
    switch (parsed.command) {
      case 'borrow': {
        const action = parsed.browse ? 'browse' : 'borrow';
        const { loan } = await client.loans.borrow.mutate({ identifier: parsed.identifier, action });
        const what = loan?.title ? `“${loan.title}” (${parsed.identifier})` : parsed.identifier;
        const due = loan ? `, due ${formatDue(loan.dueAt)}` : '';
        output.out(`${parsed.browse ? 'Browsing' : 'Borrowed'} ${what} for ${me.displayName}${due}.`);
        break;
      }
      case 'return':
        await client.loans.return.mutate({ identifier: parsed.identifier });
        output.out(`Returned ${parsed.identifier}.`);
        break;
      case 'read': {
        // The link is the patron's own credential for two minutes: printed for them, nowhere else.
        const { url } = await client.loans.readLink.mutate({ identifier: parsed.identifier });
        output.out(url);
        break;
      }
      case 'loans': {
        const loans = await client.loans.list.query();
        if (loans.length === 0) {
          output.out(`${me.displayName} has no books on loan.`);
          break;
        }
        output.out(`${me.displayName} has ${loans.length} book${loans.length === 1 ? '' : 's'} on loan:`);
        const width = Math.max(...loans.map((l) => l.identifier.length));
        for (const loan of loans) {
          const kind = loan.type === 'browse' ? 'browse' : 'borrow';
          output.out(
            `  ${loan.identifier.padEnd(width)}  ${kind}  due ${formatDue(loan.dueAt)}  ${loan.title ?? ''}`.trimEnd(),
          );
        }
        break;
      }
    }
    return EXIT.ok;
  } catch (error) {
    output.err(`lending: ${describeFailure(error, env.LENDING_URL)}`);
    return EXIT.failed;
  } finally {
    client.cookies.clear();
  }
}
