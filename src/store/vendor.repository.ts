import type { Kysely } from 'kysely';
import type { Database, VendorsTable } from './schema.js';
import type { Selectable } from 'kysely';

export interface Vendor {
  id: number;
  name: string;
  /** Keys of the matrix categories the vendor covers. */
  categories: string[];
  email: string;
  phone: string | null;
  locale: 'fr' | 'en';
  contractRef: string | null;
  /** Response targets of the support contract (ISO 8601 durations). */
  acknowledge: string | null;
  resolve: string | null;
  active: boolean;
  systemUserId: number;
  createdAt: number;
  updatedAt: number;
}

export type VendorFields = Omit<Vendor, 'id' | 'systemUserId' | 'createdAt' | 'updatedAt'>;

export class VendorRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async insert(trx: Kysely<Database>, v: VendorFields, systemUserId: number, at: number): Promise<Vendor> {
    const row = await trx
      .insertInto('vendors')
      .values({ ...toRow(v), system_user_id: systemUserId, created_at: at, updated_at: at })
      .returningAll()
      .executeTakeFirstOrThrow();
    return fromRow(row);
  }

  /** With `ifUpdatedAt`, only a vendor last changed at that instant is changed (undefined otherwise). */
  async update(
    trx: Kysely<Database>,
    id: number,
    v: VendorFields,
    at: number,
    ifUpdatedAt?: number,
  ): Promise<Vendor | undefined> {
    let q = trx
      .updateTable('vendors')
      .set({ ...toRow(v), updated_at: at })
      .where('id', '=', id);
    if (ifUpdatedAt !== undefined) q = q.where('updated_at', '=', ifUpdatedAt);
    const row = await q
      .returningAll()
      .executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async byId(id: number, db: Kysely<Database> = this.db): Promise<Vendor | undefined> {
    const row = await db.selectFrom('vendors').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  async byName(name: string, db: Kysely<Database> = this.db): Promise<Vendor | undefined> {
    const row = await db.selectFrom('vendors').selectAll().where('name', '=', name).executeTakeFirst();
    return row ? fromRow(row) : undefined;
  }

  /** Incidents handed to the vendor whose part is not done, and which are not resolved or closed. */
  async openEngagements(id: number): Promise<number> {
    const row = await this.db
      .selectFrom('incidents')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('vendor_id', '=', id)
      .where('vendor_status', 'in', ['engaged', 'acknowledged'])
      .where('status', 'not in', ['resolved', 'closed'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(filter: { active?: boolean | undefined; category?: string | undefined }): Promise<Vendor[]> {
    let q = this.db.selectFrom('vendors').selectAll();
    if (filter.active !== undefined) q = q.where('active', '=', filter.active ? 1 : 0);
    const rows = await q.orderBy('name').orderBy('id').execute();
    const vendors = rows.map(fromRow);
    // Categories are a short JSON list per vendor, and the directory is small: filtered here.
    return filter.category ? vendors.filter((v) => v.categories.includes(filter.category!)) : vendors;
  }
}

function toRow(v: VendorFields) {
  return {
    name: v.name,
    categories: JSON.stringify(v.categories),
    email: v.email,
    phone: v.phone,
    locale: v.locale,
    contract_ref: v.contractRef,
    acknowledge: v.acknowledge,
    resolve: v.resolve,
    active: v.active ? 1 : 0,
  };
}

function fromRow(r: Selectable<VendorsTable>): Vendor {
  return {
    id: Number(r.id),
    name: r.name,
    categories: JSON.parse(r.categories) as string[],
    email: r.email,
    phone: r.phone,
    locale: r.locale === 'en' ? 'en' : 'fr',
    contractRef: r.contract_ref,
    acknowledge: r.acknowledge,
    resolve: r.resolve,
    active: Number(r.active) === 1,
    systemUserId: Number(r.system_user_id),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}
