/**
 * Lobby passwords (issue 16 item 4): kept only as HMAC-SHA-256 under a key that is not in the
 * table (why a fast keyed hash: lambdas/domain/secrets.ts). That key is derived from this KMS
 * HMAC_256 key: GenerateMac(key, "portal-access lobby password key v1"), asked once per cold
 * start by the only functions allowed to (lobby issue and lobby sign-in, grant 'lobbyKey:mac' in
 * lib/stack/grants.ts; lambdas/adapters/lobby-key.ts). The key material never leaves KMS.
 *
 * A key of its own rather than the phone-code key with another message: that key exists only in
 * deployments with SMS, and IAM cannot limit GenerateMac to some messages, so sharing would let
 * the lobby functions compute phone-code hashes and the texting functions lobby-password hashes.
 * One key per secret keeps each function able to hash its own secret only (one resource, ~$1 a
 * month). The PIN key cannot serve: a symmetric encryption key does not compute MACs.
 *
 * Rotation: KMS does not rotate HMAC keys automatically (EnableKeyRotation is refused for them);
 * the derived key is replaced by changing the label's "v1" or replacing this key, which only
 * refuses the lobby passwords outstanding at the time (they live ≤ 24 h). Removal: DESTROY, i.e.
 * scheduled deletion after KMS's waiting period: nothing kept under it outlives a day.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { Key, KeySpec, KeyUsage } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export class LobbyKey extends Construct {
  readonly key: Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.key = new Key(this, 'Key', {
      description: 'portal-access: lobby passwords, HMAC (GenerateMac: lobby issue and sign-in functions)',
      keySpec: KeySpec.HMAC_256,
      keyUsage: KeyUsage.GENERATE_VERIFY_MAC,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
