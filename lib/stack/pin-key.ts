/**
 * The key that seals invitation PINs (security rule 10): a customer-managed KMS key of its own,
 * rotated yearly and retained, apart from the data key so that reading the tables never means
 * reading PINs. The key policy is CDK's default (the account administers it); which function
 * may encrypt or decrypt is decided by the functions' own policies (grants 'pinKey:encrypt' and
 * 'pinKey:decrypt' in lib/stack/grants.ts), each limited to the PIN encryption context.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export class PinKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'portal-access: invitation PINs (encrypt: invite function; decrypt: access-code and registration functions)',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
