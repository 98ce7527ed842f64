package com.aiprod.pipeline.testing;

import com.aiprod.pipeline.persist.BigQueryWarehouse;
import com.aiprod.pipeline.persist.TableSchemas;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.google.api.services.bigquery.model.TableFieldSchema;
import com.google.api.services.bigquery.model.TableRow;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryUtils;
import org.apache.beam.sdk.io.gcp.testing.FakeBigQueryServices;
import org.apache.beam.sdk.io.gcp.testing.FakeDatasetService;
import org.apache.beam.sdk.io.gcp.testing.FakeJobService;
import org.apache.beam.sdk.values.Row;
import org.joda.time.ReadableInstant;

/**
 * A BigQuery warehouse on Beam's fakes ({@link FakeDatasetService}, {@link FakeJobService}) that
 * BigQueryIO can read: its extract job writes each stored row's values into Avro as they are, so
 * rows are stored here in the Avro form BigQuery's own extract produces (TIMESTAMP as epoch micros,
 * BYTES as a buffer, records as Avro records).
 */
public final class BigQueryFakes {
  public final FakeDatasetService datasets;
  public final FakeBigQueryServices services;
  public final BigQueryWarehouse warehouse;

  /** A fresh fake with the warehouse tables created in {@code project.dataset}. */
  public BigQueryFakes(String project, String dataset) throws Exception {
    FakeDatasetService.setUp();
    FakeJobService.setUp();
    datasets = new FakeDatasetService();
    datasets.createDataset(project, dataset, "", "", null);
    services =
        new FakeBigQueryServices()
            .withDatasetService(datasets)
            .withJobService(new FakeJobService());
    warehouse =
        ((BigQueryWarehouse) Warehouse.fromSpec("bigquery:" + project + "." + dataset))
            .withTestServices(services);
    warehouse.createTables();
  }

  /**
   * Stores warehouse rows (as {@code WarehouseRows} makes them) in {@code table}: inserted as JSON
   * values (the fake copies rows through JSON), then the stored rows' values turned into the Avro
   * values its extract job writes as they are.
   */
  public void insert(WarehouseTable table, List<Row> rows) throws Exception {
    List<TableFieldSchema> fields = TableSchemas.bigQuerySchema(table).getFields();
    Schema avro = BigQueryUtils.toGenericAvroSchema(table.tableName(), fields);
    List<TableRow> json = new ArrayList<>();
    for (Row r : rows) {
      json.add((TableRow) jsonValue(r));
    }
    datasets.insertAll(warehouse.tableReference(table), json, null);
    for (TableRow stored :
        datasets.getAllRows(warehouse.project(), warehouse.dataset(), table.tableName())) {
      for (Schema.Field f : avro.getFields()) {
        stored.set(f.name(), avroValue(stored.get(f.name()), f.schema()));
      }
    }
  }

  private static Object jsonValue(Object v) {
    if (v instanceof ReadableInstant) {
      return ((ReadableInstant) v).getMillis() * 1000L;
    }
    if (v instanceof byte[]) {
      return Base64.getEncoder().encodeToString((byte[]) v);
    }
    if (v instanceof Row) {
      Row r = (Row) v;
      TableRow out = new TableRow();
      for (org.apache.beam.sdk.schemas.Schema.Field f : r.getSchema().getFields()) {
        out.set(f.getName(), jsonValue(r.getValue(f.getName())));
      }
      return out;
    }
    if (v instanceof Iterable) {
      List<Object> list = new ArrayList<>();
      ((Iterable<?>) v).forEach(e -> list.add(jsonValue(e)));
      return list;
    }
    return v;
  }

  private static Object avroValue(Object v, Schema schema) {
    if (v == null) {
      return null;
    }
    Schema s = nonNull(schema);
    if (v instanceof GenericRecord || v instanceof ByteBuffer) {
      return v; // stored earlier
    }
    switch (s.getType()) {
      case LONG:
        return v instanceof Number ? ((Number) v).longValue() : Long.parseLong(v.toString());
      case DOUBLE:
        return v instanceof Number ? ((Number) v).doubleValue() : Double.parseDouble(v.toString());
      case BYTES:
        return v instanceof byte[]
            ? ByteBuffer.wrap((byte[]) v)
            : ByteBuffer.wrap(Base64.getDecoder().decode(v.toString()));
      case STRING:
        return v.toString();
      case RECORD:
        {
          GenericRecordBuilder b = new GenericRecordBuilder(s);
          Map<?, ?> m = (Map<?, ?>) v;
          for (Schema.Field f : s.getFields()) {
            b.set(f.name(), avroValue(m.get(f.name()), f.schema()));
          }
          return b.build();
        }
      case ARRAY:
        {
          List<Object> list = new ArrayList<>();
          for (Object e : (Iterable<?>) v) {
            list.add(avroValue(e, s.getElementType()));
          }
          return list;
        }
      default:
        return v;
    }
  }

  private static Schema nonNull(Schema s) {
    if (s.getType() != Schema.Type.UNION) {
      return s;
    }
    for (Schema t : s.getTypes()) {
      if (t.getType() != Schema.Type.NULL) {
        return t;
      }
    }
    return s;
  }
}
