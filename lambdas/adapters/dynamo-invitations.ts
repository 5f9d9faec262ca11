/**
 * Invitations are one-time links (dynamo-links.ts) in the invitation key space
 * (INVITE#<patientId>/INVITATION, INVITELINK#<sha256(token)>/LINK).
 */
import { invitationLinks, type InvitationLinks } from '../domain/invitations.ts';
import { dynamoLinks } from './dynamo-links.ts';

/** The invitations: one-time links under the invitation policy. */
export const dynamoInvitationLinks = (): InvitationLinks => dynamoLinks(invitationLinks);

export const invitationKey = (patientId: string) => ({ pk: `INVITE#${patientId}`, sk: 'INVITATION' });
export const linkKey = (tokenHash: string) => ({ pk: `INVITELINK#${tokenHash}`, sk: 'LINK' });
