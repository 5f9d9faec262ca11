/**
 * The console's "Waiting for approval" view (issue 19): self-registration requests whose email
 * is proved, oldest first, each with "Approve" (asks for the patient id in the practice system:
 * an existing record or a new one) and "Reject" (asks for a reason, kept for staff, never sent).
 * Shown only to staff with invite permission; its script is static/console-self-registrations.js.
 */
import { html } from './layout.ts';

const alertBox = (id: string) => html`<p class="form-error" id="${id}" role="alert" tabindex="-1" hidden></p>`;

const approveDialog = html`<dialog id="selfreg-approve-dialog" aria-labelledby="selfreg-approve-title">
<form id="selfreg-approve-form" method="dialog" novalidate>
<h2 id="selfreg-approve-title">Approve the request of <span id="selfreg-approve-name"></span></h2>
<p>Check who this is first (date of birth, a phone call). Then give their patient id from the practice system: an existing portal record is linked to this request, or a new one is made with this email. They are emailed a link to choose their username and password.</p>
${alertBox('selfreg-approve-error')}
<div class="field">
<label for="selfreg-patient-id">Patient id in the practice system</label>
<p class="hint" id="selfreg-patient-id-hint">E.g. P-1: 1 to 64 letters, digits, ".", "_" or "-". A new id makes a new portal record.</p>
<input id="selfreg-patient-id" name="patientId" autocomplete="off" autocapitalize="none" spellcheck="false" maxlength="64" aria-describedby="selfreg-patient-id-hint" required>
</div>
<div class="dialog-buttons">
<button type="button" id="selfreg-approve-cancel" class="secondary">Go back</button>
<button type="submit" id="selfreg-approve-ok">Approve</button>
</div>
</form>
</dialog>`;

const rejectDialog = html`<dialog id="selfreg-reject-dialog" aria-labelledby="selfreg-reject-title">
<form id="selfreg-reject-form" method="dialog" novalidate>
<h2 id="selfreg-reject-title">Reject the request of <span id="selfreg-reject-name"></span></h2>
<p>They are emailed that the practice could not approve the request online and should call the front desk. The email names no record and not your reason.</p>
${alertBox('selfreg-reject-error')}
<div class="field">
<label for="selfreg-reason">Reason</label>
<p class="hint" id="selfreg-reason-hint">Kept with the request for staff, never sent to the person. No clinical details.</p>
<textarea id="selfreg-reason" name="reason" rows="3" maxlength="500" aria-describedby="selfreg-reason-hint" required></textarea>
</div>
<div class="dialog-buttons">
<button type="button" id="selfreg-reject-cancel" class="secondary">Go back</button>
<button type="submit" id="selfreg-reject-ok" class="danger">Reject</button>
</div>
</form>
</dialog>`;

export const selfRegistrationsView = html`<section id="view-self-registrations" aria-labelledby="selfreg-heading" hidden>
<h2 id="selfreg-heading" tabindex="-1">Waiting for approval</h2>
<p>People who asked for a portal login on the self-registration page and proved their email address, oldest first.</p>
${alertBox('selfreg-error')}
<div id="selfreg-result" class="notice" tabindex="-1" hidden>
<p id="selfreg-result-text"></p>
<p><button type="button" id="selfreg-open-record" class="link" hidden>Open the record</button></p>
</div>
<p id="selfreg-summary" tabindex="-1"></p>
<ul id="selfreg-items" class="results selfreg-items"></ul>
<p><button type="button" id="selfreg-more" class="secondary" hidden>More requests</button> <button type="button" id="selfreg-refresh" class="secondary">Refresh</button></p>
${approveDialog}
${rejectDialog}
</section>`;
