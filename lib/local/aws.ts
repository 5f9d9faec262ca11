/** Region and credentials for talking to the emulators: the SDK must never look for real ones. */
export const localRegion = 'us-east-1';
export const localCredentials = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
