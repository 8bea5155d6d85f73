import { ForbiddenException, Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { SignJWT } from 'jose';
import { IsNull, Repository } from 'typeorm';
import { TenancyService } from '@bulkhead/tenancy';
import { RulesMembership } from '@bulkhead/rules';
import { User } from '../entities';
import { SAMPLE_OPTIONS, type SampleOptions } from '../sample.constants';
import { UNUSABLE_HASH, verifyPassword } from './password.util';

/** Checks e-mail and password and issues access tokens. */
@Injectable()
export class AuthService {
  private readonly key: Uint8Array;

  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(RulesMembership) private readonly memberships: Repository<RulesMembership>,
    private readonly tenancy: TenancyService,
    @Inject(SAMPLE_OPTIONS) private readonly options: SampleOptions,
  ) {
    this.key = new TextEncoder().encode(options.jwtSecret);
  }

  async login(email: string, password: string): Promise<{ accessToken: string }> {
    const user = await this.users.findOneBy({ email: email.toLowerCase() });
    const valid = await verifyPassword(password, user?.passwordHash ?? UNUSABLE_HASH);
    if (!user || !valid) throw new UnauthorizedException('Wrong e-mail or password.');
    // Which tenants the user belongs to is a question across tenants: a visible, recorded bypass.
    const first = await this.tenancy.runUnscoped('login: find the tenants of the signing-in user', () =>
      this.memberships.findOne({
        where: { principalId: user.id, resourceType: IsNull() },
        order: { createdAt: 'ASC', tenantId: 'ASC' },
      }),
    );
    if (!first) throw new ForbiddenException('This account belongs to no tenant.');
    return { accessToken: await this.sign(user.id, first.tenantId) };
  }

  /** A token for a user and tenant (also used by tests and benchmarks). */
  sign(userId: string, tenantId: string): Promise<string> {
    return new SignJWT({ tid: tenantId })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(userId)
      .setIssuedAt()
      .setExpirationTime(this.options.tokenTtl ?? '8h')
      .sign(this.key);
  }
}
