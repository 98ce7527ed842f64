// Analyzes every view and example query of sql/ (and the SQL heredocs of terraform/*.tf) with
// the GoogleSQL (ZetaSQL) analyzer, BigQuery's SQL front end, against the table schemas of
// src/main/resources/schemas: names, types and functions are resolved, not only parsed. Views a
// statement reads are inlined as WITH clauses. Run through scripts/check-bigquery-sql.
// Usage: node scripts/check-bigquery-sql.js ROOT   (NODE_PATH must reach @fivetrandevelopers/zetasql)
'use strict';
const fs = require('fs');
const path = require('path');
const z = require('@fivetrandevelopers/zetasql');

const root = process.argv[2] || '.';
const PLACEHOLDER = '${dataset}.';
const kinds = { STRING: 'TYPE_STRING', INTEGER: 'TYPE_INT64', INT64: 'TYPE_INT64', FLOAT: 'TYPE_DOUBLE',
  FLOAT64: 'TYPE_DOUBLE', TIMESTAMP: 'TYPE_TIMESTAMP', BYTES: 'TYPE_BYTES', JSON: 'TYPE_JSON',
  BOOLEAN: 'TYPE_BOOL', BOOL: 'TYPE_BOOL', DATE: 'TYPE_DATE' };

function columnType(field) {
  let t;
  if (field.type === 'RECORD') {
    t = { typeKind: 'TYPE_STRUCT', structType: { field: field.fields.map(f => ({ fieldName: f.name, fieldType: columnType(f) })) } };
  } else if (kinds[field.type]) {
    t = { typeKind: kinds[field.type] };
  } else {
    throw new Error(`schema type ${field.type} of ${field.name} is not mapped`);
  }
  return field.mode === 'REPEATED' ? { typeKind: 'TYPE_ARRAY', arrayType: { elementType: t } } : t;
}

function tables() {
  const dir = path.join(root, 'src/main/resources/schemas');
  return fs.readdirSync(dir).filter(f => f.endsWith('.json')).map(f => ({
    name: f.slice(0, -'.json'.length),
    column: JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).map(c => ({ name: c.name, type: columnType(c) })),
  }));
}

function sqlFiles(sub) {
  const dir = path.join(root, 'sql', sub);
  const out = {};
  for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.sql')).sort()) {
    out[f.slice(0, -'.sql'.length)] = fs.readFileSync(path.join(dir, f), 'utf8');
  }
  return out;
}

const views = sqlFiles('views');
const references = sql => [...sql.matchAll(/\$\{dataset\}\.([A-Za-z_][A-Za-z0-9_]*)/g)].map(m => m[1]);
const bare = sql => sql.replace(/--.*$/gm, '').split(PLACEHOLDER).join('');

function withViewsInlined(sql) {
  const order = [];
  const seen = new Set();
  const visit = name => {
    if (seen.has(name) || !views[name]) return;
    seen.add(name);
    references(views[name]).forEach(visit);
    order.push(name);
  };
  references(sql).forEach(visit);
  const body = bare(sql);
  return order.length ? 'WITH ' + order.map(n => `${n} AS (\n${bare(views[n])}\n)`).join(',\n') + '\n' + body : body;
}

// SQL heredocs of terraform (<<-SQL ... SQL): ${local.dataset_qualifier} is the placeholder,
// other interpolations become 1.
function terraformSql() {
  const out = {};
  const dir = path.join(root, 'terraform');
  for (const f of fs.readdirSync(dir).filter(f => f.endsWith('.tf'))) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/<<-?SQL\n([\s\S]*?)\n\s*SQL\n/g)) {
      out[`terraform/${f}#${++i}`] = m[1].split('${local.dataset_qualifier}').join(PLACEHOLDER).replace(/\$\{(?!dataset\})[^}]+\}/g, '1');
    }
  }
  return out;
}

(async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  z.runServer(port).catch(() => {});
  z.ZetaSQLClient.init(port);
  const client = z.ZetaSQLClient.getInstance();
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    up = await client.testConnection().catch(() => false);
    if (!up) await client.delay(200);
  }
  if (!up) {
    console.error('the ZetaSQL analyzer did not start');
    process.exit(2);
  }
  const language = (await new z.LanguageOptions().enableMaximumLanguageFeatures()).serialize();
  const catalog = { name: 'warehouse', table: tables(), builtinFunctionOptions: { languageOptions: language } };
  const statements = {};
  for (const [n, s] of Object.entries(views)) statements[`sql/views/${n}.sql`] = s;
  for (const [n, s] of Object.entries(sqlFiles('queries'))) statements[`sql/queries/${n}.sql`] = s;
  Object.assign(statements, terraformSql());
  // A statement BigQuery rejects must be rejected here too, or this check proves nothing.
  const controls = {
    'control: unknown column': `SELECT no_such_column FROM ${PLACEHOLDER}audit_events`,
    'control: QUALIFY without WHERE': `SELECT * FROM ${PLACEHOLDER}audit_events QUALIFY ROW_NUMBER() OVER (ORDER BY event_time) = 1`,
    'control: DuckDB cast': `SELECT latency_ms::DOUBLE FROM ${PLACEHOLDER}job_results`,
  };
  let failures = 0;
  const analyze = sql => client.analyze({ sqlStatement: withViewsInlined(sql), simpleCatalog: catalog,
    options: { languageOptions: language, defaultTimezone: 'UTC' } });
  for (const [name, sql] of Object.entries(statements)) {
    try {
      await analyze(sql);
      console.log(`ok    ${name}`);
    } catch (e) {
      failures++;
      console.log(`FAIL  ${name}: ${e.details || e.message}`);
    }
  }
  for (const [name, sql] of Object.entries(controls)) {
    try {
      await analyze(sql);
      failures++;
      console.log(`FAIL  ${name} was accepted`);
    } catch (e) {
      console.log(`ok    ${name} rejected (${(e.details || e.message).split('\n')[0]})`);
    }
  }
  const total = Object.keys(statements).length + Object.keys(controls).length;
  console.log(`${total - failures} passed, ${failures} failed`);
  z.terminateServer();
  process.exit(failures ? 1 : 0);
})();
