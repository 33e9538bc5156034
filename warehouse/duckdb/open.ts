/**
 * Opening the local warehouse file, with DuckDB's lock error turned into what to do about it, and
 * the lock-down of every instance that answers operator SQL.
 */
import { DuckDBInstance } from "@duckdb/node-api";

/** No extension is fetched or loaded on demand: json, parquet and icu are built into the package. */
export const NO_EXTENSION_LOADING = { autoinstall_known_extensions: "false", autoload_known_extensions: "false" } as const;

/** `whatToDo` completes "the warehouse <path> is locked by another process (DuckDB allows one writer): …". */
export async function openWarehouseFile(path: string, whatToDo: string, options: Record<string, string> = {}): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(path, options);
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) throw new Error(`the warehouse ${path} is locked by another process (DuckDB allows one writer): ${whatToDo}. DuckDB said: ${msg}`);
    throw e;
  }
}

const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * Locks an instance down for operator SQL (issue 16: a "read-only" query read /etc/passwd):
 * no file, URL or database outside `allowedDirectories` (each ending in "/", matched as a prefix),
 * no extension install or load, and no configuration change afterwards, from any connection.
 *
 * DuckDB only takes these as statements (its C API rejects a list for allowed_directories), in this
 * order: the directories while external access is still on, then external access off, then the lock.
 * Sessions run in UTC (the warehouse's dates are UTC dates); once locked, nobody can set it.
 */
export async function lockDown(instance: DuckDBInstance, allowedDirectories: string[] = []): Promise<void> {
  for (const d of allowedDirectories) if (!d.endsWith("/")) throw new Error(`internal error: allowed directory ${d} must end with "/"`);
  const con = await instance.connect();
  try {
    await con.run(`SET allowed_directories = [${allowedDirectories.map(sqlString).join(", ")}]`);
    await con.run("SET TimeZone = 'UTC'");
    await con.run("SET enable_external_access = false");
    await con.run("SET lock_configuration = true");
  } finally {
    con.closeSync();
  }
}

export async function isLocked(instance: DuckDBInstance): Promise<boolean> {
  const con = await instance.connect();
  try {
    return (await con.runAndReadAll("SELECT current_setting('lock_configuration')")).getRows()[0]![0] === true;
  } finally {
    con.closeSync();
  }
}
