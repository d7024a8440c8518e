import { afterAll, beforeAll, beforeEach } from 'vitest';
import { DEMO_SERVICE_KEYS, startArchive, type RunningArchive } from '../src/app';

/** Starts one stand-in on port 0 for the file; its state is reset before each test. */
export function useArchive(): { readonly current: RunningArchive } {
  const holder: { current: RunningArchive | null } = { current: null };
  beforeAll(async () => {
    holder.current = await startArchive({ port: 0 });
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
  body: Record<string, unknown>;
}

async function toJson(response: Response): Promise<JsonResponse> {
  const type = response.headers.get('content-type') ?? '';
  const text = await response.text();
  return { status: response.status, type, body: JSON.parse(text) as Record<string, unknown> };
}

export async function xauthn(
  baseUrl: string,
  op: string,
  body: unknown,
  service: Partial<typeof DEMO_SERVICE_KEYS> | null = DEMO_SERVICE_KEYS,
): Promise<JsonResponse> {
  const payload =
    body && typeof body === 'object' && !Array.isArray(body) && service ? { ...body, ...service } : body;
  const response = await fetch(`${baseUrl}/services/xauthn/?op=${op}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
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

export async function raw(url: string, init?: RequestInit): Promise<JsonResponse> {
  return toJson(await fetch(url, init));
}
