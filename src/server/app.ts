import type { AppContext } from './core/context.js';
import { createHttpApp } from './core/http/app.js';
import { alertRoutes } from './alerts/routes.js';
import { notificationRoutes } from './alerts/channels-routes.js';
import { alertPeopleRoutes } from './alerts/people-routes.js';
import { alertPreviewRoutes } from './alerts/preview-routes.js';
import { alertRuleRoutes } from './alerts/rules-routes.js';
import { auditRoutes } from './audit/routes.js';
import { attributeRoutes } from './attributes/routes.js';
import { attributeDeviceHttpRoutes } from './attributes/device-http-routes.js';
import { cameraRoutes } from './cameras/routes.js';
import { challanRoutes } from './challans/routes.js';
import { challanPodRoutes } from './challans/pod-routes.js';
import { customerRoutes } from './challans/customer-routes.js';
import { challanCompatRoutes } from './challans/compat-routes.js';
import { commandDeviceHttpRoutes } from './commands/device-http-routes.js';
import { httpSessionLimits } from './commands/session-limits.js';
import { commandRoutes } from './commands/routes.js';
import { decoderRoutes } from './cameras/decoder/routes.js';
import { liveRoutes } from './cameras/live/routes.js';
import { detectionRoutes } from './detection/routes.js';
import { deviceRoutes } from './devices/routes.js';
import { eventRoutes } from './events/routes.js';
import { healthRoutes } from './health/routes.js';
import { identityRoutes } from './identity/routes.js';
import { ingestRoutes } from './ingest/routes.js';
import { maintenanceRoutes } from './maintenance/routes.js';
import { memberRoutes } from './members/routes.js';
import { organizationRoutes } from './organizations/routes.js';
import { poloSancaRoutes } from './polosanca/routes.js';
import { rushRosterRoutes } from './rushroster/routes.js';
import { setupRoutes } from './setup/routes.js';
import { telemetryRoutes } from './telemetry/routes.js';
import { communityRoutes, publicCommunityRoutes } from './community/routes.js';
import { trafficRoutes } from './traffic/routes.js';
import { reportRoutes } from './reports/routes.js';
import { reportScheduleRoutes } from './reports/schedule-routes.js';
import { siteRoutes } from './sites/routes.js';
import { streamRoutes } from './stream/routes.js';
import type { Services } from './services.js';
import { consoleConfigRoutes } from './web/config-routes.js';
import { webRoutes } from './web/routes.js';

/** The HTTP server with every domain's routes. */
export function buildApp(ctx: AppContext, services: Services) {
  return createHttpApp(ctx, { users: services.identity, devices: services.devices }, [
    healthRoutes(ctx),
    setupRoutes(services.setup),
    identityRoutes(services.identity, ctx.config),
    organizationRoutes(services.organizations, services.members),
    siteRoutes(services.sites),
    memberRoutes(services.members),
    deviceRoutes(services.devices),
    attributeRoutes(services.attributes),
    attributeDeviceHttpRoutes(services.devices, services.ingest, services.attributes, ctx.config),
    cameraRoutes(services.cameras, ctx.config.cameraPlaceholderMaxBytes),
    decoderRoutes(ctx, services.cameras, services.decoders),
    detectionRoutes(ctx.replica.db, services.cameras, services.detectionModels, () => services.rollups.settle('events')),
    liveRoutes(services.live, services.cameras, services.identity, ctx.config.streamHeartbeatSeconds),
    ingestRoutes(services.ingest, ctx.config),
    rushRosterRoutes(services.rushroster, services.photos, ctx.config),
    eventRoutes(services.events, services.photos),
    telemetryRoutes(services.telemetry),
    trafficRoutes(services.traffic),
    communityRoutes(services.community),
    publicCommunityRoutes(services.community),
    reportRoutes(services.reports),
    reportScheduleRoutes(services.reportSchedules, services.scheduleDelivery),
    poloSancaRoutes(services.polosanca),
    auditRoutes(services.audit),
    alertPreviewRoutes(services.alertPreview),
    alertPeopleRoutes(services.alertPeople),
    alertRuleRoutes(services.alerting.rules),
    alertRoutes(services.alerting.alerts),
    notificationRoutes(services.alerting.channels),
    maintenanceRoutes(services.maintenance, services.maintenanceAttachments, ctx.config),
    challanRoutes(services.challans, services.challanInvoices),
    challanPodRoutes(services.challanPods, ctx.config.challanPodMaxBytes),
    customerRoutes(services.customers),
    challanCompatRoutes(services.challanCompat, ctx.config.challanPodMaxBytes),
    commandRoutes(services.commands),
    commandDeviceHttpRoutes(services.devices, services.commandDelivery, services.commandPolls, httpSessionLimits(ctx.config)),
    streamRoutes(services.stream, services.identity, ctx.config.streamHeartbeatSeconds),
    consoleConfigRoutes(ctx.config),
    // Last: the console answers every other page path with its index.html.
    webRoutes(),
  ]);
}
