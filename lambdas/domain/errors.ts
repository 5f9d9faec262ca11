/**
 * Typed domain errors. The domain says what went wrong in its own words; the HTTP layer maps
 * each kind to a status and a problem+json body in one place (lambdas/http/problems.ts).
 */
export type DomainErrorKind =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'conflict'
  | 'gone'
  | 'unprocessable'
  | 'too-many-requests'
  | 'unavailable';

export class DomainError extends Error {
  constructor(
    readonly kind: DomainErrorKind,
    /** Stable slug for the problem type, e.g. "version-conflict". */
    readonly code: string,
    /** Safe to show the caller: never a secret, never PHI, never an internal name. */
    message: string,
    readonly extra: {
      retryAfterSeconds?: number;
      /** Extra top-level members of the problem body (e.g. resetAvailable). */
      fields?: Record<string, unknown>;
      /** For bad-request: which input was wrong. */
      errors?: { path: string; message: string }[];
    } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError('not-found', 'not-found', `${what} was not found.`);

export const versionConflict = () =>
  new DomainError(
    'conflict',
    'version-conflict',
    'The record has changed since you read it. Read it again and repeat your change.',
  );

/**
 * Runs a read-modify-write step again when a concurrent writer won the race (its conditional
 * write threw `version-conflict`), so that no edit is lost. Waits a short random time between
 * tries so that writers that collided do not collide again in lockstep; after `tries` it gives
 * up with the 409.
 */
export async function retryOnConflict<T>(step: () => Promise<T>, tries = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const conflict = err instanceof DomainError && err.code === 'version-conflict';
      if (!conflict || attempt >= tries) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    }
  }
}

/**
 * The database stayed busy (write conflicts or throttling) through every retry (security rule
 * 35; lambdas/adapters/dynamo-retry.ts). Not a DomainError on purpose: code that treats a
 * DomainError as "refused, nothing done" must treat this as an outcome it does not know, like any
 * other backend failure. The HTTP layer answers it 503 with Retry-After, never naming the backend.
 */
export class BackendBusy extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    /** The last error from the database (its name is logged; never shown to the caller). */
    readonly last?: unknown,
  ) {
    super('The service is busy. Try again in a moment.');
    this.name = 'BackendBusy';
  }
}
