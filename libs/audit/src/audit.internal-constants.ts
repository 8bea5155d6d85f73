/** Token of the DataSource the audit reads and writes through. */
export const AUDIT_DATA_SOURCE = Symbol('bulkhead:audit:data-source');
