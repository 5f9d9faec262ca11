// @ts-check
/**
 * A Stryker ignore plugin (issue 20): the wording of error messages is not mutated. A message
 * emptied or changed is a mutant no rule is about (the contract is the status, the problem type
 * and the code, which stay mutated); tests that pinned every sentence would only make wording
 * changes expensive. Ignored: a string or template literal that is
 *   - the message of `new DomainError(kind, code, message)`, the title/detail of `new HttpProblem(…)`
 *     or any argument of `new Error(…)`;
 *   - the detail of unauthorized(detail) / forbidden(detail) / notFound(what) / badRequest(errors, detail) /
 *     tooMany(seconds, detail) / requireAddressUnderLimit(n, now, detail), or a `message:` of a field error;
 *   - a default value of a parameter named `detail` or `message`;
 *   - one branch of a `?:` in one of those places (the condition itself stays mutated).
 * Kinds, codes, statuses and everything else remain mutated.
 */
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';
import { equivalents } from './stryker.config.mjs';

const REASON = 'error wording: the message text is not a rule (status, type and code are)';
/** callee name → the first argument index that is wording */
const calls = { unauthorized: 0, forbidden: 0, notFound: 0, badRequest: 1, tooMany: 1, requireAddressUnderLimit: 2 };
const news = { DomainError: 2, HttpProblem: 2, Error: 0 };

/** @param {any} path */
function isWording(path) {
  const node = path.node;
  if (node.type !== 'StringLiteral' && node.type !== 'TemplateLiteral') return false;
  let child = path;
  let parent = path.parentPath;
  // `dead ? 'a' : 'b'` as a message: the branches are wording, the test is not.
  while (parent?.node.type === 'ConditionalExpression' && parent.node.test !== child.node) {
    child = parent;
    parent = parent.parentPath;
  }
  if (!parent) return false;
  const p = parent.node;
  const name = p.callee?.type === 'Identifier' ? p.callee.name : undefined;
  if (p.type === 'NewExpression' && name && name in news) return p.arguments.indexOf(child.node) >= news[/** @type {keyof typeof news} */ (name)];
  if (p.type === 'CallExpression' && name && name in calls) return p.arguments.indexOf(child.node) >= calls[/** @type {keyof typeof calls} */ (name)];
  if (p.type === 'ObjectProperty' && p.value === child.node && p.key.type === 'Identifier' && p.key.name === 'message') return true;
  if (p.type === 'AssignmentPattern' && p.right === child.node && p.left.type === 'Identifier' && ['detail', 'message'].includes(p.left.name)) return true;
  return false;
}

/** @param {any} path */
function equivalent(path) {
  const file = String(path.hub?.file?.opts?.filename ?? '').replaceAll('\\', '/');
  const mine = equivalents.filter((e) => file.endsWith(e.file));
  if (mine.length === 0 || path.node.start == null) return undefined;
  const code = path.hub.file.code.slice(path.node.start, path.node.end);
  return mine.find((e) => e.code === code)?.reason;
}

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'equivalent', {
    /** @param {any} path */
    shouldIgnore: (path) => {
      const reason = equivalent(path);
      return reason ? `equivalent: ${reason}` : undefined;
    },
  }),
  declareValuePlugin(PluginKind.Ignore, 'error-wording', {
    /** @param {any} path */
    shouldIgnore: (path) => (isWording(path) ? REASON : undefined),
  }),
];
