import { DomainError } from '../../lambdas/domain/errors.ts';

/** A domain call's outcome as `kind:code` ('ok' when it resolved); anything but a DomainError is rethrown. */
export const outcome = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (err: unknown) => {
      if (err instanceof DomainError) return `${err.kind}:${err.code}`;
      throw err;
    },
  );
