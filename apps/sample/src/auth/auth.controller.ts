import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { NoTenant } from '@bulkhead/tenancy';
import { Public } from '@bulkhead/rules';
import { LoginDto, TokenDto } from './auth.dto';
import { AuthService } from './auth.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  /** Signs in: the token names the user (`sub`) and their first tenant (`tid`). */
  @Post('login')
  @HttpCode(200)
  @NoTenant()
  @Public()
  @ApiOkResponse({ type: TokenDto })
  @ApiUnauthorizedResponse({ description: 'Wrong e-mail or password.' })
  login(@Body() body: LoginDto): Promise<TokenDto> {
    return this.auth.login(body.email, body.password);
  }
}
