import fs from 'node:fs/promises';
import path from 'node:path';
import type { Scope } from '../core/access.js';
import type { AppContext } from '../core/context.js';
import { invalidFields } from '../core/http/errors.js';
import type { Actor, AuditService } from '../audit/service.js';
import { describeModel } from './model.js';
import * as store from './store.js';

/**
 * The detection models installed on this deployment and each organization's choice among them. The operator
 * installs models as files: the default at DETECTION_MODEL_PATH, others as `<name>.onnx` beside it. An
 * organization names one (an admin chooses it); its cameras load that file at their next start, which a
 * choice triggers at once. Names, never paths, cross the API, so nothing outside the folder can be loaded.
 */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** Larger files are listed with a problem instead of being read: no YOLO detector is this big. */
const MAX_MODEL_BYTES = 512 * 1024 * 1024;
const MAX_LISTED = 100;

export interface InstalledModel {
  name: string;
  /** The operator's default (DETECTION_MODEL_PATH): what organizations without a choice use. */
  isDefault: boolean;
  bytes: number;
  classes: string[];
  inputWidth: number | null;
  inputHeight: number | null;
  /** Why the file cannot be used (not a YOLO export, no class names, …); null when it can. */
  problem: string | null;
}

export class DetectionModels {
  constructor(
    private readonly ctx: AppContext,
    private readonly audit: AuditService,
  ) {}

  private get defaultPath(): string {
    return this.ctx.config.detectionModelPath;
  }

  private get folder(): string {
    return path.dirname(this.defaultPath);
  }

  private pathOf(name: string): string {
    return name === path.basename(this.defaultPath, '.onnx') ? this.defaultPath : path.join(this.folder, `${name}.onnx`);
  }

  /** The default model first (also when its file is missing), then every other `<name>.onnx` in its folder. */
  async installed(): Promise<InstalledModel[]> {
    const defaultName = path.basename(this.defaultPath, '.onnx');
    const files = await fs.readdir(this.folder).catch(() => [] as string[]);
    const others = files.filter((file) => file.endsWith('.onnx') && file !== path.basename(this.defaultPath))
      .map((file) => file.slice(0, -'.onnx'.length)).filter((name) => MODEL_NAME.test(name) && name !== defaultName).sort().slice(0, MAX_LISTED);
    return Promise.all([defaultName, ...others].map((name) => this.describe(name, name === defaultName)));
  }

  private async describe(name: string, isDefault: boolean): Promise<InstalledModel> {
    const file = this.pathOf(name);
    const model: InstalledModel = { name, isDefault, bytes: 0, classes: [], inputWidth: null, inputHeight: null, problem: null };
    try {
      model.bytes = (await fs.stat(file)).size;
      if (model.bytes > MAX_MODEL_BYTES) return { ...model, problem: `larger than ${MAX_MODEL_BYTES / 1024 / 1024} MB` };
      const description = await describeModel(await fs.readFile(file), `${name}.onnx`);
      return { ...model, classes: description.classNames, inputWidth: description.inputWidth, inputHeight: description.inputHeight };
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { ...model, problem: code === 'ENOENT' ? 'not installed: no file' : (error as Error).message };
    }
  }

  async list(scope: Scope) {
    return { models: await this.installed(), chosen: (await store.chosenModel(this.ctx.db, scope.orgId)) ?? null };
  }

  /** Chooses an installed, usable model for the organization's cameras (null: the default); running cameras switch at once. */
  async choose(scope: Scope, name: string | null, actor: Actor) {
    if (name !== null) {
      if (!MODEL_NAME.test(name)) throw invalidFields([{ field: 'model', message: 'is a model name: letters, digits, ".", "_" and "-"' }]);
      const model = await this.describe(name, false);
      if (model.problem) throw invalidFields([{ field: 'model', message: `cannot be used: ${model.problem}` }]);
    }
    const previous = (await store.chosenModel(this.ctx.db, scope.orgId)) ?? null;
    await this.ctx.db.transaction().execute(async (tx) => {
      await store.chooseModel(tx, scope.orgId, name, scope.userId);
      await this.audit.record(actor, {
        orgId: scope.orgId, action: 'detection.model_chosen', resourceType: 'organization', resourceId: scope.orgId, name: name ?? 'the default model',
        details: { changes: { model: { from: previous, to: name } } },
      }, tx);
    });
    await this.ctx.bus.publish({ type: 'detection.model_changed', orgId: scope.orgId, requires: 'camera.read', data: { model: name } });
    return this.list(scope);
  }

  /** The file an organization's cameras load. */
  async pathFor(orgId: string): Promise<string> {
    const chosen = await store.chosenModel(this.ctx.db, orgId);
    return chosen ? this.pathOf(chosen) : this.defaultPath;
  }
}
