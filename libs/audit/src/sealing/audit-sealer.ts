import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { AuditSink } from '../audit-entry.interface';
import { toEntry, type EntryRow } from '../audit-entry.mapper';
import { AUDIT_DATA_SOURCE } from '../audit.internal-constants';
import { AUDIT_MODULE_OPTIONS } from '../audit.module-definition';
import type { AuditModuleOptions } from '../audit-options.interface';
import { AuditService } from '../audit.service';

/**
 * Seals new entries into their tenants' chains on a timer and feeds the sinks from the chain (the outbox):
 * each sink's progress is kept per tenant in the database and advanced only after it accepted a batch.
 */
@Injectable()
export class AuditSealer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Bulkhead:Audit');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly failures = new Map<string, number>();

  constructor(
    @Inject(AUDIT_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AUDIT_MODULE_OPTIONS) private readonly options: AuditModuleOptions,
    private readonly audit: AuditService,
  ) {}

  onApplicationBootstrap(): void {
    if (this.options.sealer === false) return;
    const interval = this.options.sealIntervalMs ?? 100;
    this.timer = setInterval(() => void this.tick(), interval);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One round: seal, then deliver to every sink. Overlapping rounds are skipped. */
  async tick(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        await this.audit.seal();
        for (const sink of this.options.sinks ?? []) await this.deliver(sink);
      } catch (err) {
        if (this.dataSource.isInitialized)
          this.logger.error(`Audit sealing failed: ${(err as Error).message}`);
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Feeds one sink everything chained past its cursor, in chain order per tenant. */
  private async deliver(sink: AuditSink): Promise<void> {
    const rows = (await this.dataSource.query('SELECT * FROM bulkhead_audit_pending($1, $2)', [
      sink.name,
      1000,
    ])) as EntryRow[];
    const byTenant = new Map<string, EntryRow[]>();
    for (const row of rows) byTenant.set(row.tenant_id, [...(byTenant.get(row.tenant_id) ?? []), row]);
    for (const [tenant, batch] of byTenant) {
      try {
        await sink.deliver(batch.map(toEntry));
        this.failures.delete(sink.name);
      } catch (err) {
        const n = (this.failures.get(sink.name) ?? 0) + 1;
        this.failures.set(sink.name, n);
        if (n === 1 || n % 100 === 0) {
          this.logger.warn(`Audit sink "${sink.name}" failed (${n}x), will retry: ${(err as Error).message}`);
        }
        continue;
      }
      await this.dataSource.query('SELECT bulkhead_audit_ack($1, $2, $3)', [
        sink.name,
        tenant,
        batch[batch.length - 1].position,
      ]);
    }
  }
}
