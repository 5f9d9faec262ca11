/** Plain HTTP calls for preparing data and checking it afterwards (the load itself is autocannon's). */

export interface Answer<T = Record<string, any>> {
  status: number;
  json: T;
}

export function apiClient(apiUrl: string) {
  return async function call<T = Record<string, any>>(
    method: string,
    path: string,
    options: { body?: unknown; token?: string } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = {};
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await fetch(new URL(path, apiUrl), {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : {}) as T };
  };
}

export type Call = ReturnType<typeof apiClient>;

/** Answers `expected` or throws naming the step (never the body: it may hold a PIN or a token). */
export async function expectStatus<T>(step: string, expected: number, answer: Promise<Answer<T>>): Promise<T> {
  const { status, json } = await answer;
  if (status !== expected) throw new Error(`${step}: expected ${expected}, got ${status}`);
  return json;
}

/** Runs `work` over `items`, at most `limit` at a time, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
