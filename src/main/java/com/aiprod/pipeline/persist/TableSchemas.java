package com.aiprod.pipeline.persist;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableSchema;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import javax.annotation.Nullable;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;

/**
 * The warehouse table schemas of {@code src/main/resources/schemas/*.json} (BigQuery JSON schema
 * format, shared with terraform), and their translations to a Beam {@link Schema} and to DuckDB
 * DDL.
 *
 * <p>Type mapping:
 *
 * <table>
 *   <tr><th>BigQuery</th><th>Beam</th><th>DuckDB</th></tr>
 *   <tr><td>STRING</td><td>STRING</td><td>VARCHAR</td></tr>
 *   <tr><td>INTEGER / INT64</td><td>INT64</td><td>BIGINT</td></tr>
 *   <tr><td>FLOAT / FLOAT64</td><td>DOUBLE</td><td>DOUBLE</td></tr>
 *   <tr><td>BOOLEAN / BOOL</td><td>BOOLEAN</td><td>BOOLEAN</td></tr>
 *   <tr><td>TIMESTAMP</td><td>DATETIME</td><td>TIMESTAMPTZ (an instant, like BigQuery's
 *       TIMESTAMP; displayed in the session time zone, UTC in {@code Query})</td></tr>
 *   <tr><td>BYTES</td><td>BYTES</td><td>BLOB</td></tr>
 *   <tr><td>JSON</td><td>STRING (JSON text)</td><td>JSON (DuckDB's json type, queryable with
 *       {@code ->>})</td></tr>
 *   <tr><td>RECORD</td><td>ROW</td><td>STRUCT(...)</td></tr>
 * </table>
 *
 * <p>Mode {@code REPEATED} is a Beam array / DuckDB list ({@code T[]}), {@code NULLABLE} a nullable
 * field, {@code REQUIRED} a non-null field / {@code NOT NULL} column.
 */
public final class TableSchemas {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final Map<WarehouseTable, List<Field>> CACHE =
      Collections.synchronizedMap(new EnumMap<>(WarehouseTable.class));
  private static final Map<WarehouseTable, Schema> BEAM_SCHEMAS =
      Collections.synchronizedMap(new EnumMap<>(WarehouseTable.class));

  private TableSchemas() {}

  /** One field of a BigQuery JSON schema. */
  public record Field(
      String name, String type, String mode, @Nullable String description, List<Field> fields)
      implements Serializable {
    public Field {
      type = type.toUpperCase(Locale.ROOT);
      mode = mode == null ? "NULLABLE" : mode.toUpperCase(Locale.ROOT);
      fields = fields == null ? List.of() : List.copyOf(fields);
    }

    public boolean repeated() {
      return "REPEATED".equals(mode);
    }

    public boolean required() {
      return "REQUIRED".equals(mode);
    }

    public boolean isRecord() {
      return "RECORD".equals(type) || "STRUCT".equals(type);
    }
  }

  /** The fields of {@code table}, loaded once from its schema file. */
  public static List<Field> fields(WarehouseTable table) {
    return CACHE.computeIfAbsent(table, t -> load(t.tableName()));
  }

  /** Loads {@code schemas/<tableName>.json} from the class path. */
  public static List<Field> load(String tableName) {
    String resource = "/schemas/" + tableName + ".json";
    try (InputStream in = TableSchemas.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalArgumentException("No schema file on the class path: " + resource);
      }
      return parse(MAPPER.readTree(in), resource);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read schema " + resource, e);
    }
  }

  /** Parses a BigQuery JSON schema (an array of fields, or an object with {@code fields}). */
  public static List<Field> parse(JsonNode node, String source) {
    JsonNode array = node.isObject() ? node.path("fields") : node;
    if (!array.isArray()) {
      throw new IllegalArgumentException(source + ": expected a JSON array of fields");
    }
    List<Field> out = new ArrayList<>();
    for (JsonNode f : array) {
      String name = f.path("name").asText("");
      String type = f.path("type").asText("");
      if (name.isEmpty() || type.isEmpty()) {
        throw new IllegalArgumentException(source + ": every field needs a name and a type: " + f);
      }
      List<Field> children =
          f.has("fields") ? parse(f.get("fields"), source + "." + name) : List.of();
      out.add(
          new Field(
              name,
              type,
              f.path("mode").asText("NULLABLE"),
              f.has("description") ? f.get("description").asText() : null,
              children));
    }
    return List.copyOf(out);
  }

  /** The Beam schema of {@code table}. */
  public static Schema beamSchema(WarehouseTable table) {
    return BEAM_SCHEMAS.computeIfAbsent(table, t -> beamSchema(fields(t)));
  }

  /** The Beam schema of a list of BigQuery fields. */
  public static Schema beamSchema(List<Field> fields) {
    Schema.Builder b = Schema.builder();
    for (Field f : fields) {
      FieldType type = beamType(f);
      if (f.repeated()) {
        b.addField(f.name(), FieldType.array(type));
      } else {
        b.addField(f.name(), f.required() ? type : type.withNullable(true));
      }
    }
    return b.build();
  }

  private static FieldType beamType(Field f) {
    switch (f.type()) {
      case "STRING":
      case "JSON":
        return FieldType.STRING;
      case "INTEGER":
      case "INT64":
        return FieldType.INT64;
      case "FLOAT":
      case "FLOAT64":
        return FieldType.DOUBLE;
      case "BOOLEAN":
      case "BOOL":
        return FieldType.BOOLEAN;
      case "TIMESTAMP":
        return FieldType.DATETIME;
      case "BYTES":
        return FieldType.BYTES;
      case "RECORD":
      case "STRUCT":
        return FieldType.row(beamSchema(f.fields()));
      default:
        throw new IllegalArgumentException(
            "Unsupported BigQuery type " + f.type() + " of field " + f.name());
    }
  }

  /**
   * The BigQuery {@link TableSchema} of {@code table}: every field of its JSON schema file with its
   * type (JSON, TIMESTAMP, RECORD, ... as written there), mode and description, nested fields of
   * RECORDs included.
   */
  public static TableSchema bigQuerySchema(WarehouseTable table) {
    return new TableSchema().setFields(bigQueryFields(fields(table)));
  }

  /** The BigQuery API fields of a list of fields. */
  public static List<TableFieldSchema> bigQueryFields(List<Field> fields) {
    List<TableFieldSchema> out = new ArrayList<>();
    for (Field f : fields) {
      TableFieldSchema t =
          new TableFieldSchema().setName(f.name()).setType(f.type()).setMode(f.mode());
      if (f.description() != null) {
        t.setDescription(f.description());
      }
      if (f.isRecord()) {
        t.setFields(bigQueryFields(f.fields()));
      }
      out.add(t);
    }
    return out;
  }

  /** The DuckDB column type of a field (lists for REPEATED fields, without NOT NULL). */
  public static String duckDbType(Field f) {
    String base;
    switch (f.type()) {
      case "STRING":
        base = "VARCHAR";
        break;
      case "JSON":
        base = "JSON";
        break;
      case "INTEGER":
      case "INT64":
        base = "BIGINT";
        break;
      case "FLOAT":
      case "FLOAT64":
        base = "DOUBLE";
        break;
      case "BOOLEAN":
      case "BOOL":
        base = "BOOLEAN";
        break;
      case "TIMESTAMP":
        base = "TIMESTAMPTZ";
        break;
      case "BYTES":
        base = "BLOB";
        break;
      case "RECORD":
      case "STRUCT":
        base =
            f.fields().stream()
                .map(c -> quote(c.name()) + " " + duckDbType(c))
                .collect(Collectors.joining(", ", "STRUCT(", ")"));
        break;
      default:
        throw new IllegalArgumentException(
            "Unsupported BigQuery type " + f.type() + " of field " + f.name());
    }
    return f.repeated() ? base + "[]" : base;
  }

  /** {@code CREATE TABLE IF NOT EXISTS} for {@code table}, with its primary key. */
  public static String duckDbDdl(WarehouseTable table) {
    StringBuilder sql =
        new StringBuilder("CREATE TABLE IF NOT EXISTS ").append(quote(table.tableName()));
    sql.append(" (\n");
    for (Field f : fields(table)) {
      sql.append("  ").append(quote(f.name())).append(' ').append(duckDbType(f));
      if (f.required()) {
        sql.append(" NOT NULL");
      }
      sql.append(",\n");
    }
    sql.append("  PRIMARY KEY (")
        .append(
            table.primaryKey().stream().map(TableSchemas::quote).collect(Collectors.joining(", ")))
        .append(")\n)");
    return sql.toString();
  }

  /**
   * {@code ALTER TABLE ... ADD COLUMN IF NOT EXISTS} for each column of {@code table}'s schema file
   * not in {@code present} (a warehouse file made from an older schema), without {@code NOT NULL}.
   */
  public static List<String> duckDbAddMissingColumns(
      WarehouseTable table, java.util.Set<String> present) {
    List<String> sql = new ArrayList<>();
    for (Field f : fields(table)) {
      if (!present.contains(f.name())) {
        sql.add(
            "ALTER TABLE "
                + quote(table.tableName())
                + " ADD COLUMN IF NOT EXISTS "
                + quote(f.name())
                + " "
                + duckDbType(f));
      }
    }
    return sql;
  }

  /** A DuckDB identifier in double quotes (column names such as {@code timestamp} are keywords). */
  public static String quote(String identifier) {
    return '"' + identifier.replace("\"", "\"\"") + '"';
  }
}
