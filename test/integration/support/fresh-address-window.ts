/**
 * Setup file of the integration suite: each test file starts with no per-address failure counts.
 * The suite sends hundreds of deliberate failures (wrong PINs, passwords, dead links) from
 * 127.0.0.1, and the rule-6 limit (100 per address and window) would otherwise let one file's
 * failures turn another file's requests into 429s, depending on the order files run in. Tests of
 * the limit itself send their failures within one file (rules.test.ts, sign-in tests).
 */
import { beforeAll } from 'vitest';
import { clearAddressWindows } from './address-windows.ts';

beforeAll(clearAddressWindows);
