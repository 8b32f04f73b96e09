// Defaults of the service's shutdown and takeover timing, apart from service-runtime.ts so that
// `autobuild start --help` can show them without loading the service.

/** A build may take minutes; 120 s covers most pushes while staying under typical stop timeouts. */
export const DEFAULT_GRACE_SECONDS = 120;
export const DEFAULT_LOCK_SECONDS = 30;
