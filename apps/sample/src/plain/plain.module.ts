import {
  Body,
  CanActivate,
  Controller,
  ExecutionContext,
  Get,
  Injectable,
  Module,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
  type DynamicModule,
} from '@nestjs/common';
import { InjectRepository, TypeOrmModule } from '@nestjs/typeorm';
import { jwtVerify } from 'jose';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Repository } from 'typeorm';
import { CreateInvoiceDto, InvoiceView } from '../invoices/invoice.dto';

/**
 * The same invoice routes WITHOUT Bulkhead, for the `sample.http.ratio` benchmark: the JWT is verified by hand
 * and every query names the tenant itself (the `where: { tenantId }` Bulkhead makes unnecessary). No RLS, no
 * audit, no rules. Not used by the app.
 */
@Entity('plain_invoice')
@Index(['tenantId', 'createdAt'])
export class PlainInvoice {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'tenant_id', type: 'varchar', length: 64 }) tenantId: string;
  @Column({ type: 'varchar', length: 200 }) customer: string;
  @Column({ type: 'integer' }) amount: number;
  @Column({ type: 'varchar', length: 16, default: 'draft' }) status: 'draft' | 'approved';
  @Column({ name: 'created_by', type: 'varchar', length: 64 }) createdBy: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'approved_by', type: 'varchar', length: 64, nullable: true }) approvedBy: string | null;
  @Column({ name: 'approved_at', type: 'timestamptz', nullable: true }) approvedAt: Date | null;
}

/** Its own DataSource name, so it never replaces the full app's default one when both run in one process. */
const PLAIN_DATA_SOURCE = 'plain';

interface PlainRequest {
  headers: Record<string, string | undefined>;
  user?: { id: string; tenantId: string };
}

function plainGuard(secret: string) {
  const key = new TextEncoder().encode(secret);
  @Injectable()
  class PlainAuthGuard implements CanActivate {
    async canActivate(context: ExecutionContext): Promise<boolean> {
      const req = context.switchToHttp().getRequest<PlainRequest>();
      const match = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!match) throw new UnauthorizedException();
      try {
        const { payload } = await jwtVerify(match[1], key, { algorithms: ['HS256'] });
        if (typeof payload.sub !== 'string' || typeof payload.tid !== 'string') throw new Error('claims');
        req.user = { id: payload.sub, tenantId: payload.tid };
      } catch {
        throw new UnauthorizedException();
      }
      return true;
    }
  }
  return PlainAuthGuard;
}

/** The plain variant: `PlainModule.forRoot({ databaseUrl, jwtSecret })`. */
@Module({})
export class PlainModule {
  static forRoot(options: { databaseUrl: string; jwtSecret: string; poolSize?: number }): DynamicModule {
    const Guard = plainGuard(options.jwtSecret);

    @Controller('invoices')
    @UseGuards(Guard)
    class PlainInvoicesController {
      constructor(
        @InjectRepository(PlainInvoice, PLAIN_DATA_SOURCE)
        private readonly invoices: Repository<PlainInvoice>,
      ) {}

      @Post()
      async create(@Body() body: CreateInvoiceDto, @Req() req: PlainRequest): Promise<InvoiceView> {
        const user = req.user!;
        const saved = await this.invoices.save(
          this.invoices.create({ ...body, status: 'draft', tenantId: user.tenantId, createdBy: user.id }),
        );
        return InvoiceView.of(saved);
      }

      @Get(':id')
      async get(
        @Param('id', new ParseUUIDPipe()) id: string,
        @Req() req: PlainRequest,
      ): Promise<InvoiceView> {
        const found = await this.invoices.findOneBy({ id, tenantId: req.user!.tenantId });
        if (!found) throw new NotFoundException();
        return InvoiceView.of(found);
      }
    }

    return {
      module: PlainModule,
      imports: [
        TypeOrmModule.forRoot({
          name: PLAIN_DATA_SOURCE,
          type: 'postgres',
          url: options.databaseUrl,
          entities: [PlainInvoice],
          poolSize: options.poolSize ?? 10,
          uuidExtension: 'pgcrypto',
          synchronize: true,
        }),
        TypeOrmModule.forFeature([PlainInvoice], PLAIN_DATA_SOURCE),
      ],
      controllers: [PlainInvoicesController],
    };
  }
}
