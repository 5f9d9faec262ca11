/**
 * Rule 31 in the patient pool's adapter: cognito-local enforces no password policy, so what
 * Cognito in AWS does with a password it refuses (InvalidPasswordException) is played here.
 */
import {
  AdminCreateUserCommand,
  AdminDeleteUserCommand,
  AdminSetUserPasswordCommand,
  CognitoIdentityProviderClient,
} from '@aws-sdk/client-cognito-identity-provider';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cognitoPatientLogins } from '../../../lambdas/adapters/patient-logins.ts';
import { DomainError } from '../../../lambdas/domain/errors.ts';

const idp = mockClient(CognitoIdentityProviderClient);
const refused = () => Object.assign(new Error('Password does not conform to policy'), { name: 'InvalidPasswordException' });
beforeEach(() => idp.onAnyCommand().resolves({}));
afterEach(() => idp.reset());

const caught = async (p: Promise<unknown>) => p.then(() => undefined, (err: unknown) => err);

describe("rule 31: Cognito's refusal of a password is the caller's 400, without half state", () => {
  it('setPassword: InvalidPasswordException becomes the validation-error 400 naming the new password', async () => {
    idp.on(AdminSetUserPasswordCommand).rejects(refused());
    const err = await caught(cognitoPatientLogins().setPassword('acc-1', 'tangerine lighthouse gravel'));
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error', extra: { errors: [{ path: 'body.newPassword' }] } });
  });

  it('upsert: a login created for a refused password is removed again (no login without a record)', async () => {
    idp.on(AdminSetUserPasswordCommand).rejects(refused());
    const err = await caught(cognitoPatientLogins().upsert('acc-2', 'tangerine lighthouse gravel'));
    expect(err).toMatchObject({ kind: 'bad-request', code: 'validation-error' });
    expect(idp.commandCalls(AdminCreateUserCommand)).toHaveLength(1);
    expect(idp.commandCalls(AdminDeleteUserCommand).map((c) => c.args[0].input.Username)).toEqual(['acc-2']);
  });

  it('upsert of a login that already existed (a retry) keeps it: only its password was refused', async () => {
    idp.on(AdminCreateUserCommand).rejects(Object.assign(new Error('exists'), { name: 'UsernameExistsException' }));
    idp.on(AdminSetUserPasswordCommand).rejects(refused());
    expect(await caught(cognitoPatientLogins().upsert('acc-3', 'tangerine lighthouse gravel'))).toMatchObject({ code: 'validation-error' });
    expect(idp.commandCalls(AdminDeleteUserCommand)).toHaveLength(0);
  });

  it('any other Cognito failure stays a failure (500-class), not a refusal', async () => {
    idp.on(AdminSetUserPasswordCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalErrorException' }));
    const err = await caught(cognitoPatientLogins().setPassword('acc-4', 'tangerine lighthouse gravel'));
    expect(err).not.toBeInstanceOf(DomainError);
  });
});
