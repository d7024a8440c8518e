import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import {
  DEMO_LOAN_API_TOKEN,
  DEMO_SERVICE_KEYS,
  startArchive,
  type ArchiveOptions,
  type RunningArchive,
} from '../src/app';

/**
 * Starts one stand-in on port 0 for the file; its state is reset before each test. These tests default to the
 * classic catalogue and the lenient protocol (they also test what strictness refuses); startArchive's own
 * defaults are the full catalogue and strict.
 */
export function useArchive(options: ArchiveOptions = {}): { readonly current: RunningArchive } {
  const holder: { current: RunningArchive | null } = { current: null };
  beforeAll(async () => {
    holder.current = await startArchive({
      port: 0,
      catalogue: 'classic',
      strictProtocol: false,
      ...options,
    });
  });
  afterAll(async () => {
    await holder.current?.close();
  });
  beforeEach(() => {
    holder.current?.state.reset();
    if (holder.current) holder.current.state.now = () => new Date();
  });
  return {
    get current() {
      if (!holder.current) throw new Error('archive not started');
      return holder.current;
    },
  };
}

export interface JsonResponse {
  status: number;
  type: string;
  headers: Headers;
  body: Record<string, unknown>;
}

async function toJson(response: Response): Promise<JsonResponse> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return {
    status: response.status,
    type,
    headers: response.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  };
}

export async function xauthn(
  baseUrl: string,
  op: string,
  body: unknown,
  service: Partial<typeof DEMO_SERVICE_KEYS> | null = DEMO_SERVICE_KEYS,
  headers: Record<string, string> = {},
): Promise<JsonResponse> {
  const payload =
    body && typeof body === 'object' && !Array.isArray(body) && service ? { ...body, ...service } : body;
  const response = await fetch(`${baseUrl}/services/xauthn/?op=${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(payload),
  });
  return toJson(response);
}

export async function loan(
  baseUrl: string,
  action: string,
  identifier: string | null,
  form: Record<string, string>,
): Promise<JsonResponse> {
  const query = new URLSearchParams({ action });
  if (identifier !== null) query.set('identifier', identifier);
  const response = await fetch(`${baseUrl}/services/loans/loan/?${query.toString()}`, {
    method: 'POST',
    body: new URLSearchParams(form),
  });
  return toJson(response);
}

/** The internal lending API as OL posts to it: a form with method, token and the arguments. */
export async function lendingApi(
  baseUrl: string,
  form: Record<string, string>,
  token: string | null = DEMO_LOAN_API_TOKEN,
): Promise<JsonResponse> {
  const body = new URLSearchParams(form);
  if (token !== null) body.set('token', token);
  return toJson(await fetch(`${baseUrl}/services/openlibrary.php`, { method: 'POST', body }));
}

/** Availability v2 as OL's get_availability asks it: GET, the list comma-separated, service keys as LOW. */
export async function availability(
  baseUrl: string,
  identifiers: string[],
  authorization: string | null = `LOW ${DEMO_SERVICE_KEYS.access}:${DEMO_SERVICE_KEYS.secret}`,
): Promise<JsonResponse> {
  const query = new URLSearchParams({ identifier: identifiers.join(','), scope: 'printdisabled' });
  const headers: Record<string, string> = authorization === null ? {} : { authorization };
  return toJson(await fetch(`${baseUrl}/services/availability/?${query.toString()}`, { headers }));
}

export async function raw(url: string, init?: RequestInit): Promise<JsonResponse> {
  return toJson(await fetch(url, init));
}

/** Keys of a demo patron as the loans API's form fields. */
export const keysOf = (patron: { access: string; secret: string }) => ({
  access: patron.access,
  secret: patron.secret,
});

// Python 3 (standard library only) runs Open Library's own algorithms in some tests. Without it they skip,
// saying why, unless REQUIRE_PYTHON_INTEROP=1 (as CI sets), where they fail instead.
const PYTHON = '/usr/bin/python3';
const pythonProbe = spawnSync(PYTHON, ['-c', 'import hmac, hashlib'], { encoding: 'utf8' });
export const pythonMissing: string | null = pythonProbe.error
  ? `${PYTHON} cannot run (${pythonProbe.error.message})`
  : pythonProbe.status !== 0
    ? `${PYTHON} failed`
    : null;
export const skipPython = pythonMissing !== null && process.env.REQUIRE_PYTHON_INTEROP !== '1';
if (skipPython) {
  console.log(
    `Python interop tests skipped: ${pythonMissing}. Set REQUIRE_PYTHON_INTEROP=1 to fail instead.`,
  );
}

/** Runs `script` with `args` as JSON on stdin; the script prints JSON. */
export function python<T>(script: string, args: unknown): T {
  const result = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(args),
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  if (result.status !== 0) throw new Error(`python failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
