/** BigQuery table resources (schema, partitioning, clustering) generated from the table specs. */
import type { TableSpec } from "../tables.js";
import { columnsOf } from "./columns.js";

export interface BigQueryField {
  name: string;
  type: string;
  mode: "NULLABLE" | "REQUIRED";
  description: string;
}

export function bigQueryTable(t: TableSpec) {
  const fields: BigQueryField[] = columnsOf(t.schema).map((c) => ({
    name: c.name,
    type: c.type,
    mode: c.nullable ? "NULLABLE" : "REQUIRED",
    description: c.description,
  }));
  const partitionField = t.partitionBy ? fields.find((f) => f.name === t.partitionBy) : undefined;
  if (t.partitionBy && !partitionField) throw new Error(`contracts: ${t.dataset}.${t.name} partitions by missing column ${t.partitionBy}`);
  return {
    tableReference: { datasetId: t.dataset, tableId: t.name },
    description: t.description,
    schema: { fields },
    ...(partitionField
      ? { timePartitioning: { type: "DAY", field: partitionField.name, ...(t.requirePartitionFilter ? { requirePartitionFilter: true } : {}) } }
      : {}),
    ...(t.clusterBy ? { clustering: { fields: t.clusterBy } } : {}),
  };
}
