import { NotFoundError, type OpenAI } from 'openai';

/** A new project service account and its one-time API key value. */
export interface NewServiceAccount {
  readonly id: string;
  readonly apiKey: string;
}

/**
 * Name of the service account a rotation creates: the stage and the rotation token, so a retried
 * `createSecret` can find (and remove) the account an earlier attempt created but could not store.
 */
export function serviceAccountName(stage: string, token: string): string {
  return `gateway-${stage}-${token}`.slice(0, 100);
}

/** Project service accounts through OpenAI's admin API (admin key). */
export class ServiceAccounts {
  constructor(
    private readonly admin: OpenAI,
    private readonly projectId: string,
  ) {}

  /** Creates a service account; OpenAI returns its key value only in this response. */
  async create(name: string): Promise<NewServiceAccount> {
    const created = await this.admin.admin.organization.projects.serviceAccounts.create(this.projectId, {
      name,
    });
    const value = created.api_key?.value;
    if (!created.id || !value) throw new Error(`service account "${name}" was created without an API key`);
    return { id: created.id, apiKey: value };
  }

  /** Ids of the project's service accounts called `name`. */
  async findByName(name: string): Promise<string[]> {
    const ids: string[] = [];
    for await (const account of this.admin.admin.organization.projects.serviceAccounts.list(this.projectId, {
      limit: 100,
    })) {
      if (account.name === name) ids.push(account.id);
    }
    return ids;
  }

  /** Deletes a service account and its keys. @returns false when it was already gone */
  async delete(id: string): Promise<boolean> {
    try {
      await this.admin.admin.organization.projects.serviceAccounts.delete(id, { project_id: this.projectId });
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }
}
