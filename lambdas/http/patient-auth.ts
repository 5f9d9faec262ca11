/** Patient access tokens (routes marked "patient"). Written with the sign-in issue. */
import { unauthorized } from './problems.ts';

export interface PatientPrincipal {
  kind: 'patient';
  accountId: string;
  patientId: string;
}

export async function authenticatePatient(_authorization: string | undefined): Promise<PatientPrincipal> {
  throw unauthorized();
}
