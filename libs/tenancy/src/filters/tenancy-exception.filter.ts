import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { EntityNotFoundError } from 'typeorm';
import {
  AmbiguousTenantWriteError,
  CrossTenantAccessError,
  InvalidTenantIdError,
  InvalidTenantTokenError,
  MultipleTenantsNotAllowedError,
  TenancyError,
  TenantAccessDeniedError,
  TenantNotResolvedError,
  UnknownTenantError,
} from '../errors/tenancy.errors';

/** The JSON body of a tenancy error response. */
export interface TenancyErrorBody {
  readonly statusCode: number;
  /** Name of the error class (`TenantAccessDeniedError`...), or `NotFound` for rows of other tenants. */
  readonly error: string;
  readonly message: string;
}

/**
 * Maps tenancy errors to HTTP responses: an unresolvable or malformed tenant 400 (401 when the API
 * authenticates and the caller did not), an invalid token 401, not a member 403, a cross-tenant write 403,
 * and a row that is not in the caller's tenant (TypeORM `EntityNotFoundError`) 404 — never revealing that it
 * exists elsewhere. Errors that are bugs in the app (missing context, raw SQL refused...) answer 500 with a
 * generic body and are logged with their fix.
 */
@Catch(TenancyError, EntityNotFoundError)
export class TenancyExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Bulkhead:Tenancy');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: TenancyError | EntityNotFoundError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception.message, exception.stack);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, body.statusCode);
  }

  /** The status and body for an error; override to change the mapping. */
  protected toBody(exception: Error): TenancyErrorBody {
    if (exception instanceof EntityNotFoundError) {
      return { statusCode: HttpStatus.NOT_FOUND, error: 'NotFound', message: 'Not found.' };
    }
    const status = this.statusOf(exception);
    if (status >= 500) {
      return { statusCode: status, error: 'InternalServerError', message: 'Internal server error.' };
    }
    return { statusCode: status, error: exception.name, message: exception.message };
  }

  protected statusOf(exception: Error): number {
    if (exception instanceof TenantNotResolvedError) {
      return exception.unauthenticated ? HttpStatus.UNAUTHORIZED : HttpStatus.BAD_REQUEST;
    }
    if (exception instanceof InvalidTenantTokenError) return HttpStatus.UNAUTHORIZED;
    if (
      exception instanceof InvalidTenantIdError ||
      exception instanceof UnknownTenantError ||
      exception instanceof MultipleTenantsNotAllowedError ||
      exception instanceof AmbiguousTenantWriteError
    ) {
      return HttpStatus.BAD_REQUEST;
    }
    if (exception instanceof TenantAccessDeniedError || exception instanceof CrossTenantAccessError) {
      return HttpStatus.FORBIDDEN;
    }
    return HttpStatus.INTERNAL_SERVER_ERROR;
  }
}
