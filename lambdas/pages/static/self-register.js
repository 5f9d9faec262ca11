// The self-registration page's script (issue 19): the request form (POST /self-registrations, one
// answer whatever the email), and the emailed link that proves the address: its token is read
// from after `#`, removed from the address bar at once (rule 26) and posted to
// POST /self-registrations/verify. Shares portal.js's calls, forms and sections.
import { call, onSubmit, problemMessages, show, showErrors, takeLinkToken } from './portal.js';

const $ = (id) => document.getElementById(id);

/** E.164 as the API takes it: the spaces, dashes, dots and brackets people type are left out. */
const phoneForApi = (value) => value.replace(/[\s().-]/g, '');

async function verify(token) {
  show('verifying', { focus: false });
  const res = await call('self-registrations/verify', { method: 'POST', json: { token } });
  if (res.status === 200) return show('verified', { focus: false });
  if (res.status === 0 || res.status === 429 || res.status >= 500) {
    // The link may still be good: say what happened and keep the page where it is (a reload needs the email's link again).
    document.querySelector('[data-state="verifying"] p').textContent = `${problemMessages(res)[0].text} Then open the link in your email again.`;
    return;
  }
  show('gone', { focus: false });
}

function request() {
  const form = $('self-register-form');
  // Absent where the practice does not offer self-registration (settings.selfRegistration).
  if (!form) return show('request', { focus: false });
  onSubmit(form, async (values) => {
    const json = { firstName: values.firstName, lastName: values.lastName, dateOfBirth: values.dateOfBirth, email: values.email };
    const phone = phoneForApi(values.phone || '');
    if (phone) json.phone = phone;
    const res = await call('self-registrations', { method: 'POST', json });
    if (res.status === 202) {
      // One answer whatever the email (rule 13): the page says the same thing every time.
      if (typeof res.body.message === 'string') $('requested-message').textContent = res.body.message;
      return show('requested');
    }
    // The practice turned the form off since this page was opened.
    if (res.status === 404) return showErrors(form, [{ text: 'The practice no longer takes requests on this page. Please call the practice’s front desk.' }]);
    showErrors(form, problemMessages(res));
  });
  show('request', { focus: false });
}

const { token, oldLink } = takeLinkToken();
if (token) verify(token);
else if (oldLink) show('old-link', { focus: false });
else request();
