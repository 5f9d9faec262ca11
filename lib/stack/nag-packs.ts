/**
 * The cdk-nag packs this stack must pass: the CDK app registers them as policy-validation
 * plugins and the cdk test runs the same list, so the two cannot drift apart.
 */
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks, type NagPack } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** `scope` is the App when the packs are plugins; a test calls `validateScope` itself and passes none. */
export function nagPacks(scope?: IConstruct): NagPack[] {
  return [
    new AwsSolutionsChecks(scope, { verbose: true }),
    new HIPAASecurityChecks(scope, { verbose: true }),
    new NIST80053R5Checks(scope, { verbose: true }),
  ];
}
