// The project every resource belongs to when its writer names none: first-run setup makes it the
// clinic's project, so `outpost import` and the other default-project paths land there.
export const DEFAULT_PROJECT_ID = 'outpost-default-project';
