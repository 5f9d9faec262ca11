/** Form parts shared by the pages: labelled fields, password rules, the alert and the submit button. */
import { html, type RawHtml } from './layout.ts';

/** Shown before the patient types (aria-describedby), matching lambdas/domain/password-policy.ts. */
export const passwordRules =
  'At least 15 characters (up to 128). No special characters needed: a few unrelated words with spaces make a good password. It must not be a commonly used password and must not contain your username or email address.';

export const usernameRules = '3 to 64 letters, digits or . _ @ + - (no spaces).';

export interface FieldOptions {
  /** The element id; unique on the page. */
  id: string;
  /** The JSON field the value is sent as (errors from the API name it). */
  name: string;
  label: string;
  type?: 'text' | 'password' | 'email';
  autocomplete: string;
  hint?: string;
  required?: boolean;
  /** PINs and case numbers: no auto-correction or capitalisation surprises. */
  code?: boolean;
}

export function field(o: FieldOptions): RawHtml {
  const hintId = o.hint ? `${o.id}-hint` : undefined;
  const type = o.type ?? 'text';
  return html`<div class="field">
<label for="${o.id}">${o.label}</label>
${o.hint ? html`<p class="hint" id="${hintId}">${o.hint}</p>` : ''}
<input id="${o.id}" name="${o.name}" type="${type}" autocomplete="${o.autocomplete}"${
    hintId ? html` aria-describedby="${hintId}"` : ''
  }${o.required === false ? '' : html` required`}${type === 'password' ? html` maxlength="1024"` : html` maxlength="256"`}${
    o.code || type !== 'text' ? html` autocapitalize="none" spellcheck="false"` : ''
  }${type === 'text' ? html` autocorrect="off"` : ''}>
${type === 'password' ? html`<label class="show-password"><input type="checkbox" data-show-password="${o.id}"> Show password</label>` : ''}
</div>`;
}

export function form(o: { id: string; submit: string; busy: string; fields: RawHtml[]; intro?: RawHtml }): RawHtml {
  // method=post: should the script not run, a submit must never put a password in the URL.
  return html`<form id="${o.id}" method="post" novalidate>
${o.intro ?? ''}
<div class="form-error" role="alert" id="${o.id}-error"></div>
${o.fields}
<button type="submit" data-busy="${o.busy}">${o.submit}</button>
</form>`;
}
