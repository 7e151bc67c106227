// The demo clinic of the user-management guide (`--demo`).
export { seedDemo, isDemoFolder, DEMO_LOGINS, DEMO_PASSWORD, DEMO_PROJECT_NAME, DEMO_TAG } from './demo.ts';
export type { DemoLogin, DemoSeedResult } from './demo.ts';
export { demoPolicies, COHORT_TAG, CONFIDENTIAL_TAG, CLINICAL_TYPES } from './policies.ts';
