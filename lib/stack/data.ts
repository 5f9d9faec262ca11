/**
 * The data layer: one customer-managed KMS key (rotated yearly) for the tables and the log
 * groups, the DynamoDB tables built from lib/data/tables.ts, and an AWS Backup plan for them.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { BackupPlan, BackupPlanRule, BackupResource, BackupVault, type BackupSelection } from 'aws-cdk-lib/aws-backup';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { tables, type TableDefinition } from '../data/tables.ts';
import { uniqueSuffix } from './names.ts';

export class PortalData extends Construct {
  /** Encrypts the tables, their backups and every log group of the stack (security rule 21). */
  readonly key: Key;
  readonly tables: { readonly [K in TableDefinition['id']]: Table };
  readonly vault: BackupVault;
  readonly backupPlan: BackupPlan;
  readonly backupSelection: BackupSelection;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);

    this.key = new Key(this, 'Key', {
      description: 'portal-access: DynamoDB tables, backups and CloudWatch log groups',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts with the key, but only for log groups of this account and region.
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({ service: 'logs', resource: 'log-group', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
          },
        },
      }),
    );

    const built = {} as Record<TableDefinition['id'], Table>;
    for (const def of tables as readonly TableDefinition[]) {
      built[def.id] = this.table(def);
    }
    this.tables = built;

    // PITR covers 35 days of point-in-time restore; the backup plan keeps monthly copies for a
    // year in a vault encrypted with the same key (HIPAA contingency plan, 164.308(a)(7)).
    // Retained, and a vault must have a name: unique per stack creation (names.ts), so a stack
    // created again never collides with the vault an earlier one kept.
    this.vault = new BackupVault(this, 'Vault', {
      backupVaultName: `${stack.stackName}-${uniqueSuffix(stack)}`,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const vault = this.vault;
    this.backupPlan = new BackupPlan(this, 'BackupPlan', {
      // Not retained; named after the stack so two environments' plans tell apart in the console.
      backupPlanName: `${stack.stackName}-tables`,
      backupVault: vault,
      backupPlanRules: [
        new BackupPlanRule({ ruleName: 'Daily', scheduleExpression: Schedule.cron({ hour: '5', minute: '0' }), deleteAfter: Duration.days(35) }),
        new BackupPlanRule({ ruleName: 'Monthly', scheduleExpression: Schedule.cron({ day: '1', hour: '5', minute: '0' }), deleteAfter: Duration.days(365) }),
      ],
    });
    this.backupSelection = this.backupPlan.addSelection('Tables', {
      backupSelectionName: `${stack.stackName}-tables`,
      resources: Object.values(this.tables).map((t) => BackupResource.fromDynamoDbTable(t)),
    });
  }

  private table(def: TableDefinition): Table {
    const key = (name: string) => ({ name, type: AttributeType.STRING });
    // Construct ids from the data: RecordsTable, AuditTable.
    const table = new Table(this, `${def.id[0]!.toUpperCase()}${def.id.slice(1)}Table`, {
      partitionKey: key(def.partitionKey),
      sortKey: key(def.sortKey),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
      ...(def.ttlAttribute ? { timeToLiveAttribute: def.ttlAttribute } : {}),
    });
    for (const index of def.indexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: key(index.partitionKey),
        ...(index.sortKey ? { sortKey: key(index.sortKey) } : {}),
        projectionType: ProjectionType.ALL,
      });
    }
    return table;
  }
}
