/**
 * The entries of the common-password list (@zxcvbn-ts/language-common 4.1.3, "passwords-common",
 * 49233 entries) that the length rule alone does not already refuse: those of at least 15 code
 * points, lower-cased. Lower-casing never shortens a string (each code point becomes one or more),
 * so a password whose lower-case form is a shorter entry is itself under 15 code points and is
 * refused by rule 1 before the list matters. Keeping only these 41 makes the check exact (no false
 * positives, none missed) while the 380 KB list stays out of every bundle: nothing to load.
 *
 * Generated; test/unit/domain/password-policy.test.ts regenerates it from the package and fails
 * when it differs (a new list version, or a lower minimum length), and checks that every one of
 * the 49233 listed passwords is refused.
 */
export const commonLongPasswords: readonly string[] = [
  '111222333444555',
  '122333444455555',
  '1234567887654321',
  '12345678900987654321',
  '1234567890987654321',
  '1234567890qwerty',
  '12345678987654321',
  '123456789987654321',
  '123456789qwerty',
  '1234qwerasdfzxcv',
  '1qa2ws3ed4rf5tg',
  '1qaz2wsx3edc4rfv',
  '1qazxsw23edcvfr4',
  '23176djivanfros',
  '420842084208555',
  'aksjdlasdakj89879',
  'bhrh0h2oof6xbqjeh',
  'bpgjldsgjldthnf',
  'hd764nw5d7e1vb1',
  'hd764nw5d7e1vbv',
  'lhbjkjubz2957704',
  'lytdybrbdfvgbhf',
  'mailcreated5240',
  'momsanaladventure',
  'ne_e_pod_chehyl',
  'nemvxyheqdd5oqxyxyzi',
  'nick1234-rem936',
  'passwordassword',
  'passwordpassword',
  'passwordstandard',
  'polniypizdec0211',
  'polniypizdec1102',
  'polniypizdec110211',
  'q1w2e3r4t5y6u7i8',
  'q1w2e3r4t5y6u7i8o9p0',
  'qazwsxedcrfvtgb',
  'qwertasdfgzxcvb',
  'qwerty123456789',
  'qwertyuiop12345',
  'zqjphsyf6ctifgu',
  'zxcvbnm123456789',
];
