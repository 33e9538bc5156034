/** Opening the local warehouse file, with DuckDB's lock error turned into what to do about it. */
import { DuckDBInstance } from "@duckdb/node-api";

/** `whatToDo` completes "the warehouse <path> is locked by another process (DuckDB allows one writer): …". */
export async function openWarehouseFile(path: string, whatToDo: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(path);
  } catch (e) {
    const msg = (e as Error).message;
    if (/lock/i.test(msg)) throw new Error(`the warehouse ${path} is locked by another process (DuckDB allows one writer): ${whatToDo}. DuckDB said: ${msg}`);
    throw e;
  }
}
