import * as z from 'zod/mini';
import { IsoDateTime } from './common.ts';

/** One sign-in attempt on the patient's own login, as the account page lists it (GET /account/sign-ins). */
export const AccountSignIn = /* @__PURE__ */ (() => z
  .object({
    at: IsoDateTime,
    outcome: z.enum(['success', 'failure']),
    /** In words: "Signed in", "Wrong password", "Refused: too many tries" … */
    words: z.string(),
    /** The address the attempt came from, so the patient can tell their own from someone else's. */
    from: z.string(),
    /** Issue 18: set when the sign-in was a proxy's (their name as the grant has it); absent for the patient's own. */
    by: z.optional(z.string()),
  })
  .check(z.meta({ id: 'AccountSignIn' })))();

export const AccountSignIns = /* @__PURE__ */ (() => z
  .object({ items: z.array(AccountSignIn).check(z.meta({ description: 'Newest first, at most 10' })) })
  .check(z.meta({ id: 'AccountSignIns' })))();
export type AccountSignIns = z.infer<typeof AccountSignIns>;
