/**
 * CORS in the deployed stack (issue 21), built from context the way `cdk deploy -c staffOrigins=…`
 * builds it: an OPTIONS mock on each staff path only, whose template names a listed origin back
 * (never `*`); the gateway's own answers (4XX/5XX, WAF_FILTERED 403, THROTTLED 429) and the WAF's
 * 429 carry the CORS headers; patient paths and pages get no OPTIONS and their functions no
 * STAFF_ORIGINS; bad origins are refused at synth. No bundling: configuration, not code.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { answersCors, preflightPolicies } from '../../lambdas/http/cors.ts';
import { routes } from '../../lib/routes.ts';
import { portalStackFromContext } from '../../lib/stack/app.ts';
import { nagPacks } from '../../lib/stack/nag-packs.ts';
import { repoRoot } from '../../lib/stack/portal-function.ts';
import type { PortalAccessStack } from '../../lib/stack/portal-stack.ts';

type Json = any; // synthesized CloudFormation JSON

const cdkJson = JSON.parse(readFileSync(path.join(repoRoot, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
const A = 'https://ehr.clinic.test';
const B = 'https://dashboard.clinic.test:8443';

interface Built {
  stack: PortalAccessStack;
  resources: Record<string, Json>;
}

function build(context: Record<string, unknown>): Built {
  const app = new App({
    context: { ...cdkJson.context, senderEmail: 'portal@clinic.test', allowPlaceholders: 'true', 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = portalStackFromContext(app);
  return { stack, resources: (Template.fromStack(stack).toJSON() as Json).Resources };
}

const ofType = (b: Built, type: string): [string, Json][] => Object.entries(b.resources).filter(([, r]) => r.Type === type);

/** Path of an AWS::ApiGateway::Resource, walking ParentId up to the API root. */
function resourcePath(b: Built, id: string): string {
  const r = b.resources[id];
  if (!r || r.Type !== 'AWS::ApiGateway::Resource') return '';
  const parent = r.Properties.ParentId.Ref ? resourcePath(b, r.Properties.ParentId.Ref) : '';
  return `${parent}/${r.Properties.PathPart}`;
}

const optionsMethods = (b: Built) =>
  new Map(
    ofType(b, 'AWS::ApiGateway::Method')
      .filter(([, m]) => m.Properties.HttpMethod === 'OPTIONS')
      .map(([, m]) => [resourcePath(b, m.Properties.ResourceId.Ref), m.Properties]),
  );

const functionOf = (b: Built, id: string): Json =>
  ofType(b, 'AWS::Lambda::Function').find(([, r]) => String(r.Properties.Description).startsWith(`portal-access ${id}:`))![1].Properties;

const gatewayResponses = (b: Built) => Object.fromEntries(ofType(b, 'AWS::ApiGateway::GatewayResponse').map(([, r]) => [r.Properties.ResponseType, r.Properties]));

describe('CORS in the stack', () => {
  it('two origins: an OPTIONS mock on exactly the staff paths, naming a listed origin back, never *', () => {
    const b = build({ staffOrigins: `${A},${B}` });
    const options = optionsMethods(b);
    const expected = preflightPolicies(routes);
    expect([...options.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(options.has('/staff/sessions') && options.has('/staff/sessions/challenge') && options.has('/patients/{patientId}/portal')).toBe(true);

    const portal = options.get('/patients/{patientId}/portal')!;
    expect(portal.AuthorizationType).toBe('NONE');
    expect(portal.Integration.Type).toBe('MOCK');
    const response = portal.Integration.IntegrationResponses[0];
    expect(response.StatusCode).toBe('204');
    expect(response.ResponseParameters).toEqual({ 'method.response.header.Vary': "'Origin'" });
    const template: string = response.ResponseTemplates['application/json'];
    // Only a listed origin is named back, with the route's methods and headers and a max age.
    expect(template).toContain(`#if($origin == "${A}" || $origin == "${B}")`);
    expect(template).toContain('#set($context.responseOverride.header.Access-Control-Allow-Origin = $origin)');
    expect(template).toContain('Access-Control-Allow-Methods = "GET, PUT"');
    expect(template).toContain('Access-Control-Allow-Headers = "authorization, content-type, if-match"');
    expect(template).toMatch(/Access-Control-Max-Age = "\d+"/);
    expect(JSON.stringify(portal)).not.toContain("'*'");
    expect(portal.MethodResponses[0].StatusCode).toBe('204');

    // The staff functions name a listed origin on their answers; the others never get the list.
    for (const r of routes) {
      const env = functionOf(b, r.id).Environment.Variables;
      if (answersCors(r)) expect(env.STAFF_ORIGINS, r.id).toBe(`${A},${B}`);
      else expect(env.STAFF_ORIGINS, r.id).toBeUndefined();
    }
  });

  it('patient routes, lobby routes and pages get no OPTIONS method', () => {
    const options = optionsMethods(build({ staffOrigins: A }));
    for (const p of ['/sessions', '/sessions/new-password', '/account', '/account/credentials', '/lobby-sessions', '/lobby-sessions/current', '/invitations/lookup', '/registrations', '/credential-resets', '/portal/{page}', '/console', '/assets/{file}', '/health', '/openapi.json']) {
      expect(options.has(p), p).toBe(false);
    }
  });

  it('the gateway answers carry CORS: one origin named exactly; several: the asking Origin mapped', () => {
    for (const [staffOrigins, allowOrigin] of [
      [A, `'${A}'`],
      [`${A},${B}`, 'method.request.header.Origin'],
    ] as const) {
      const responses = gatewayResponses(build({ staffOrigins }));
      for (const type of ['DEFAULT_4XX', 'DEFAULT_5XX', 'WAF_FILTERED', 'THROTTLED', 'MISSING_AUTHENTICATION_TOKEN']) {
        const headers = responses[type].ResponseParameters;
        expect(headers['gatewayresponse.header.Access-Control-Allow-Origin'], `${type} ${staffOrigins}`).toBe(allowOrigin);
        expect(headers['gatewayresponse.header.Access-Control-Expose-Headers'], type).toBe("'x-request-id, retry-after, etag'");
        expect(headers['gatewayresponse.header.Vary'], type).toBe("'Origin'");
      }
      expect(responses.THROTTLED.ResponseParameters['gatewayresponse.header.Retry-After']).toBe("'1'");
    }
  });

  it("the WAF's own 429 names the origin when there is one (a WAF custom response bypasses the gateway responses)", () => {
    const rateRules = (b: Built) => ofType(b, 'AWS::WAFv2::WebACL')[0]![1].Properties.Rules.filter((r: Json) => r.Action?.Block?.CustomResponse);
    const one = rateRules(build({ staffOrigins: A }));
    expect(one.length).toBeGreaterThan(0);
    for (const rule of one) {
      expect(rule.Action.Block.CustomResponse.ResponseHeaders).toEqual(
        expect.arrayContaining([
          { Name: 'Access-Control-Allow-Origin', Value: A },
          { Name: 'Access-Control-Expose-Headers', Value: 'x-request-id, retry-after, etag' },
        ]),
      );
    }
    for (const rule of rateRules(build({ staffOrigins: `${A},${B}` }))) {
      expect(JSON.stringify(rule.Action.Block.CustomResponse.ResponseHeaders)).not.toContain('Access-Control');
    }
  });

  it('without staffOrigins: no OPTIONS anywhere, no CORS header on the gateway answers, no list for any function', () => {
    const b = build({});
    expect(optionsMethods(b).size).toBe(0);
    for (const [type, r] of Object.entries(gatewayResponses(b) as Record<string, Json>)) {
      expect(Object.keys(r.ResponseParameters).filter((h) => /Access-Control|Vary/.test(h)), type).toEqual([]);
    }
    for (const r of routes) expect(functionOf(b, r.id).Environment.Variables.STAFF_ORIGINS, r.id).toBeUndefined();
  });

  it.each([
    ['*', /"\*" is not allowed/],
    ['http://ehr.clinic.test', /must use https/],
    ['https://ehr.clinic.test/app', /not a bare origin/],
    ['ehr.clinic.test', /not a URL/],
    [`${A},*`, /"\*" is not allowed/],
  ])('refuses staffOrigins=%s at synth', (staffOrigins, message) => {
    expect(() => build({ staffOrigins })).toThrow(message);
  });

  it('the OPTIONS mocks add no unacknowledged cdk-nag finding', () => {
    const b = build({ staffOrigins: `${A},${B}` });
    const found = nagPacks().flatMap((pack) => pack.validateScope(b.stack).violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`));
    expect(found).toEqual([]);
  });

  it('accepts a JSON list (cdk.json) and localhost over http', () => {
    const b = build({ staffOrigins: [A, 'http://localhost:5173'] });
    expect(functionOf(b, 'staff-me').Environment.Variables.STAFF_ORIGINS).toBe(`${A},http://localhost:5173`);
  });
});

describe('CloudFormation limits', () => {
  // CloudFormation refuses a stack of more than 500 resources (CDK stops the synth with
  // TooManyResourcesInStack). The largest configuration a practice can deploy (CORS, SMS for phone
  // codes, an alarm address, a custom domain) must synthesize, and this prints how much room is left.
  it('the largest configuration stays within 500 resources', () => {
    const largest = build({
      staffOrigins: `${A},${B}`,
      smsOriginationIdentity: 'phone-0123456789abcdef0123456789abcdef',
      smsMonthlySpendLimit: '25',
      alarmEmail: 'ops@clinic.test',
    });
    const count = Object.keys(largest.resources).length;
    console.log(`resources in the largest configuration: ${count} of 500`);
    expect(count).toBeLessThanOrEqual(500);
  });
});
