/**
 * The lobby-password HMAC key in the deployed stack (issue 16 item 4): a KMS HMAC_256 key of its
 * own in every deployment (SMS or not), not rotated (KMS cannot rotate HMAC keys) and deleted
 * with the stack (nothing under it outlives a day); GenerateMac on it for the lobby issue and
 * lobby sign-in functions only, on that key only, and nothing else on it for anyone; those two
 * functions know it as LOBBY_KEY_ID; cdk-nag finds nothing unacknowledged on it. Built from
 * context as `cdk synth` builds it, without bundling: configuration, not code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { portalStackFromContext } from '../../lib/stack/app.ts';
import { nagPacks } from '../../lib/stack/nag-packs.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';

type Json = any; // synthesized CloudFormation JSON

const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const lobbyRoutes = ['lobby-password-create', 'lobby-sign-in'];

function build(context: Record<string, unknown>) {
  const app = new App({ context: { ...cdkJson.context, senderEmail: 'portal@clinic.test', allowPlaceholders: 'true', 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = portalStackFromContext(app);
  const template = Template.fromStack(stack);
  const resources = (template.toJSON() as Json).Resources as Record<string, Json>;
  const idOf = (c: Json) => stack.resolve(stack.getLogicalId(c.node.defaultChild)) as string;
  return { stack, template, resources, lobbyKeyId: idOf(stack.lobbyKey.key), phoneKeyId: stack.phoneCodeKey ? idOf(stack.phoneCodeKey.key) : undefined, idOf };
}

const asArray = (v: Json): Json[] => (Array.isArray(v) ? v : [v]);
/** Every statement of every IAM policy in the template, with its owner's logical id. */
const statements = (b: ReturnType<typeof build>) =>
  Object.entries(b.resources)
    .filter(([, r]) => r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy')
    .flatMap(([owner, r]) => (r.Properties.PolicyDocument.Statement as Json[]).map((statement) => ({ owner, statement })));
const names = (statement: Json, id: string) => JSON.stringify(statement.Resource).includes(`"${id}"`);

const plain = build({});
const withSms = build({ smsOriginationIdentity: `phone-${'a1'.repeat(16)}`, smsMonthlySpendLimit: '25' });

describe('the lobby-password HMAC key (issue 16 item 4)', () => {
  it('exists in every deployment: HMAC_256 for GenerateMac, not rotated (KMS refuses rotation of HMAC keys), deleted with the stack', () => {
    for (const b of [plain, withSms]) {
      const key = b.resources[b.lobbyKeyId];
      expect(key.Type).toBe('AWS::KMS::Key');
      expect(key.Properties).toMatchObject({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' });
      expect(key.Properties.EnableKeyRotation ?? false).toBe(false);
      expect(key.DeletionPolicy).toBe('Delete');
      expect(key.UpdateReplacePolicy).toBe('Delete');
    }
    // A key of its own, not the phone-code key with another message.
    expect(withSms.lobbyKeyId).not.toBe(withSms.phoneKeyId);
  });

  it('only the lobby issue and sign-in functions may GenerateMac on it, on that key only; nothing else in the stack names it', () => {
    for (const b of [plain, withSms]) {
      const lobbyPolicies = new Set(lobbyRoutes.map((id) => b.idOf(b.stack.functions.get(id)!.policy)));
      const onKey = statements(b).filter(({ statement }) => names(statement, b.lobbyKeyId));
      expect(new Set(onKey.map((s) => s.owner))).toEqual(lobbyPolicies);
      for (const { owner, statement } of onKey) {
        expect(asArray(statement.Action), owner).toEqual(['kms:GenerateMac']);
        expect(asArray(statement.Resource), owner).toHaveLength(1);
        expect(statement.Effect).toBe('Allow');
      }
      // The lobby functions may MAC with no other key (not the phone-code key), and through no wildcard.
      for (const { owner, statement } of statements(b)) {
        const actions = asArray(statement.Action) as string[];
        if (!actions.some((a) => a === 'kms:GenerateMac' || a === 'kms:*' || a === '*')) continue;
        if (lobbyPolicies.has(owner)) expect(names(statement, b.lobbyKeyId), owner).toBe(true);
        expect(asArray(statement.Resource), owner).not.toContain('*');
      }
    }
    // With SMS, the texting and registration functions MAC with the phone-code key only.
    const phone = statements(withSms).filter(({ statement }) => names(statement, withSms.phoneKeyId!));
    expect(phone.length).toBeGreaterThan(0);
    for (const lobby of lobbyRoutes) expect(phone.map((s) => s.owner)).not.toContain(withSms.idOf(withSms.stack.functions.get(lobby)!.policy));
  });

  it('the lobby functions know the key as LOBBY_KEY_ID', () => {
    for (const id of lobbyRoutes) {
      const fn = plain.resources[plain.idOf(plain.stack.functions.get(id)!.function)];
      expect(fn.Properties.Environment.Variables.LOBBY_KEY_ID, id).toEqual({ 'Fn::GetAtt': [plain.lobbyKeyId, 'Arn'] });
    }
  });

  it('cdk-nag: nothing unacknowledged on the key and the lobby functions', () => {
    const scopes = [plain.stack.node.findChild('LobbyKey'), ...lobbyRoutes.map((id) => plain.stack.functions.get(id)!)];
    const found = nagPacks().flatMap((pack) =>
      scopes.flatMap((scope) => pack.validateScope(scope).violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`)),
    );
    expect(found).toEqual([]);
  });
});
