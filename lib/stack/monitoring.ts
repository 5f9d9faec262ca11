/**
 * Alarms and where they go: an SNS topic (KMS-encrypted, TLS-only publishing) that operators
 * subscribe to; optionally an email subscription from the `alarmEmail` context value.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, ComparisonOperator, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export const metricNamespace = 'PortalAccess';

/**
 * A 429 is the normal answer to a guessing client (rules 5 and 6), so one is no incident; 20 in
 * five minutes means an attack in progress or limits set too low for real traffic.
 */
export const throttled429Threshold = 20;

export interface PortalMonitoringProps {
  readonly api: RestApi;
  readonly accessLogs: ILogGroup;
  readonly functions: ReadonlyMap<string, IFunction>;
  readonly alarmEmail?: string;
}

export class PortalMonitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: PortalMonitoringProps) {
    super(scope, id);

    // Its own key: CloudWatch must be able to use it to publish, and it should not be able to
    // use the key that protects the patient data. It only ever encrypts alarm messages in
    // transit through the topic, so nothing is lost when it is deleted with the stack.
    const key = new Key(this, 'TopicKey', {
      description: 'portal-access: alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey');
    this.topic = new Topic(this, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: 'portal-access alarms' });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    const action = new SnsAction(this.topic);

    const alarm = (id: string, metric: IMetric, threshold: number, description: string) => {
      const a = new Alarm(this, id, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    alarm(
      'Api5xx',
      props.api.metricServerError({ period: Duration.minutes(1), statistic: 'Sum' }),
      0,
      'The API answered 5xx: a function failed or the gateway could not reach it.',
    );

    // One alarm on the region's Lambda Throttles (no FunctionName dimension: the sum over every
    // function). Per-function alarms cost one resource each and pushed the stack past
    // CloudFormation's 500-resource limit; without reserved concurrency every function throttles
    // on the account pool anyway, and with it any function's throttle still shows in this sum.
    alarm(
      'LambdaThrottles',
      new Metric({ namespace: 'AWS/Lambda', metricName: 'Throttles', period: Duration.minutes(1), statistic: 'Sum' }),
      0,
      'Lambda throttled a function in this region: the account pool or a reserved concurrency is used up, callers get errors.',
    );

    // API Gateway has no per-status metric; count 429s (gateway, WAF and service throttling)
    // from the access log.
    const throttled = new MetricFilter(this, 'Throttled429Filter', {
      logGroup: props.accessLogs,
      filterPattern: FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace,
      metricName: 'Throttled429',
      metricValue: '1',
      defaultValue: 0,
    });
    alarm(
      'Api429',
      new Metric({ namespace: metricNamespace, metricName: throttled.metric().metricName, period: Duration.minutes(5), statistic: 'Sum' }),
      throttled429Threshold,
      `More than ${throttled429Threshold} requests answered 429 in 5 minutes: guessing, flooding, or limits too low.`,
    );
  }
}
