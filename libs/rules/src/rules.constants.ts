/** Default PostgreSQL NOTIFY channel of cache invalidation. */
export const DEFAULT_RULES_NOTIFY_CHANNEL = 'bulkhead_rules';

/** The message of every 403 the guard answers: it never reveals which rule or role decided. */
export const ACCESS_DENIED_MESSAGE = 'You do not have permission to perform this action.';

/** The message of every 401 the guard answers. */
export const PRINCIPAL_MISSING_MESSAGE = 'Authentication is required to perform this action.';
