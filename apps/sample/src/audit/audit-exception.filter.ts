import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  AuditEntryNotFoundError,
  AuditError,
  RevertConflictError,
  RevertNotPossibleError,
} from '@bulkhead/audit';

/**
 * Maps audit errors to HTTP: an entry not in the caller's tenant 404, a revert that would overwrite later
 * changes or cannot apply 409, anything else (a bug or a missing schema) 500, logged.
 */
@Catch(AuditError)
export class AuditExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Sample:Audit');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: AuditError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    let body: { statusCode: number; error: string; message: string };
    if (exception instanceof AuditEntryNotFoundError) {
      body = { statusCode: HttpStatus.NOT_FOUND, error: 'NotFound', message: 'Not found.' };
    } else if (exception instanceof RevertConflictError || exception instanceof RevertNotPossibleError) {
      body = { statusCode: HttpStatus.CONFLICT, error: exception.name, message: exception.message };
    } else {
      this.logger.error(exception.message, exception.stack);
      body = { statusCode: 500, error: 'InternalServerError', message: 'Internal server error.' };
    }
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, body.statusCode);
  }
}
