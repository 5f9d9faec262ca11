/**
 * SES: the sender identity and a configuration set that refuses to deliver over plaintext SMTP
 * (TlsPolicy REQUIRE, security rule 21). The identity's default configuration set is this one,
 * so a send that forgets ConfigurationSetName still requires TLS.
 *
 * The identity is a domain identity with DKIM when a mail domain is given (DNS records created in
 * the hosted zone when it is that domain's zone, else listed as stack outputs to add by hand),
 * else the sender address (SES emails it a confirmation link). With `existing`, another stack in
 * the account owns the identity (an SES identity exists once per account and region): this one
 * only sends from it. Grants name the identity's ARN either way.
 *
 * Delivery events (issue 15): the configuration set publishes send, delivery, bounce, complaint
 * and reject events to the account's default EventBridge bus (the one bus SES can publish to; no
 * topic or queue to encrypt or police), and a rule that matches only this configuration set's
 * events hands them to the delivery function (lambdas/handlers/delivery/events.ts), with retries.
 */
import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IPublicHostedZone } from 'aws-cdk-lib/aws-route53';
import {
  ConfigurationSet,
  ConfigurationSetTlsPolicy,
  EmailIdentity,
  EmailSendingEvent,
  EventDestination,
  Identity,
  SuppressionReasons,
} from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

export interface PortalMailProps {
  readonly senderEmail: string;
  /** A domain identity with DKIM for this domain (senderEmail is at it). */
  readonly mailDomain?: string;
  /** The mail domain's own public hosted zone: DKIM records are created in it. */
  readonly hostedZone?: IPublicHostedZone;
  /** `existing`: do not create the identity (another stack in this account and region owns it). */
  readonly identity?: 'create' | 'existing';
}

export class PortalMail extends Construct {
  readonly configurationSet: ConfigurationSet;
  /** The identity, when this stack creates it. */
  readonly identity?: EmailIdentity;
  /** The identity SES sends as: the mail domain, else the sender address. */
  readonly identityName: string;
  readonly identityArn: string;
  readonly configurationSetArn: string;

  constructor(scope: Construct, id: string, props: PortalMailProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.configurationSet = new ConfigurationSet(this, 'ConfigurationSet', {
      tlsPolicy: ConfigurationSetTlsPolicy.REQUIRE,
      suppressionReasons: SuppressionReasons.BOUNCES_AND_COMPLAINTS,
      reputationMetrics: true,
    });
    this.identityName = props.mailDomain ?? props.senderEmail;
    if (props.identity !== 'existing') {
      const zoneIsDomain = props.hostedZone && props.mailDomain && props.hostedZone.zoneName.replace(/\.$/, '') === props.mailDomain;
      this.identity = new EmailIdentity(this, 'Sender', {
        identity: props.mailDomain
          ? zoneIsDomain
            ? Identity.publicHostedZone(props.hostedZone!)
            : Identity.domain(props.mailDomain)
          : Identity.email(props.senderEmail),
        configurationSet: this.configurationSet,
      });
      if (props.mailDomain && !zoneIsDomain) {
        // Easy DKIM: three CNAME records the operator adds to the domain's DNS.
        const identity = this.identity;
        ([1, 2, 3] as const).forEach((n) => {
          new CfnOutput(stack, `DkimRecord${n}`, {
            value: `${identity[`dkimDnsTokenName${n}`]} CNAME ${identity[`dkimDnsTokenValue${n}`]}`,
            description: `SES DKIM record ${n} of 3 for ${props.mailDomain}: add it to the domain's DNS`,
          });
        });
      }
    }
    // The created identity's ARN refers to it (so functions that send are deployed after it).
    this.identityArn = this.identity?.emailIdentityArn ?? stack.formatArn({ service: 'ses', resource: 'identity', resourceName: this.identityName });
    this.configurationSetArn = stack.formatArn({
      service: 'ses',
      resource: 'configuration-set',
      resourceName: this.configurationSet.configurationSetName,
    });
  }

  /** The events that move a message's delivery state (opens and clicks are not tracked: no pixel, no link rewriting). */
  static readonly deliveryEvents = [
    EmailSendingEvent.SEND,
    EmailSendingEvent.DELIVERY,
    EmailSendingEvent.BOUNCE,
    EmailSendingEvent.COMPLAINT,
    EmailSendingEvent.REJECT,
  ] as const;

  /** Publishes this configuration set's delivery events and hands them to `fn`; returns the rule. */
  publishDeliveryEvents(fn: IFunction): Rule {
    const bus = EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.configurationSet.addEventDestination('DeliveryEvents', {
      destination: EventDestination.eventBus(bus),
      events: [...PortalMail.deliveryEvents],
    });
    return new Rule(this, 'DeliveryEventsRule', {
      description: 'SES delivery events of the portal configuration set, to the delivery function',
      eventBus: bus,
      eventPattern: {
        source: ['aws.ses'],
        // SES adds this tag to every event of a message sent through the set: only our mail.
        detail: { mail: { tags: { 'ses:configuration-set': [this.configurationSet.configurationSetName] } } },
      },
      // The function is idempotent, so retrying an event is always safe.
      targets: [new LambdaFunction(fn, { retryAttempts: 8, maxEventAge: Duration.hours(24) })],
    });
  }
}
