import knex, { type Knex } from 'knex';

export type Database = Knex;

export function createDatabase(url: string, poolMax: number): Database {
  return knex({
    client: 'pg',
    connection: { connectionString: url, application_name: 'kassa' },
    pool: { min: 0, max: poolMax },
  });
}
