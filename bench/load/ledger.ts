/**
 * What the load wrote, as the API confirmed it (200/201), so the check afterwards can find every
 * write again; and the queue of invitations ready to register, fed by the prepared buffer and by
 * the invitations the invite flow makes during the run.
 */
import type { Invitation, Patient, Registered } from './prepare.ts';

export class Ledger {
  /** PUT /patients/{id}/portal answered 200: patientId → the email it set. */
  readonly records = new Map<string, string>();
  /** POST …/invitation answered 201 (during the run or while preparing). */
  readonly invitations = new Set<string>();
  /** POST /registrations answered 201, by patientId. */
  readonly registrations = new Map<string, Registered>();
  /** Patients whose registration was sent but not confirmed (no answer, or not 201). */
  readonly registrationsUnconfirmed = new Set<string>();

  private readonly ready: Invitation[] = [];
  private readonly pins = new Map<string, Patient & { pin: string }>();
  private readonly links = new Map<string, string>();
  /** Times the register flow found no invitation ready. */
  starved = 0;

  addReady(invitations: readonly Invitation[]): void {
    this.ready.push(...invitations);
  }

  /** The invite flow got a 201: the PIN is known; ready once its email's link is seen too. */
  invited(patient: Patient, pin: string): void {
    this.invitations.add(patient.patientId);
    const token = this.links.get(patient.email);
    if (token) {
      this.links.delete(patient.email);
      this.ready.push({ ...patient, pin, token });
    } else {
      this.pins.set(patient.email, { ...patient, pin });
    }
  }

  /** An invitation email seen in the mailbox. */
  linkArrived(email: string, token: string): void {
    const invited = this.pins.get(email);
    if (invited) {
      this.pins.delete(email);
      this.ready.push({ ...invited, token });
    } else {
      this.links.set(email, token);
    }
  }

  /** The oldest invitation ready to register, if any. */
  takeReady(): Invitation | undefined {
    const next = this.ready.shift();
    if (!next) this.starved++;
    return next;
  }

  get readyCount(): number {
    return this.ready.length;
  }
}
