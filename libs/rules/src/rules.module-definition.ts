import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { RulesModuleOptions } from './rules-options.interface';

export const {
  ConfigurableModuleClass: RulesConfigurableModule,
  MODULE_OPTIONS_TOKEN: RULES_MODULE_OPTIONS,
  OPTIONS_TYPE: RULES_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: RULES_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RulesModuleOptions>({ moduleName: 'Rules' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
