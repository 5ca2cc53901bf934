// The one way the back office talks to Kluis: the HTTP API on the same origin, with the session
// cookie (HttpOnly, sent by the browser), the CSRF token on writes and the purpose of each access.

/** An RFC 9457 problem answered by the API, with its stable code. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly detail: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly requestId: string | undefined;
  readonly retryAfter: number | undefined;

  constructor(status: number, problem: Problem, retryAfter?: number) {
    super(problem.detail ?? problem.title ?? `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code ?? 'unknown';
    this.detail = problem.detail;
    this.details = problem.details;
    this.requestId = problem.requestId;
    this.retryAfter = retryAfter;
  }
}

interface Problem {
  code?: string;
  title?: string;
  detail?: string;
  details?: Record<string, unknown>;
  requestId?: string;
}

const CSRF_KEY = 'kluis.csrf';

/**
 * The CSRF token is answered once, at login (and when the session is upgraded). It lives in this
 * tab's sessionStorage: a reload keeps it, a new tab signs in again (decision 0170).
 */
export function setCsrfToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(CSRF_KEY, token);
  else sessionStorage.removeItem(CSRF_KEY);
}

function csrfToken(): string | undefined {
  return sessionStorage.getItem(CSRF_KEY) ?? undefined;
}

export interface RequestOptions {
  body?: unknown;
  /** The x-kluis-purpose header: the purpose key this access is made under. */
  purpose?: string | undefined;
  /** Idempotency-Key for POSTs that make money documents or send mail. */
  idempotencyKey?: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Raw body (e.g. CSV, or a file the browser streams) with its content type. */
  raw?: { contentType: string; data: string | Blob };
}

function urlOf(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

async function send(method: string, path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | Blob | undefined;
  if (options.raw) {
    headers['content-type'] = options.raw.contentType;
    body = options.raw.data;
  } else if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  }
  if (method !== 'GET') {
    const csrf = csrfToken();
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  if (options.purpose) headers['x-kluis-purpose'] = options.purpose;
  if (options.idempotencyKey) headers['idempotency-key'] = options.idempotencyKey;
  const response = await fetch(urlOf(path, options.query), {
    method,
    headers,
    credentials: 'same-origin',
    ...(body === undefined ? {} : { body }),
  });
  if (!response.ok) {
    let problem: Problem = {};
    try {
      problem = (await response.json()) as Problem;
    } catch {
      // Not a problem document (a proxy's page): the status says enough.
    }
    const retry = Number(response.headers.get('retry-after'));
    throw new ApiError(response.status, problem, Number.isFinite(retry) && retry > 0 ? retry : undefined);
  }
  return response;
}

/** A JSON call; 204 answers undefined. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(method, path, options);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** A document (HTML invoice, UBL XML) as text, under a purpose. */
export async function fetchText(path: string, options: RequestOptions = {}): Promise<string> {
  const response = await send('GET', path, options);
  return response.text();
}

/** A binary document (PDF invoice, CSV export) as a Blob, under a purpose. */
export async function fetchBlob(path: string, options: RequestOptions = {}): Promise<Blob> {
  const response = await send('GET', path, options);
  return response.blob();
}

/** Hands a Blob to the browser as a download under a file name. */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A fresh Idempotency-Key for one intended action (a retry of the same click reuses it). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
