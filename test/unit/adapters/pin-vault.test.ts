import { randomBytes } from 'node:crypto';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { fileKeyPinVault, kmsPinVault } from '../../../lambdas/adapters/pin-vault.ts';

const kms = mockClient(KMSClient);
afterEach(() => kms.reset());

const context = { patientId: 'P-1', invitationId: 'inv-1' };

describe('rule 10: the PIN vault', () => {
  it('locally: AES-256-GCM, a fresh IV each time, bound to the invitation, tamper-evident', async () => {
    const vault = fileKeyPinVault(randomBytes(32));
    const a = await vault.seal('K7MX4R', context);
    const b = await vault.seal('K7MX4R', context);
    expect(a).not.toBe(b);
    expect(a).not.toContain('K7MX4R');
    expect(a).toMatch(/^gcm:[A-Za-z0-9_-]+$/);
    expect(await vault.open(a, context)).toBe('K7MX4R');
    await expect(vault.open(a, { ...context, patientId: 'P-2' })).rejects.toThrow();
    await expect(vault.open(a, { ...context, invitationId: 'inv-2' })).rejects.toThrow();
    const tampered = `gcm:${Buffer.from(Buffer.from(a.slice(4), 'base64url').map((x, i) => (i === 30 ? x ^ 1 : x))).toString('base64url')}`;
    await expect(vault.open(tampered, context)).rejects.toThrow();
    await expect(fileKeyPinVault(randomBytes(32)).open(a, context)).rejects.toThrow();
    expect(() => fileKeyPinVault(randomBytes(16))).toThrow(/32 bytes/);
  });

  it('in AWS: KMS Encrypt and Decrypt with the PIN key and an encryption context naming the invitation', async () => {
    kms.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('sealed-by-kms') });
    kms.on(DecryptCommand).resolves({ Plaintext: Buffer.from('K7MX4R') });
    const vault = kmsPinVault('arn:aws:kms:us-east-1:111122223333:key/pin', new KMSClient({ region: 'us-east-1' }));
    const sealed = await vault.seal('K7MX4R', context);
    expect(sealed).toBe(`kms:${Buffer.from('sealed-by-kms').toString('base64')}`);
    const expectedContext = { purpose: 'invitation-pin', patientId: 'P-1', invitationId: 'inv-1' };
    const enc = kms.commandCalls(EncryptCommand)[0]!.args[0].input;
    expect(enc).toMatchObject({ KeyId: 'arn:aws:kms:us-east-1:111122223333:key/pin', EncryptionContext: expectedContext });
    expect(Buffer.from(enc.Plaintext!).toString()).toBe('K7MX4R');
    expect(await vault.open(sealed, context)).toBe('K7MX4R');
    const dec = kms.commandCalls(DecryptCommand)[0]!.args[0].input;
    expect(dec).toMatchObject({ KeyId: 'arn:aws:kms:us-east-1:111122223333:key/pin', EncryptionContext: expectedContext });
    expect(Buffer.from(dec.CiphertextBlob!).toString()).toBe('sealed-by-kms');
    await expect(vault.open('gcm:abc', context)).rejects.toThrow();
  });
});
