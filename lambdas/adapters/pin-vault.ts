/**
 * Invitation PINs must be shown to staff again, so they are stored encrypted, not hashed
 * (security rule 10), behind the PinVault port:
 *   - in AWS, KMS Encrypt/Decrypt under the stack's PIN key (PIN_KEY_ID). Only the invite
 *     function may encrypt and only the access-code and registration functions may decrypt
 *     (lib/stack/grants.ts), and the encryption context binds each PIN to its invitation;
 *   - locally, AES-256-GCM with a key file the local stack generates under its data dir
 *     (PIN_KEY_FILE), with the same binding as additional authenticated data.
 * The sealed value says which it is ("kms:" or "gcm:"), so a mix-up fails loudly.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { config } from '../config.ts';
import type { PinContext, PinVault } from '../domain/invitations.ts';

const PURPOSE = 'invitation-pin';

/** KMS encryption context; IAM conditions on `kms:EncryptionContext:purpose` (grants.ts). */
const encryptionContext = (c: PinContext) => ({ purpose: PURPOSE, patientId: c.patientId, invitationId: c.invitationId });

export function kmsPinVault(keyId: string, client: KMSClient): PinVault {
  return {
    async seal(pin, context) {
      const out = await client.send(
        new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from(pin, 'utf8'), EncryptionContext: encryptionContext(context) }),
      );
      if (!out.CiphertextBlob) throw new Error('KMS returned no ciphertext');
      return `kms:${Buffer.from(out.CiphertextBlob).toString('base64')}`;
    },
    async open(sealed, context) {
      if (!sealed.startsWith('kms:')) throw new Error('not a KMS-sealed PIN');
      const out = await client.send(
        new DecryptCommand({
          KeyId: keyId,
          CiphertextBlob: Buffer.from(sealed.slice(4), 'base64'),
          EncryptionContext: encryptionContext(context),
        }),
      );
      if (!out.Plaintext) throw new Error('KMS returned no plaintext');
      return Buffer.from(out.Plaintext).toString('utf8');
    },
  };
}

const aad = (c: PinContext) => Buffer.from(`${PURPOSE}|${c.patientId}|${c.invitationId}`, 'utf8');

/** AES-256-GCM with a 32-byte key: "gcm:" + base64url(iv ‖ tag ‖ ciphertext). */
export function fileKeyPinVault(key: Buffer): PinVault {
  if (key.length !== 32) throw new Error('the PIN key must be 32 bytes');
  return {
    async seal(pin, context) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(pin, 'utf8'), cipher.final()]);
      return `gcm:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
    },
    async open(sealed, context) {
      if (!sealed.startsWith('gcm:')) throw new Error('not a key-file-sealed PIN');
      const raw = Buffer.from(sealed.slice(4), 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    },
  };
}

export function readPinKeyFile(path: string): Buffer {
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'base64');
}

/** The vault the configuration names: the key file where PIN_KEY_FILE is set (local), else KMS. */
export function configuredPinVault(): PinVault {
  const c = config();
  if (c.PIN_KEY_FILE) return fileKeyPinVault(readPinKeyFile(c.PIN_KEY_FILE));
  if (c.PIN_KEY_ID) return kmsPinVault(c.PIN_KEY_ID, new KMSClient({ region: c.AWS_REGION }));
  throw new Error('configuration: PIN_KEY_ID or PIN_KEY_FILE is required for invitation PINs');
}
