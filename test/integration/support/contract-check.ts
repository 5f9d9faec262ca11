/**
 * The contract check of the integration run (issue 14 item 4): every answer a test receives from
 * the local stack's API is validated against the OpenAPI 3.1 document the stack serves
 * (`GET /openapi.json`), with ajv's draft 2020-12 validator (the dialect of OpenAPI 3.1):
 *   - the status must be declared for that path and method;
 *   - a JSON body (application/json or application/problem+json) must match the schema the
 *     document gives that status and media type, and the media type must be one it declares.
 * ./contract-setup.ts installs it around `fetch` for every integration and browser file (and the
 * browser pages' own API calls, see test/browser/support/browser.ts); ./raw-http.ts calls it too.
 *
 * What is exempt, and why (each is a rule, not a list of tests):
 *   - answers from other origins (the mailbox, cognito-local, DynamoDB Local): not our API;
 *   - paths under /__test/ (the test clock): test-only, absent from AWS and from the contract;
 *   - OPTIONS (CORS preflight): answered before any route, by API Gateway in AWS;
 *   - a body that is not JSON (the pages' HTML, the browser files): only its status is checked;
 *   - a path or method the document does not have (a test asking for what does not exist):
 *     the answer must still be a problem+json 404 or 405 valid against the Problem schema.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';

// ajv-formats is CommonJS with `exports.default`: imported from ESM, its default is the module object.
type AddFormats = typeof formats.default;
const addFormats: AddFormats = (formats as { default?: AddFormats }).default ?? (formats as unknown as AddFormats);

interface Operation {
  responses?: Record<string, { content?: Record<string, unknown> }>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
}

export interface Received {
  method: string;
  /** The request URL (absolute, or a path on the API). */
  url: string;
  status: number;
  contentType: string | null | undefined;
  /** The body as received; parsed here when the content type is JSON. */
  text: string;
}

const documentId = 'https://portal-access.local/openapi.json';

export class ContractChecker {
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly templates: { path: string; pattern: RegExp; params: number }[];
  /** How many answers were validated, and how many of those had a JSON body checked against a schema. */
  readonly counts = { answers: 0, bodies: 0 };

  constructor(readonly document: Document) {
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ ...document, $id: documentId });
    this.templates = Object.keys(document.paths)
      .map((path) => ({
        path,
        pattern: new RegExp(`^${path.split(/\{[^}]+\}/).map(escapeRegExp).join('[^/]+')}$`),
        params: (path.match(/\{/g) ?? []).length,
      }))
      // A literal segment wins over a parameter (/staff/sessions/challenge before /staff/{staffId}/…).
      .sort((a, b) => a.params - b.params);
  }

  /** The violation, described, or undefined when the answer keeps the contract (or is exempt). */
  check(answer: Received): string | undefined {
    const method = answer.method.toUpperCase();
    const { pathname } = new URL(answer.url, 'http://api.invalid');
    if (method === 'OPTIONS' || pathname.startsWith('/__test/')) return undefined;
    const where = `${method} ${pathname} answered ${answer.status}`;
    this.counts.answers++;
    const template = this.templates.find((t) => t.pattern.test(pathname));
    const operation = template ? this.document.paths[template.path]?.[method.toLowerCase()] : undefined;
    if (!template || !operation) {
      if (answer.status !== 404 && answer.status !== 405) return `${where}: the document has no ${method} ${pathname}, so only a 404 or 405 problem may answer it`;
      return this.checkBody(where, answer, '#/components/schemas/Problem', 'application/problem+json');
    }
    const declared = operation.responses?.[String(answer.status)];
    if (!declared) {
      const statuses = Object.keys(operation.responses ?? {}).join(', ');
      return `${where}: status ${answer.status} is not declared for ${method} ${template.path} (declared: ${statuses})`;
    }
    const mediaType = (answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!isJson(mediaType)) {
      // Pages and browser files: the status is declared; their bodies are not JSON schemas' business.
      if (!declared.content || answer.text === '') return undefined;
      if (declared.content[mediaType]) return undefined;
      return `${where}: content-type ${mediaType || '(none)'} is not declared (declared: ${Object.keys(declared.content).join(', ')})`;
    }
    // No body where none is declared (204): API Gateway and the local server still name a JSON type.
    if (!declared.content && answer.text === '') return undefined;
    if (!declared.content?.[mediaType]) {
      const media = declared.content ? Object.keys(declared.content).join(', ') : 'no body';
      return `${where}: content-type ${mediaType} is not declared for that status (declared: ${media})`;
    }
    const pointer = ['paths', template.path, method.toLowerCase(), 'responses', String(answer.status), 'content', mediaType, 'schema'];
    return this.checkBody(where, answer, `#/${pointer.map(escapePointer).join('/')}`, mediaType);
  }

  private checkBody(where: string, answer: Received, pointer: string, expectedType: string): string | undefined {
    const mediaType = (answer.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (mediaType !== expectedType) return `${where}: content-type ${mediaType || '(none)'}, expected ${expectedType}`;
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch {
      return `${where}: the body is not JSON although its content-type says ${mediaType}`;
    }
    this.counts.bodies++;
    const validate = this.validator(pointer);
    if (validate(body)) return undefined;
    const errors = (validate.errors ?? []).map((e) => `${e.instancePath || '(body)'} ${e.message ?? ''}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
    return `${where}: the body does not match the document's schema (${pointer}): ${errors.join('; ')}`;
  }

  private validator(pointer: string): ValidateFunction {
    const known = this.validators.get(pointer);
    if (known) return known;
    const validate = this.ajv.compile({ $ref: `${documentId}${pointer}` });
    this.validators.set(pointer, validate);
    return validate;
  }
}

const isJson = (mediaType: string) => /^application\/([\w.+-]+\+)?json$/.test(mediaType);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** A JSON pointer segment inside a URI fragment (RFC 6901 escaping, then percent-encoding). */
const escapePointer = (s: string) => encodeURIComponent(s.replaceAll('~', '~0').replaceAll('/', '~1'));

/** A violation, as the error that fails the test that received it. */
export class ContractViolation extends Error {
  constructor(message: string) {
    super(`contract (GET /openapi.json): ${message}`);
    this.name = 'ContractViolation';
  }
}

// One checker per test file (the setup file and the test share this module), its document
// fetched once from the stack itself, and the violations a test received, reported by the
// setup file's afterEach even where the test caught the error.
let checker: Promise<ContractChecker> | undefined;
const received: string[] = [];
// The fetch as it was when this module loaded, before contract-setup.ts wraps it: the wrapped one
// checks every answer, so loading the document through it would wait on the document itself.
const unwrappedFetch = globalThis.fetch;

export function contractChecker(apiUrl: string, get: typeof fetch = unwrappedFetch): Promise<ContractChecker> {
  checker ??= (async () => {
    const res = await get(new URL('/openapi.json', apiUrl), { signal: AbortSignal.timeout(60_000) });
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: the contract check needs it`);
    return new ContractChecker((await res.json()) as Document);
  })();
  return checker;
}

/** Validates one answer from the API; throws (and remembers) a ContractViolation when it breaks the contract. */
export async function checkAnswer(apiUrl: string, answer: Received, get?: typeof fetch): Promise<void> {
  if (new URL(answer.url, apiUrl).origin !== new URL(apiUrl).origin) return;
  const violation = (await contractChecker(apiUrl, get)).check(answer);
  if (violation === undefined) return;
  received.push(violation);
  throw new ContractViolation(violation);
}

/** The violations received since the last call (the setup file's afterEach fails the test with them). */
export const takeViolations = (): string[] => received.splice(0);

export const contractCounts = async (): Promise<ContractChecker['counts'] | undefined> => (checker ? (await checker).counts : undefined);
