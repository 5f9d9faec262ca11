/**
 * Phone codes' adapters (issue 17):
 *   - the PhoneCodeKey: KMS GenerateMac (HMAC_SHA_256) with the stack's phone-code key
 *     (PHONE_CODE_KEY_ID) in AWS, so no function ever holds the key; locally an HMAC key derived
 *     (HKDF) from the local stack's PIN key file (PIN_KEY_FILE), the same key source as the
 *     sealed PINs, under its own label so the two uses never share a key;
 *   - the PhoneCodeStore: the claim of one text, a conditional UpdateItem of the invitation's
 *     link state (only its phoneCode secret and its send times, never the try counters) in one
 *     transaction with the audit entry.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import { GenerateMacCommand, KMSClient } from '@aws-sdk/client-kms';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { config } from '../config.ts';
import type { PhoneCodeKey, PhoneCodeStore } from '../domain/phone-codes.ts';
import { dynamo } from './clients.ts';
import { linkKeys } from './dynamo-links.ts';
import { auditItem } from './dynamo-store.ts';
import { readPinKeyFile } from './pin-vault.ts';
import { conditionFailed, transactWrite } from './transactions.ts';

export function hmacPhoneCodeKey(secret: Buffer): PhoneCodeKey {
  const key = Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'portal-access phone-code hmac v1', 32));
  return { mac: async (message) => createHmac('sha256', key).update(message, 'utf8').digest('base64url') };
}

export function kmsPhoneCodeKey(keyId: string, client: KMSClient): PhoneCodeKey {
  return {
    async mac(message) {
      const out = await client.send(new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: 'HMAC_SHA_256', Message: Buffer.from(message, 'utf8') }));
      if (!out.Mac) throw new Error('KMS returned no MAC');
      return Buffer.from(out.Mac).toString('base64url');
    },
  };
}

let key: PhoneCodeKey | undefined;

/** The key the configuration names: KMS where PHONE_CODE_KEY_ID is set, else the local key file; undefined with neither. */
export function configuredPhoneCodeKey(): PhoneCodeKey | undefined {
  if (key) return key;
  const c = config();
  if (c.PHONE_CODE_KEY_ID) key = kmsPhoneCodeKey(c.PHONE_CODE_KEY_ID, new KMSClient({ region: c.AWS_REGION }));
  else if (c.PIN_KEY_FILE) key = hmacPhoneCodeKey(readPinKeyFile(c.PIN_KEY_FILE));
  return key;
}

export function dynamoPhoneCodes(options: { db?: Pick<DynamoDBDocumentClient, 'send'>; table?: string; auditTable?: string } = {}): PhoneCodeStore {
  const db = options.db ?? dynamo();
  const table = options.table ?? config().RECORDS_TABLE;
  const auditTable = options.auditTable ?? config().AUDIT_TABLE;
  const keys = linkKeys('invitation');
  return {
    async claimText(change) {
      try {
        await transactWrite(db, {
          state: {
            Update: {
              TableName: table,
              Key: keys.state(change.patientId),
              UpdateExpression: 'SET #secrets.#code = :stored, phoneSends = :sends',
              // Still that pending link behind that token, and nobody claimed since this request read it.
              ConditionExpression:
                'linkId = :link AND #status = :pending AND tokenHash = :hash AND attribute_exists(#secrets) AND ' +
                (change.read === undefined ? 'attribute_not_exists(phoneSends)' : 'phoneSends = :read'),
              ExpressionAttributeNames: { '#secrets': 'secrets', '#code': 'phoneCode', '#status': 'status' },
              ExpressionAttributeValues: {
                ':stored': change.stored,
                ':sends': change.sends,
                ':link': change.linkId,
                ':pending': 'Pending',
                ':hash': change.tokenHash,
                ...(change.read === undefined ? {} : { ':read': change.read }),
              },
            },
          },
          audit: { Put: { TableName: auditTable, Item: auditItem(change.audit), ConditionExpression: 'attribute_not_exists(pk)' } },
        });
        return true;
      } catch (err) {
        if (conditionFailed(err, 'state')) return false;
        throw err;
      }
    },
  };
}
