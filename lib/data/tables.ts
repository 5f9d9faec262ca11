/**
 * The DynamoDB tables, as plain data: the CDK stack and the local stack both build their
 * tables from these definitions, so the two can never disagree on keys or indexes.
 *
 * records: one item per portal record (pk PATIENT#<id>, sk RECORD), practice settings
 *   (pk SETTINGS), staff permissions (pk STAFF#<id>), and later invitations, usernames,
 *   resets and lobby passwords. Proxy access (issue 18, lambdas/adapters/dynamo-proxies.ts):
 *   grants PATIENT#<patientId> / PROXY#<proxyId>; the records a login reaches
 *   ACCOUNT#<accountId> / RECORD#<patientId>; a proxy's login with no record of its own is an
 *   ACCOUNT#<accountId> / ACCOUNT item without patientId (username, generation); proxy
 *   invitation links PROXYINVITE#<patientId>#<proxyId> / STATE and PROXYLINK#<sha256> / LINK.
 *   Expiring items carry `ttl` (epoch seconds); every read checks
 *   the expiry itself too, because DynamoDB Local never enforces TTL.
 * audit: append-only audit trail (pk <target key>, sk <iso time>#<id>). No function's role may
 *   update or delete in it (security rule 19), which is why it is a table of its own.
 */
export interface IndexDefinition {
  readonly indexName: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface TableDefinition {
  readonly id: 'records' | 'audit';
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute?: string;
  readonly indexes: readonly IndexDefinition[];
}

export const recordsTable = {
  id: 'records',
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  indexes: [
    // Lists records in patientId order and answers patientId-prefix searches
    // (listKey is the constant "PATIENT", present only on portal records).
    { indexName: 'byPatientId', partitionKey: 'listKey', sortKey: 'patientId' },
    // Exact-match searches; the attributes hold normalised (lower-cased) values.
    { indexName: 'byEmail', partitionKey: 'emailKey' },
    { indexName: 'byUsername', partitionKey: 'usernameKey' },
    { indexName: 'byMasterCase', partitionKey: 'masterCaseKey' },
  ],
} as const satisfies TableDefinition;

export const auditTable = {
  id: 'audit',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [],
} as const satisfies TableDefinition;

export const tables = [recordsTable, auditTable] as const;
