/** The real adapters, built once per cold start, for handlers to hand to the domain. */
import { config } from '../config.ts';
import type { Clock, RecordStore, StaffDirectory } from '../domain/ports.ts';
import type { SettingsDefaults } from '../domain/settings.ts';
import type { ThrottleStore } from '../domain/sign-in-throttle.ts';
import { dynamoStore } from './dynamo-store.ts';
import { dynamoThrottle } from './dynamo-throttle.ts';
import { cognitoStaffDirectory } from './staff-directory.ts';

export const systemClock: Clock = () => new Date();

let store: RecordStore | undefined;
let staff: StaffDirectory | undefined;
let throttle: ThrottleStore | undefined;

export const recordStore = (): RecordStore => (store ??= dynamoStore());
export const staffDirectory = (): StaffDirectory => (staff ??= cognitoStaffDirectory());
export const signInThrottle = (): ThrottleStore => (throttle ??= dynamoThrottle());

export function settingsDefaults(): SettingsDefaults {
  const c = config();
  return { practiceName: c.PRACTICE_NAME, portalUrl: c.PORTAL_URL };
}
