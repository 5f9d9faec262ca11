/**
 * Phone codes (issue 17, rule 33): the codes are kept only as a KEYED hash, and the key is a KMS
 * HMAC key of its own (HMAC_256, GenerateMac): no function ever holds it, only the texting and
 * registration functions may compute a MAC with it ('phoneCodeKey:mac', lib/stack/grants.ts),
 * and a copy of the table alone cannot test the million possible codes against a stored hash.
 * The PIN key (pin-key.ts) cannot serve: a symmetric encryption key does not compute MACs.
 * Locally the same role is played by a key derived from the local PIN key file
 * (lambdas/adapters/phone-codes.ts).
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export class PhoneCodeKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'portal-access: phone codes, HMAC (GenerateMac: phone-code and registration functions)',
      keySpec: KeySpec.HMAC_256,
      keyUsage: KeyUsage.GENERATE_VERIFY_MAC,
      // A code lives 10 minutes: the key need not outlive the stack.
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
