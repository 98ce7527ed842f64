package com.aiprod.pipeline;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;

import com.aiprod.pipeline.persist.BigQueryWarehouse;
import com.aiprod.pipeline.persist.TableSchemas;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.aiprod.pipeline.tools.AnalystViews;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The dedup views against the tables' partitioning: terraform ({@code terraform/locals.tf}), the
 * tables the pipeline creates itself ({@link BigQueryWarehouse#timePartitioning}) and the schema
 * files agree on each table's partition column, and every {@code <table>_dedup} view (the file of
 * {@code sql/views}, and {@link BigQueryWarehouse#dedupViewSql}) windows over that column as well
 * as the key. BigQuery pushes a filter through a window function only when the filter's columns are
 * in its PARTITION BY: without the partition column there, a date filter on a view scans the whole
 * table.
 */
class DedupViewPartitioningTest {
  record Partitioning(String field, List<String> clustering) {}

  static Map<String, Partitioning> terraform;

  @BeforeAll
  static void readTerraform() throws IOException {
    String locals = Files.readString(Path.of("terraform/locals.tf"), StandardCharsets.UTF_8);
    terraform = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile(
                "(?m)^\\s*([a-z_]+) = \\{\\s*partition_field\\s*=\\s*\"([a-z_]+)\"\\s*"
                    + "clustering\\s*=\\s*\\[([^\\]]*)\\]")
            .matcher(locals);
    while (m.find()) {
      List<String> clustering = new ArrayList<>();
      Matcher c = Pattern.compile("\"([a-z_]+)\"").matcher(m.group(3));
      while (c.find()) {
        clustering.add(c.group(1));
      }
      terraform.put(m.group(1), new Partitioning(m.group(2), clustering));
    }
  }

  @Test
  void terraformAndThePipelinePartitionEveryTableByItsPartitionColumn() {
    assertThat(terraform.keySet(), hasItem("audit_events"));
    assertThat(terraform.size(), equalTo(WarehouseTable.values().length));
    for (WarehouseTable t : WarehouseTable.values()) {
      Partitioning tf = terraform.get(t.tableName());
      assertThat(t.tableName() + " in terraform/locals.tf", tf, notNullValue());
      assertThat(t.tableName(), tf.field(), equalTo(t.partitionColumn()));
      assertThat(t.tableName(), BigQueryWarehouse.timePartitioning(t).getType(), equalTo("DAY"));
      assertThat(
          t.tableName(),
          BigQueryWarehouse.timePartitioning(t).getField(),
          equalTo(t.partitionColumn()));
      assertThat(
          t.tableName(), BigQueryWarehouse.clustering(t).getFields(), equalTo(tf.clustering()));
    }
  }

  @Test
  void thePartitionColumnIsARequiredTimestampOfTheSchemaFile() {
    for (WarehouseTable t : WarehouseTable.values()) {
      TableSchemas.Field field =
          t.fields().stream()
              .filter(f -> f.name().equals(t.partitionColumn()))
              .findFirst()
              .orElse(null);
      assertThat(t.tableName() + "." + t.partitionColumn(), field, notNullValue());
      assertThat(t.tableName(), field.type(), equalTo("TIMESTAMP"));
      // A NULL partition column would put its rows in the __NULL__ partition, which a date filter
      // never reads.
      assertThat(t.tableName(), field.required(), is(true));
    }
  }

  @Test
  void everyDedupViewWindowsOverThePartitionColumnAndTheKey() {
    Map<String, String> views = AnalystViews.read(Path.of("sql/views"));
    BigQueryWarehouse bq = new BigQueryWarehouse("demo-aiprod", "aiprod");
    for (WarehouseTable t : WarehouseTable.values()) {
      String name = t.tableName() + "_dedup";
      String file = views.get(name);
      assertThat("sql/views/" + name + ".sql", file, notNullValue());
      assertThat(name + " reads its table", AnalystViews.references(file), hasItem(t.tableName()));
      List<String> expected = new ArrayList<>(t.primaryKey());
      expected.add("CAST(" + t.partitionColumn() + " AS DATE)");
      assertThat(
          "sql/views/" + name + ".sql", window(file), containsInAnyOrder(expected.toArray()));
      assertThat(
          "BigQueryWarehouse.dedupViewSql(" + t + ")",
          window(bq.dedupViewSql(t)),
          containsInAnyOrder(expected.toArray()));
    }
  }

  @Test
  void theWindowReaderSeesAWindowWithoutThePartitionColumn() {
    // The check above is only as good as this reader: a key-only window must not pass it.
    List<String> columns =
        window(
            "-- a comment naming PARTITION BY nothing\n"
                + "SELECT * FROM ${dataset}.audit_events AS a WHERE TRUE\n"
                + "QUALIFY ROW_NUMBER() OVER (PARTITION BY a.event_id ORDER BY a.event_time) = 1");
    assertThat(columns, equalTo(List.of("event_id")));
  }

  /** The PARTITION BY columns of the view's ROW_NUMBER window, without qualifiers or quotes. */
  static List<String> window(String sql) {
    String code = sql.replaceAll("(?m)--.*$", "").replaceAll("\\s+", " ");
    Matcher m =
        Pattern.compile(
                "ROW_NUMBER\\(\\) OVER \\(PARTITION BY (.*?) ORDER BY ", Pattern.CASE_INSENSITIVE)
            .matcher(code);
    assertThat("a ROW_NUMBER() window in:\n" + sql, m.find(), is(true));
    List<String> out = new ArrayList<>();
    for (String c : m.group(1).split(",")) {
      out.add(c.strip().replace("`", "").replaceAll("\\b[a-z]+\\.(?=[a-z_])", ""));
    }
    return out;
  }
}
