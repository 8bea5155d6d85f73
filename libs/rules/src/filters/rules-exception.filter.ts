import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { AccessDeniedError, PrincipalMissingError, RulesError } from '../errors/rules.errors';
import { ACCESS_DENIED_MESSAGE, PRINCIPAL_MISSING_MESSAGE } from '../rules.constants';

/** The JSON body of a rules error response. It never names a rule, role or reason. */
export interface RulesErrorBody {
  readonly statusCode: number;
  readonly error: string;
  readonly message: string;
}

/**
 * Maps rules errors to HTTP responses: `PrincipalMissingError` 401, `AccessDeniedError` 403, each with a fixed
 * body; any other rules error (a configuration mistake) 500 with a generic body, logged with its fix.
 */
@Catch(RulesError)
export class RulesExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Bulkhead:Rules');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: RulesError, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const body = this.toBody(exception);
    if (body.statusCode >= 500) this.logger.error(exception.message, exception.stack);
    this.adapterHost.httpAdapter.reply(host.switchToHttp().getResponse(), body, body.statusCode);
  }

  /** The status and body for an error; override to change the mapping. */
  protected toBody(exception: RulesError): RulesErrorBody {
    if (exception instanceof PrincipalMissingError) {
      return {
        statusCode: HttpStatus.UNAUTHORIZED,
        error: 'Unauthorized',
        message: PRINCIPAL_MISSING_MESSAGE,
      };
    }
    if (exception instanceof AccessDeniedError) {
      return { statusCode: HttpStatus.FORBIDDEN, error: 'Forbidden', message: ACCESS_DENIED_MESSAGE };
    }
    return {
      statusCode: HttpStatus.INTERNAL_SERVER_ERROR,
      error: 'InternalServerError',
      message: 'Internal server error.',
    };
  }
}
