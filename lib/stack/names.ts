/**
 * Physical names. Most resources get a CloudFormation-generated name; the few that must be
 * named (the WAF log group needs the aws-waf-logs- prefix, a backup vault needs a name) and are
 * retained take a suffix from the stack's id: the stack id is new each time a stack is created,
 * so a stack created again (after a rolled-back first deploy, or a destroy) never collides with
 * what the earlier one kept, and two environments in one account never share a name.
 */
import { Fn, type Stack } from 'aws-cdk-lib';

/** The last 12 hex digits of the stack id's UUID (arn:…:stack/<name>/<uuid>), resolved at deploy. */
export const uniqueSuffix = (stack: Stack): string => Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', stack.stackId))));
