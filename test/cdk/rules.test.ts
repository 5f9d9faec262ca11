/**
 * Security rules that are configuration, asserted on the synthesized template where
 * portal-stack.test.ts does not already (that file covers rules 1, 2, 3, 6, 10, 13, 16, 19, 21
 * and 22 in part; see the README's rule table). One synthesis for the file, without bundling.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseStackContext } from '../../lib/stack/context.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';
import { PortalAccessStack } from '../../lib/stack/portal-stack.ts';

type Json = any; // synthesized CloudFormation JSON

let stack: PortalAccessStack;
let resources: Record<string, Json>;

beforeAll(() => {
  // cdk.json's context (feature flags and defaults), as `cdk synth` would pass it.
  const cdkContext = (JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> }).context;
  // No bundling (an empty bundling-stacks list): these assertions are about configuration, not
  // code, and bundling every function again would double the cdk suite's time.
  const app = new App({
    context: { ...cdkContext, senderEmail: 'portal@clinic.test', portalUrl: 'https://portal.clinic.test', allowPlaceholders: 'true', 'aws:cdk:bundling-stacks': [] },
  });
  const ctx = parseStackContext((name) => app.node.tryGetContext(name));
  stack = new PortalAccessStack(app, 'PortalAccessRules', { senderEmail: ctx.senderEmail, portalUrl: ctx.portalUrl!, practiceName: 'Test Practice', alarmEmail: 'ops@clinic.test' });
  resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
});

const ofType = (type: string): [string, Json][] => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalId = (c: CfnElement | { node: { defaultChild?: unknown } }): string =>
  stack.resolve(stack.getLogicalId(c instanceof CfnElement ? c : (c.node.defaultChild as CfnElement))) as string;

describe('configuration rules', () => {
  it('rule 4: no password expiry, hint or security question: the pools keep only length and temporary-password settings and no such attribute', () => {
    const pools = ofType('AWS::Cognito::UserPool');
    expect(pools).toHaveLength(2);
    for (const [id, pool] of pools) {
      const policy = pool.Properties.Policies.PasswordPolicy as Record<string, unknown>;
      for (const key of Object.keys(policy)) {
        expect(['MinimumLength', 'RequireLowercase', 'RequireUppercase', 'RequireNumbers', 'RequireSymbols', 'TemporaryPasswordValidityDays', 'PasswordHistorySize'], `${id}: ${key}`).toContain(key);
      }
      const attributes = ((pool.Properties.Schema ?? []) as { Name: string }[]).map((a) => a.Name);
      expect(attributes.filter((n) => /hint|question|answer|secret|memorable/i.test(n)), id).toEqual([]);
    }
  });

  it('rule 19: the audit table has no TTL (nothing expires entries), no resource policy and no stream; it is retained and deletion-protected', () => {
    const audit = resources[logicalId(stack.data.tables.audit)];
    expect(audit.Type).toBe('AWS::DynamoDB::Table');
    expect(audit.Properties.TimeToLiveSpecification).toBeUndefined();
    expect(audit.Properties.ResourcePolicy).toBeUndefined();
    expect(audit.Properties.StreamSpecification).toBeUndefined();
    expect(audit.Properties.DeletionProtectionEnabled).toBe(true);
    expect(audit.DeletionPolicy).toBe('Retain');
    // No event source mapping or Kinesis destination that could act on audit items.
    expect(ofType('AWS::Lambda::EventSourceMapping')).toEqual([]);
  });

  it('rule 22: no IAM user, access key, secret or login resource, and no function carries a seeded password or a local-only setting', () => {
    for (const type of [
      'AWS::IAM::User',
      'AWS::IAM::AccessKey',
      'AWS::IAM::UserToGroupAddition',
      'AWS::SecretsManager::Secret',
      'AWS::SSM::Parameter',
      'AWS::Cognito::UserPoolUser',
      'AWS::Cognito::UserPoolUserToGroupAttachment',
    ]) {
      expect(ofType(type), type).toEqual([]);
    }
    const functions = ofType('AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(10);
    for (const [id, fn] of functions) {
      const variables = Object.keys(fn.Properties.Environment?.Variables ?? {});
      // The seeded logins, the PIN key file and the endpoint overrides belong to the local stack only.
      expect(variables.filter((v) => /PASSWORD|PIN_KEY_FILE|ENDPOINT|TEST_CLOCK/i.test(v)), id).toEqual([]);
    }
  });

  it('rule 21: nothing in the stack is stored unencrypted: every table, log group, topic and key as configured, no bucket without TLS', () => {
    for (const [id, table] of ofType('AWS::DynamoDB::Table')) {
      expect(table.Properties.SSESpecification?.SSEType, id).toBe('KMS');
      expect(table.Properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled, id).toBe(true);
    }
    for (const [id, group] of ofType('AWS::Logs::LogGroup')) expect(group.Properties.KmsKeyId, id).toBeDefined();
    for (const [id, topic] of ofType('AWS::SNS::Topic')) expect(topic.Properties.KmsMasterKeyId, id).toBeDefined();
    // Every encryption key rotates; KMS cannot rotate HMAC keys (lib/stack/lobby-key.ts), which encrypt nothing.
    for (const [id, key] of ofType('AWS::KMS::Key')) if (!String(key.Properties.KeySpec ?? '').startsWith('HMAC_')) expect(key.Properties.EnableKeyRotation, id).toBe(true);
    // A bucket, should one appear (e.g. for assets), must refuse plain HTTP.
    for (const [id] of ofType('AWS::S3::Bucket')) {
      const policies = ofType('AWS::S3::BucketPolicy').filter(([, p]) => JSON.stringify(p.Properties.Bucket).includes(`"${id}"`));
      expect(JSON.stringify(policies), id).toContain('aws:SecureTransport');
    }
  });
});
