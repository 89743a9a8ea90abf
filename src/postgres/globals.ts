/**
 * The globals of a cluster that pg_dump leaves out: roles (attributes, memberships, per-role
 * settings) and tablespaces. Read from pg_roles, pg_auth_members, pg_db_role_setting and
 * pg_tablespace, which any user may read (pg_authid, which holds the passwords, is never read),
 * so no pg_dumpall and no superuser is needed. Rendered as a SQL script a person can feed to psql;
 * its last line carries the same facts as JSON for this tool to read back.
 */
import type pg from 'pg';
import { quoteIdent } from './client.js';

export interface RoleInfo {
  name: string;
  superuser: boolean;
  inherit: boolean;
  createRole: boolean;
  createDb: boolean;
  login: boolean;
  replication: boolean;
  bypassRls: boolean;
  connectionLimit: number;
  validUntil: string | null;
}

export interface Membership {
  role: string;
  member: string;
  admin: boolean;
}

export interface RoleSetting {
  role: string;
  /** null: every database; else the backed-up database. */
  database: string | null;
  /** "name=value" as pg_db_role_setting stores it. */
  setting: string;
}

export interface TablespaceInfo {
  name: string;
  owner: string;
  location: string;
  options: string[];
}

export interface Globals {
  roles: RoleInfo[];
  memberships: Membership[];
  settings: RoleSetting[];
  tablespaces: TablespaceInfo[];
}

const JSON_MARK = '-- lms-backup-globals-json: ';

export async function readGlobals(client: pg.Client): Promise<Globals> {
  const roles = await client.query<{
    name: string;
    superuser: boolean;
    inherit: boolean;
    createrole: boolean;
    createdb: boolean;
    login: boolean;
    replication: boolean;
    bypassrls: boolean;
    connlimit: number;
    validuntil: string | null;
  }>(`
    SELECT rolname AS name, rolsuper AS superuser, rolinherit AS inherit, rolcreaterole AS createrole,
           rolcreatedb AS createdb, rolcanlogin AS login, rolreplication AS replication,
           rolbypassrls AS bypassrls, rolconnlimit AS connlimit, rolvaliduntil::text AS validuntil
    FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY rolname`);
  const memberships = await client.query<Membership>(`
    SELECT r.rolname AS role, m.rolname AS member, am.admin_option AS admin
    FROM pg_auth_members am
    JOIN pg_roles r ON r.oid = am.roleid
    JOIN pg_roles m ON m.oid = am.member
    WHERE m.rolname !~ '^pg_'
    ORDER BY 1, 2`);
  const settings = await client.query<{ role: string; database: string | null; setting: string }>(`
    SELECT r.rolname AS role, d.datname AS database, unnest(s.setconfig) AS setting
    FROM pg_db_role_setting s
    JOIN pg_roles r ON r.oid = s.setrole
    LEFT JOIN pg_database d ON d.oid = s.setdatabase
    WHERE s.setdatabase = 0 OR d.datname = current_database()
    ORDER BY 1, 2 NULLS FIRST, 3`);
  const tablespaces = await client.query<{
    name: string;
    owner: string;
    location: string;
    options: string[] | null;
  }>(`
    SELECT t.spcname AS name, pg_get_userbyid(t.spcowner) AS owner,
           pg_tablespace_location(t.oid) AS location, t.spcoptions AS options
    FROM pg_tablespace t WHERE t.spcname NOT IN ('pg_default', 'pg_global') ORDER BY 1`);
  return {
    roles: roles.rows.map((r) => ({
      name: r.name,
      superuser: r.superuser,
      inherit: r.inherit,
      createRole: r.createrole,
      createDb: r.createdb,
      login: r.login,
      replication: r.replication,
      bypassRls: r.bypassrls,
      connectionLimit: r.connlimit,
      validUntil: r.validuntil,
    })),
    memberships: memberships.rows,
    settings: settings.rows,
    tablespaces: tablespaces.rows.map((t) => ({ ...t, options: t.options ?? [] })),
  };
}

function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** ALTER ROLE … WITH attributes; `login: false` forces NOLOGIN (drills, --create-roles). */
export function roleAttributes(r: RoleInfo, options: { login?: boolean } = {}): string {
  const login = options.login === false ? false : r.login;
  const parts = [
    r.superuser ? 'SUPERUSER' : 'NOSUPERUSER',
    r.inherit ? 'INHERIT' : 'NOINHERIT',
    r.createRole ? 'CREATEROLE' : 'NOCREATEROLE',
    r.createDb ? 'CREATEDB' : 'NOCREATEDB',
    login ? 'LOGIN' : 'NOLOGIN',
    r.replication ? 'REPLICATION' : 'NOREPLICATION',
    r.bypassRls ? 'BYPASSRLS' : 'NOBYPASSRLS',
    `CONNECTION LIMIT ${r.connectionLimit}`,
  ];
  if (r.validUntil) parts.push(`VALID UNTIL ${literal(r.validUntil)}`);
  return parts.join(' ');
}

/** Variables whose value is a list: pg_db_role_setting keeps them in a form SET takes as is. */
const LIST_SETTINGS = new Set([
  'search_path',
  'temp_tablespaces',
  'session_preload_libraries',
  'local_preload_libraries',
  'shared_preload_libraries',
]);

export function settingSql(s: RoleSetting): string {
  const i = s.setting.indexOf('=');
  const name = s.setting.slice(0, i);
  const value = s.setting.slice(i + 1);
  const where = s.database ? ` IN DATABASE ${quoteIdent(s.database)}` : '';
  const v = LIST_SETTINGS.has(name.toLowerCase()) ? value : literal(value);
  return `ALTER ROLE ${quoteIdent(s.role)}${where} SET ${name} = ${v};`;
}

/**
 * The globals as a SQL script, in the spirit of `pg_dumpall --globals-only --no-role-passwords`:
 * real attributes (LOGIN included; no password: set one with ALTER ROLE … PASSWORD after restoring).
 */
export function renderGlobalsSql(g: Globals, meta: { database: string; takenAt: string }): string {
  const out = [
    '-- lms-backup globals: roles (no passwords), memberships, role settings and tablespaces',
    `-- of the cluster that held database ${meta.database}, read ${meta.takenAt}.`,
    '-- Apply with psql before pg_restore: psql -v ON_ERROR_STOP=0 -f <file> postgres',
    '-- ("role … already exists" errors are expected for roles the new server has). Roles that',
    '-- log in need a password afterwards: ALTER ROLE name PASSWORD …;',
    '',
    '-- Roles',
  ];
  for (const r of g.roles) {
    out.push(`CREATE ROLE ${quoteIdent(r.name)};`);
    out.push(`ALTER ROLE ${quoteIdent(r.name)} WITH ${roleAttributes(r)};`);
  }
  if (g.memberships.length) out.push('', '-- Role memberships');
  for (const m of g.memberships) {
    out.push(`GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin ? ' WITH ADMIN OPTION' : ''};`);
  }
  if (g.settings.length) out.push('', '-- Role settings');
  for (const s of g.settings) out.push(settingSql(s));
  if (g.tablespaces.length) out.push('', '-- Tablespaces (the directories must exist on the new server)');
  for (const t of g.tablespaces) {
    out.push(
      `CREATE TABLESPACE ${quoteIdent(t.name)} OWNER ${quoteIdent(t.owner)} LOCATION ${literal(t.location)};`,
    );
    if (t.options.length) out.push(`ALTER TABLESPACE ${quoteIdent(t.name)} SET (${t.options.join(', ')});`);
  }
  out.push('', `${JSON_MARK}${Buffer.from(JSON.stringify(g)).toString('base64')}`, '');
  return out.join('\n');
}

/** Reads back the facts of a globals script this tool wrote. */
export function parseGlobalsSql(text: string): Globals {
  const line = text.split('\n').find((l) => l.startsWith(JSON_MARK));
  if (!line) throw new Error('the globals script has no lms-backup data line');
  const g = JSON.parse(Buffer.from(line.slice(JSON_MARK.length), 'base64').toString('utf8')) as Globals;
  if (!Array.isArray(g.roles) || !Array.isArray(g.memberships))
    throw new Error('the globals data is malformed');
  return {
    roles: g.roles,
    memberships: g.memberships,
    settings: g.settings ?? [],
    tablespaces: g.tablespaces ?? [],
  };
}

export interface CreatedRoles {
  created: string[];
  /** Statements that failed (a membership of a role the server lacks, a setting it rejects). */
  warnings: string[];
}

/**
 * Creates the roles of `globals` that the server lacks, NOLOGIN and without passwords, with
 * their other attributes, then their memberships and settings. `only` limits it to these names.
 * Roles that exist (the bootstrap superuser, say) are left exactly as they are.
 */
export async function createMissingRoles(
  client: pg.Client,
  globals: Globals,
  options: { only?: Set<string> } = {},
): Promise<CreatedRoles> {
  const existing = new Set(
    (await client.query<{ n: string }>('SELECT rolname AS n FROM pg_roles')).rows.map((r) => r.n),
  );
  const created: string[] = [];
  const warnings: string[] = [];
  const run = async (sql: string) => {
    try {
      await client.query(sql);
      return true;
    } catch (error) {
      warnings.push(`${sql} failed: ${(error as Error).message}`);
      return false;
    }
  };
  for (const r of globals.roles) {
    if (existing.has(r.name) || (options.only && !options.only.has(r.name))) continue;
    if (await run(`CREATE ROLE ${quoteIdent(r.name)} WITH ${roleAttributes(r, { login: false })}`))
      created.push(r.name);
  }
  const mine = new Set(created);
  for (const m of globals.memberships) {
    if (!mine.has(m.member) && !mine.has(m.role)) continue;
    await run(`GRANT ${quoteIdent(m.role)} TO ${quoteIdent(m.member)}${m.admin ? ' WITH ADMIN OPTION' : ''}`);
  }
  for (const s of globals.settings) {
    if (!mine.has(s.role) || s.database) continue;
    await run(settingSql(s).replace(/;$/, ''));
  }
  return { created, warnings };
}
