import type { DataSource } from 'typeorm';
import type { AuditSink } from './audit-entry.interface';

/** Options of `AuditModule.forRoot()` / `forRootAsync()`. */
export interface AuditModuleOptions {
  /**
   * DataSource to audit: an instance, or a @nestjs/typeorm name. Default: the default DataSource. For a named
   * one, the surest form is `forRootAsync({ inject: [getDataSourceToken('name')], useFactory: (dataSource) =>
   * ({ dataSource }) })`.
   */
  dataSource?: string | DataSource;
  /** How often the sealer chains new entries and sinks are fed, in ms. Default: `100`. */
  sealIntervalMs?: number;
  /** Run the sealer in this process. Several processes may all run it (one seals at a time). Default: `true`. */
  sealer?: boolean;
  /** After-commit sinks (logger, broker...). Default: none. */
  sinks?: AuditSink[];
  /** Check at start-up that the schema and every audited table's triggers are installed. Default: `true`. */
  checkSchema?: boolean;
}
