/**
 * The console's "Proxies" panel on a record (issue 18): the people who can act for this patient
 * with their own login (GET …/portal/proxies), "End access" for each, and "Invite a proxy" whose
 * PIN is shown once for staff to hand over in person. Rendered empty; static/console-proxies.js
 * fills it from the API whenever a record opens and empties it when the record closes.
 */
import { html } from './layout.ts';

const input = (id: string, name: string, label: string, attributes: ReturnType<typeof html>, hint?: string) => html`<div class="field">
<label for="${id}">${label}</label>
${hint ? html`<p class="hint" id="${id}-hint">${hint}</p>` : ''}
<input id="${id}" name="${name}"${hint ? html` aria-describedby="${id}-hint"` : ''}${attributes}>
</div>`;

export const proxiesPanel = html`<section id="proxies" class="proxies" aria-labelledby="proxies-heading">
<h3 id="proxies-heading" tabindex="-1">Proxies</h3>
<p class="hint">People who can act for this patient with a login of their own: a parent, an adult child, a carer. Ending access stops it at once.</p>
<p class="form-error" id="proxies-error" role="alert" tabindex="-1" hidden></p>
<p id="proxies-empty" hidden>Nobody can act for this patient.</p>
<ul id="proxies-list" class="proxy-list"></ul>
<section id="proxy-secret" class="secret" aria-labelledby="proxy-secret-title" tabindex="-1" hidden>
<h4 id="proxy-secret-title">Proxy PIN</h4>
<p class="secret-value" id="proxy-secret-value" aria-describedby="proxy-secret-spelled"></p>
<p class="visually-hidden" id="proxy-secret-spelled"></p>
<p id="proxy-secret-note"></p>
<p class="hint">Shown only now. It is not kept anywhere on this device.</p>
</section>
<form id="proxy-invite-form" method="post" novalidate aria-labelledby="proxy-invite-heading">
<h4 id="proxy-invite-heading">Invite a proxy</h4>
<p class="form-error" id="proxy-invite-error" role="alert" tabindex="-1" hidden></p>
${input('proxy-name', 'name', 'Name', html` autocomplete="off" maxlength="120" required`, 'The proxy’s full name.')}
${input('proxy-email', 'email', 'Email', html` type="email" autocomplete="off" maxlength="254" required`, 'Where the proxy’s link goes. The PIN is never emailed.')}
${input('proxy-relationship', 'relationship', 'Relationship', html` autocomplete="off" maxlength="40" required`, 'What the proxy is to the patient, e.g. parent, adult child, carer. “self” adds this record to a login the same person already has (one login for several records).')}
<fieldset>
<legend>Scope</legend>
<div class="choice"><input type="radio" id="proxy-scope-limited" name="scope" value="limited" checked><label for="proxy-scope-limited">Limited: a summary of the record, no case list</label></div>
<div class="choice"><input type="radio" id="proxy-scope-full" name="scope" value="full"><label for="proxy-scope-full">Full: the record as the patient sees it, cases included</label></div>
</fieldset>
${input('proxy-until', 'until', 'End date (optional)', html` type="date"`, 'Access ends at the end of this day. Leave empty for no end date.')}
<button type="submit">Invite proxy</button>
</form>
</section>`;
