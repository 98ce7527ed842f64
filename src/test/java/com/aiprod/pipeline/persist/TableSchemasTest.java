package com.aiprod.pipeline.persist;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.beam.sdk.schemas.Schema;
import org.apache.beam.sdk.schemas.Schema.FieldType;
import org.apache.beam.sdk.schemas.Schema.TypeName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TableSchemasTest {
  @TempDir Path dir;

  @Test
  void everySchemaFileLoads() {
    for (WarehouseTable t : WarehouseTable.values()) {
      List<TableSchemas.Field> fields = t.fields();
      assertThat(t.tableName(), fields.isEmpty(), is(false));
      for (String key : t.primaryKey()) {
        TableSchemas.Field f =
            fields.stream().filter(x -> x.name().equals(key)).findFirst().orElseThrow();
        assertThat(t + "." + key + " must be REQUIRED", f.required(), is(true));
      }
    }
  }

  @Test
  void designColumnNamesAreKept() {
    assertThat(
        names(WarehouseTable.AUDIT_EVENTS),
        contains(
            "event_id",
            "event_time",
            "event_type",
            "environment",
            "service",
            "tenant",
            "user_id",
            "action",
            "resource",
            "status",
            "job_id",
            "message_id",
            "details",
            "signature"));
    assertThat(
        names(WarehouseTable.DEAD_LETTERS),
        contains(
            "timestamp",
            "payloadString",
            "payloadBytes",
            "attributes",
            "errorMessage",
            "stacktrace",
            "reason_code",
            "stage",
            "message_id"));
    assertThat(
        names(WarehouseTable.SHOT_RENDERS),
        hasItems(
            "job_id",
            "shot_index",
            "attempt",
            "backend",
            "status",
            "error",
            "cost_usd",
            "latency_ms",
            "started_at",
            "finished_at"));
    assertThat(
        names(WarehouseTable.JOB_RESULTS),
        hasItems("latency_ms", "received_at", "finished_at", "technical_score", "output_uri"));
  }

  @Test
  void beamTypes() {
    Schema jobResults = WarehouseTable.JOB_RESULTS.beamSchema();
    assertThat(jobResults.getField("job_id").getType(), equalTo(FieldType.STRING));
    assertThat(
        jobResults.getField("preset").getType(), equalTo(FieldType.STRING.withNullable(true)));
    assertThat(jobResults.getField("latency_ms").getType(), equalTo(FieldType.INT64));
    assertThat(
        jobResults.getField("cost_usd").getType(), equalTo(FieldType.DOUBLE.withNullable(true)));
    assertThat(jobResults.getField("finished_at").getType(), equalTo(FieldType.DATETIME));

    Schema audit = WarehouseTable.AUDIT_EVENTS.beamSchema();
    assertThat(audit.getField("details").getType(), equalTo(FieldType.STRING.withNullable(true)));

    Schema dead = WarehouseTable.DEAD_LETTERS.beamSchema();
    assertThat(
        dead.getField("payloadBytes").getType(), equalTo(FieldType.BYTES.withNullable(true)));
    FieldType attributes = dead.getField("attributes").getType();
    assertThat(attributes.getTypeName(), is(TypeName.ARRAY));
    Schema kv = attributes.getCollectionElementType().getRowSchema();
    assertThat(kv.getFieldNames(), contains("key", "value"));
  }

  @Test
  void ddlRunsInDuckDbAndIsIdempotent() throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + dir.resolve("w.duckdb"));
        Statement s = c.createStatement()) {
      for (int round = 0; round < 2; round++) {
        for (WarehouseTable t : WarehouseTable.values()) {
          s.execute(TableSchemas.duckDbDdl(t));
        }
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT data_type FROM information_schema.columns WHERE table_name = 'dead_letters'"
                  + " AND column_name = 'attributes'")) {
        rs.next();
        assertThat(rs.getString(1), containsString("STRUCT"));
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT data_type FROM information_schema.columns WHERE table_name = 'audit_events'"
                  + " AND column_name = 'details'")) {
        rs.next();
        assertThat(rs.getString(1), equalTo("JSON"));
      }
      try (ResultSet rs =
          s.executeQuery(
              "SELECT data_type FROM information_schema.columns WHERE table_name = 'job_results'"
                  + " AND column_name = 'finished_at'")) {
        rs.next();
        assertThat(rs.getString(1), equalTo("TIMESTAMP WITH TIME ZONE"));
      }
    }
  }

  @Test
  void unknownTableIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> TableSchemas.load("no_such_table"));
    assertThrows(IllegalArgumentException.class, () -> WarehouseTable.ofName("nope"));
  }

  private static List<String> names(WarehouseTable t) {
    List<String> out = new ArrayList<>();
    t.fields().forEach(f -> out.add(f.name()));
    return out;
  }
}
