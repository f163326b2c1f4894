import type { AppContext } from '../core/context.js';
import type { AuditService } from '../audit/service.js';
import type { DevicesService } from '../devices/service.js';
import type { IngestService } from '../ingest/service.js';
import type { SitesService } from '../sites/service.js';
import { NotificationChannelsService } from './channels-service.js';
import { DigestRunner } from './digests.js';
import { AlertEvaluator } from './evaluator.js';
import { Notifier } from './notifier.js';
import { RuleBook } from './rule-book.js';
import { AlertRulesService } from './rules-service.js';
import { AlertsService } from './service.js';
import { AlertTimers } from './timers.js';
import { AlertTransitions } from './transitions.js';

/** The alerting domain wired together; its evaluator watches the ingest path's committed data. */
export function createAlerting(ctx: AppContext, deps: { audit: AuditService; devices: DevicesService; sites: SitesService; ingest: IngestService }) {
  const notifier = new Notifier(ctx);
  const book = new RuleBook(ctx.db, ctx.bus);
  const transitions = new AlertTransitions(ctx, notifier);
  const evaluator = new AlertEvaluator(ctx.db, book, transitions);
  deps.ingest.observe(evaluator);
  return {
    notifier,
    digests: new DigestRunner(ctx, notifier),
    evaluator,
    timers: new AlertTimers(ctx.db, book, transitions, notifier),
    rules: new AlertRulesService(ctx, deps.audit, deps.devices, deps.sites, transitions),
    alerts: new AlertsService(ctx, deps.devices, notifier, deps.audit),
    channels: new NotificationChannelsService(ctx, deps.audit),
  };
}

export type Alerting = ReturnType<typeof createAlerting>;
