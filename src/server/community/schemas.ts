import { Type } from 'typebox';
import { Nullable, Timestamp, Uuid } from '../core/http/schemas.js';

const Units = Type.Union([Type.Literal('mph'), Type.Literal('kmh')]);
const Num = Nullable(Type.Number());

export const Sharing = Type.Object({
  deviceId: Uuid,
  shared: Type.Boolean({ description: 'the device is marked for the public pages' }),
  organizationShares: Type.Boolean({ description: 'the organization takes part in community sharing (an admin setting); without it nothing is public' }),
  photos: Type.Boolean({ description: 'the organization allows photos of speeders on the public pages' }),
  publicPath: Nullable(Type.String({ description: 'the public page of the device, when it is public' })),
});

const Location = Nullable(Type.Object({
  lat: Type.Number(),
  lon: Type.Number(),
}, { description: 'approximate: moved 80–120 m in a fixed direction per device and rounded to 4 decimals; never the exact location' }));

const PublicDeviceFields = {
  id: Uuid,
  name: Type.String(),
  kind: Type.String(),
  location: Location,
  speedLimit: Num,
  units: Units,
  timezone: Type.String({ description: "the device's site's time zone (else its organization's): the zone its times are shown in" }),
  locale: Type.String({ description: "its organization's BCP 47 locale: how its dates and numbers are written" }),
  lastActiveAt: Nullable(Type.String({ format: 'date-time', description: 'to the hour' })),
  last30Days: Type.Object({ vehicles: Type.Integer(), speeding: Type.Integer() }),
};

export const PublicDevice = Type.Object(PublicDeviceFields);

export const PublicDeviceDetail = Type.Object({
  ...PublicDeviceFields,
  statistics: Type.Object({
    from: Timestamp,
    to: Timestamp,
    empty: Type.Boolean(),
    count: Type.Integer(),
    mean: Num,
    median: Num,
    p85: Num,
    speedingShare: Num,
    hourly: Type.Array(Type.Object({ hour: Type.Integer(), count: Type.Integer() }), { description: 'vehicles per local hour of day' }),
    daily: Type.Array(Type.Object({ date: Type.String(), count: Type.Integer(), mean: Num, countAverage7: Num })),
  }, { description: 'the last 30 days, from the hourly rollups' }),
});

export const Overview = Type.Object({
  devices: Type.Integer(),
  organizations: Type.Integer(),
  last30Days: Type.Object({ vehicles: Type.Integer(), speeding: Type.Integer(), speedingShare: Num }),
  mapTiles: Type.Object({ url: Type.String(), attribution: Type.String() }),
});

export const Speeder = Type.Object({
  deviceId: Uuid,
  time: Timestamp,
  speed: Type.Number(),
  speedLimit: Type.Number(),
  photoUrl: Nullable(Type.String({ description: 'a 10-minute link to a thumbnail, only when the organization allows photos' })),
});
