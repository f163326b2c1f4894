import type { AppContext } from './core/context.js';
import { AuditService } from './audit/service.js';
import { CamerasService } from './cameras/service.js';
import { DEFAULT_TIMING, DecoderSupervisor } from './cameras/decoder/supervisor.js';
import { createLiveView } from './cameras/live/service.js';
import { createAlerting } from './alerts/module.js';
import { AlertPeopleService } from './alerts/people.js';
import { AlertPreviewService } from './alerts/preview.js';
import { DevicesService } from './devices/service.js';
import { IngestService } from './ingest/service.js';
import { RushRosterService } from './rushroster/service.js';
import { EventPhotosService } from './events/photos.js';
import { DetectionModels } from './detection/models.js';
import { DetectionRunner } from './detection/runner.js';
import { PoloSancaService } from './polosanca/service.js';
import { EventsService } from './events/service.js';
import { TelemetryService } from './telemetry/service.js';
import { TrafficService } from './traffic/service.js';
import { CommunityService } from './community/service.js';
import { ReportRunner } from './reports/runner.js';
import { ReportsService } from './reports/service.js';
import { ScheduleDelivery } from './reports/schedule-delivery.js';
import { ReportSchedulesService } from './reports/schedules.js';
import { RetentionService } from './retention/service.js';
import { RollupsService } from './rollups/service.js';
import { IdentityService } from './identity/service.js';
import { MembersService } from './members/service.js';
import { OrganizationsService } from './organizations/service.js';
import { SetupService } from './setup/service.js';
import { SitesService } from './sites/service.js';
import { StreamService } from './stream/service.js';
import { MaintenanceAttachmentsService } from './maintenance/attachments.js';
import { ChannelReminderSender } from './maintenance/reminders.js';
import { MaintenanceService } from './maintenance/service.js';
import { ChallansService } from './challans/service.js';
import { CustomersService } from './challans/customers.js';
import { ChallanInvoicesService } from './challans/invoices.js';
import { ChallanPodService } from './challans/pod.js';
import { ChallanCompatService } from './challans/compat.js';
import { ChallanRecordsService } from './challans/records.js';
import { DeviceTopics } from './mqtt/device-topics.js';
import { AttributesService } from './attributes/service.js';
import { registerAttributeTopics } from './attributes/mqtt-topics.js';
import { CommandDelivery } from './commands/delivery.js';
import { CommandLongPolls } from './commands/long-poll.js';
import { registerCommandTopics } from './commands/mqtt-topics.js';
import { mqttSessionLimits } from './commands/session-limits.js';
import { CommandsService } from './commands/service.js';

/** Every domain service of one process, wired once. */
export function createServices(ctx: AppContext) {
  const audit = new AuditService(ctx.db);
  const organizations = new OrganizationsService(ctx, audit);
  const identity = new IdentityService(ctx, audit, organizations);
  const sites = new SitesService(ctx, audit, organizations);
  const customers = new CustomersService(ctx, audit);
  const members = new MembersService(ctx, audit, identity, organizations, sites, customers);
  const setup = new SetupService(ctx, audit, identity, organizations, members);
  const stream = new StreamService(ctx.bus);
  // MQTT topics the domains handle (attributes, commands); the broker adds telemetry and events.
  const deviceTopics = new DeviceTopics();
  const devices = new DevicesService(ctx, audit, organizations, sites);
  const attributes = new AttributesService(ctx, audit, devices);
  registerAttributeTopics(deviceTopics, attributes);
  const cameras = new CamerasService(ctx, audit, devices);
  devices.extend('camera', cameras);
  const decoders = new DecoderSupervisor({ logger: ctx.logger, media: ctx.media, registry: ctx.metrics.registry }, cameras, {
    ...DEFAULT_TIMING, ffmpegPath: ctx.config.ffmpegPath, watchdogMs: ctx.config.cameraWatchdogSeconds * 1000,
  });
  const live = createLiveView(ctx, decoders);
  const ingest = new IngestService(ctx);
  const photos = new EventPhotosService(ctx, audit);
  const detectionModels = new DetectionModels(ctx, audit);
  const detection = new DetectionRunner(ctx, decoders, cameras, ingest, photos, detectionModels);
  const polosanca = new PoloSancaService(ingest, devices);
  const rollups = new RollupsService(ctx);
  const events = new EventsService(ctx, audit, rollups);
  const telemetry = new TelemetryService(ctx, devices, rollups);
  const retention = new RetentionService(ctx, organizations);
  const traffic = new TrafficService(ctx, organizations, sites, rollups);
  const community = new CommunityService(ctx, audit, organizations, devices, traffic, rollups, photos);
  const rushroster = new RushRosterService(ctx, ingest, devices, community);
  const alerting = createAlerting(ctx, { audit, devices, sites, ingest });
  const alertPreview = new AlertPreviewService(ctx);
  const alertPeople = new AlertPeopleService(ctx, alerting.alerts);
  const maintenanceReminders = new ChannelReminderSender(alerting.notifier, ctx.config.publicUrl);
  const maintenanceAttachments = new MaintenanceAttachmentsService(ctx, audit);
  const maintenance = new MaintenanceService(ctx, audit, devices, maintenanceAttachments, maintenanceReminders);
  const challans = new ChallansService(ctx, audit, sites, customers);
  const challanInvoices = new ChallanInvoicesService(ctx, challans);
  const challanPods = new ChallanPodService(ctx, audit, challans);
  const challanCompat = new ChallanCompatService(challans, customers, challanPods, ctx.config.publicUrl);
  const challanRecords = new ChallanRecordsService(ctx, audit, alerting.notifier);
  const reports = new ReportsService(ctx, audit, { devices, sites, organizations });
  const reportRunner = new ReportRunner(ctx, { traffic, devices, sites, organizations, rollups, maintenance });
  const reportSchedules = new ReportSchedulesService(ctx, audit, { reports });
  const scheduleDelivery = new ScheduleDelivery(ctx, { reports });
  const commandDelivery = new CommandDelivery(ctx);
  const commands = new CommandsService(ctx, audit, devices, commandDelivery);
  const commandPolls = new CommandLongPolls(commandDelivery, ctx.metrics.registry);
  registerCommandTopics(deviceTopics, commandDelivery, mqttSessionLimits(ctx.config), ctx.logger.child({ module: 'commands' }));
  return {
    audit, organizations, identity, sites, members, setup, stream, deviceTopics, devices, attributes, cameras, decoders, detection, detectionModels, live, ingest, rushroster, photos, polosanca, events, telemetry, retention, rollups,
    alerting, alertPreview, alertPeople, maintenance, maintenanceAttachments, traffic, community, reports, reportRunner,
    reportSchedules, scheduleDelivery, customers, challans, challanInvoices, challanPods, challanCompat, challanRecords,
    commands, commandDelivery, commandPolls,
  };
}

export type Services = ReturnType<typeof createServices>;
