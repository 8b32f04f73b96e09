// The names of `autobuild doctor`'s checks, apart from doctor.ts so that the command's `--help`
// can list them without loading Redis, the builders and the registry client.
export const CHECK_GROUPS = ['config', 'redis', 'builder', 'registries', 'github', 'forges', 'webhook-secret', 'public-url'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];
