/**
 * A static check of BigQuery statements: every SELECT that reads a table created with
 * require_partition_filter (contracts/tables.ts) must constrain its partition column with a
 * predicate BigQuery can prune partitions with — the column compared with constants: IN
 * UNNEST([DATE …]), an IN-list, BETWEEN two dates, or =, <, <=, >, >= a date. BigQuery rejects a
 * query without one ("Cannot query over table without a filter over column(s) … that can be used for
 * partition elimination"), and the BigQuery emulator does not enforce it, so this check stands in.
 * Statements are parsed with sql-parser-cst's BigQuery grammar; one that does not parse is reported too.
 */
import { parse } from "sql-parser-cst";
import { TABLES } from "../../contracts/tables.js";

export interface PruningViolation {
  statement: number;
  table: string;
  problem: string;
  sql: string;
}

/** schema.name → partition column, for tables whose BigQuery definition requires a partition filter. */
export const PARTITION_FILTERED: Record<string, string> = Object.fromEntries(TABLES.filter((t) => t.requirePartitionFilter && t.partitionBy).map((t) => [`${t.dataset}.${t.name}`, t.partitionBy!]));

type Node = { type: string; [k: string]: unknown };
const isNode = (v: unknown): v is Node => typeof v === "object" && v !== null && typeof (v as Node).type === "string";

function children(n: Node): Node[] {
  const out: Node[] = [];
  for (const v of Object.values(n)) {
    if (Array.isArray(v)) for (const x of v) if (isNode(x)) out.push(x);
    if (isNode(v)) out.push(v);
  }
  return out;
}

function walk(n: Node, visit: (n: Node) => void) {
  visit(n);
  for (const c of children(n)) walk(c, visit);
}

/** The dotted name of a table reference (`p.raw.events` or p.raw.events), else null. */
function tableName(n: Node): string | null {
  if (n.type === "bigquery_quoted_member_expr") return tableName(n.expr as Node);
  if (n.type === "identifier") return String(n.name);
  if (n.type === "member_expr") {
    const obj = tableName(n.object as Node);
    const prop = isNode(n.property) ? tableName(n.property) : null;
    return obj && prop ? `${obj}.${prop}` : null;
  }
  return null;
}

/** Tables read directly by a FROM clause (joins included, subqueries not: they are SELECTs of their own). */
function fromTables(from: Node): string[] {
  const out: string[] = [];
  const visit = (n: Node) => {
    if (n.type === "select_stmt" || n.type === "paren_expr") return;
    const name = n.type === "bigquery_quoted_member_expr" || n.type === "member_expr" || n.type === "identifier" ? tableName(n) : null;
    if (name) {
      out.push(name);
      return;
    }
    if (n.type === "alias") return visit(n.expr as Node);
    for (const c of children(n)) visit(c);
  };
  visit(from.expr as Node);
  return out;
}

function conjuncts(n: Node): Node[] {
  if (n.type === "binary_expr" && String((n.operator as Node).name ?? (n.operator as Node).text ?? n.operator).toUpperCase() === "AND") return [...conjuncts(n.left as Node), ...conjuncts(n.right as Node)];
  if (n.type === "paren_expr") return conjuncts(n.expr as Node);
  return [n];
}

const columnOf = (n: Node): string | null => (n.type === "identifier" ? String(n.name) : n.type === "member_expr" && isNode(n.property) ? columnOf(n.property) : null);
const isConstant = (n: Node): boolean => n.type.endsWith("_literal") || (n.type === "paren_expr" && isConstant(n.expr as Node));
const operatorOf = (n: Node) => String(isNode(n.operator) ? (n.operator.name ?? n.operator.text) : n.operator).toUpperCase();

/** True when the predicate constrains `col` with constants only. */
function prunes(p: Node, col: string): boolean {
  if (p.type === "between_expr") return columnOf(p.left as Node) === col && isConstant(p.begin as Node) && isConstant(p.end as Node);
  if (p.type !== "binary_expr") return false;
  const op = operatorOf(p);
  const left = p.left as Node;
  const right = p.right as Node;
  if (op === "IN" && columnOf(left) === col) {
    if (right.type === "unnest_expr") {
      const inner = (right.expr as Node).type === "paren_expr" ? ((right.expr as Node).expr as Node) : (right.expr as Node);
      return inner.type === "array_expr" && ((inner.expr as Node).items as Node[]).every(isConstant);
    }
    if (right.type === "paren_expr") {
      const inner = right.expr as Node;
      return inner.type === "list_expr" ? (inner.items as Node[]).every(isConstant) : isConstant(inner);
    }
    return false;
  }
  if (["=", "<", "<=", ">", ">="].includes(op)) return (columnOf(left) === col && isConstant(right)) || (columnOf(right) === col && isConstant(left));
  return false;
}

/** Violations in the statements (each a BigQuery statement or script as the runner sends it). */
export function checkPartitionPruning(statements: string[], required: Record<string, string> = PARTITION_FILTERED): PruningViolation[] {
  const violations: PruningViolation[] = [];
  statements.forEach((sql, statement) => {
    let cst: Node;
    try {
      cst = parse(sql, { dialect: "bigquery" }) as unknown as Node;
    } catch (e) {
      violations.push({ statement, table: "?", problem: `does not parse as BigQuery SQL: ${(e as Error).message.split("\n")[0]}`, sql });
      return;
    }
    walk(cst, (n) => {
      if (n.type !== "select_stmt") return;
      const clauses = (n.clauses as Node[]) ?? [];
      const from = clauses.find((c) => c.type === "from_clause");
      if (!from) return;
      const where = clauses.find((c) => c.type === "where_clause");
      for (const name of fromTables(from)) {
        const key = Object.keys(required).find((t) => name === t || name.endsWith(`.${t}`));
        if (!key) continue;
        const col = required[key]!;
        const ok = where ? conjuncts(where.expr as Node).some((p) => prunes(p, col)) : false;
        if (!ok) violations.push({ statement, table: key, problem: `reads ${key} without a constant predicate on ${col} (BigQuery requires one to prune partitions)`, sql });
      }
    });
  });
  return violations;
}
