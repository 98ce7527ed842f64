package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.audit.AuditSignatures;
import com.aiprod.pipeline.model.AuditType;
import com.aiprod.pipeline.persist.BigQueryWarehouse;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.aiprod.pipeline.secrets.ResolvedSecret;
import com.aiprod.pipeline.secrets.SecretAccessException;
import com.aiprod.pipeline.secrets.SecretAccesses;
import com.aiprod.pipeline.secrets.SecretResolver;
import com.aiprod.pipeline.secrets.SecretSource;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code verify-audit}: verifies the signed audit trail (DESIGN §9; docs/ARCHITECTURE.md "Signed
 * audit").
 *
 * <pre>
 *   verify-audit (--warehouse=duckdb:PATH | --warehouse=bigquery:PROJECT.DATASET
 *       | --file=EXPORT.jsonl) --secret-source=SPEC [--since=T] [--until=T]
 * </pre>
 *
 * <p>Reads the rows of {@code audit_events} (the DuckDB table, the BigQuery table through {@link
 * BigQueryTables}, or a BigQuery export in newline-delimited JSON with the same column names) whose
 * {@code event_time} is in {@code [--since, --until)}, and prints one line per problem, {@code
 * <event_id> <kind>: <why>}, kinds: {@code unsigned} (null or empty signature), {@code tampered}
 * (signature does not match the row, or is not a {@code v1:} signature), {@code unverifiable} (the
 * key version the signature names cannot be read), {@code malformed} (a required column is missing
 * or unreadable), {@code missing} (an event the trail must contain is absent from the rows read;
 * the line starts with what names it: {@code message:<id>} or {@code run:<job name>}). Then a
 * summary. Exit status: 0 if there is no problem, 1 if there is any, 2 on bad usage or an
 * unreadable input.
 */
@Command(
    name = "verify-audit",
    sortOptions = false,
    description = {
      "Verifies the signed audit trail: every audit_events row's HMAC-SHA256 signature, unsigned"
          + " rows, and events the trail must contain. Prints each bad row's event_id and why;"
          + " exits 1 if there is any, else 0.",
      "A time range checks the rows of that range only (an event just outside it may then be"
          + " reported missing)."
    })
public final class VerifyAudit extends Tool {
  static final String[] COLUMNS = {
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
    "signature"
  };
  private static final ObjectMapper JSON = new ObjectMapper();

  @ArgGroup(multiplicity = "1")
  WarehouseInput input;

  @Option(
      names = "--secret-source",
      required = true,
      paramLabel = "SPEC",
      description = "Where the audit key is: dir:PATH or secretmanager:projects/P.")
  String secretSource;

  @Option(
      names = "--since",
      paramLabel = "TIME",
      description = "Only rows at or after this ISO-8601 instant or date (UTC).")
  String since;

  @Option(
      names = "--until",
      paramLabel = "TIME",
      description = "Only rows before this ISO-8601 instant or date (UTC).")
  String until;

  @Option(
      names = "--temp-location",
      paramLabel = "gs://BUCKET/PATH",
      description =
          "Where a bigquery: warehouse's table is extracted to (default gs://PROJECT-aiprod/tmp,"
              + " the bucket terraform makes).")
  String tempLocation;

  /** One audit row as read; {@code eventTimeMillis} null when unreadable. */
  public record AuditRow(Map<String, String> text, @Nullable Long eventTimeMillis, String problem) {
    @Nullable
    public String get(String column) {
      return text.get(column);
    }
  }

  /** Runs {@code verify-audit} with {@code args}; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Cli.run("verify-audit", args, out, err);
  }

  @Override
  public Integer call() {
    TimeRange range;
    SecretSource source;
    try {
      range = TimeRange.parse(since, until);
      source = SecretSource.parse(secretSource);
      input.check();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    List<AuditRow> rows;
    try {
      rows = read(input, range, tempLocation, cli.bigQueryServices);
    } catch (IOException | SQLException | RuntimeException e) {
      err().println("verify-audit: cannot read the audit rows: " + Cli.describe(e));
      return 2;
    }
    List<String> problems;
    try (SecretResolver resolver = source.newResolver()) {
      problems = verify(rows, resolver);
    }
    problems.forEach(out()::println);
    if (rows.isEmpty()) {
      out()
          .println(
              "0 audit rows checked: "
                  + (range.isAll() ? "the table is empty" : "none in the time range"));
      return 0;
    }
    out()
        .println(
            rows.size()
                + " audit rows checked, "
                + problems.size()
                + (problems.size() == 1 ? " problem" : " problems")
                + (problems.isEmpty() ? ": the trail verifies" : ""));
    return problems.isEmpty() ? 0 : 1;
  }

  /** The audit rows of {@code input} in {@code range}. */
  static List<AuditRow> read(
      WarehouseInput input,
      TimeRange range,
      @Nullable String tempLocation,
      @Nullable BigQueryServices services)
      throws IOException, SQLException {
    List<AuditRow> rows;
    if (input.file != null) {
      rows = readJsonLines(input.file);
    } else if (input.duckDb() != null) {
      rows = readDuckDb(input.duckDb());
    } else {
      BigQueryWarehouse bq = input.bigQuery();
      Path dir = Files.createTempDirectory("aiprod-verify-audit");
      try {
        rows =
            readJsonLines(
                BigQueryTables.exportJsonLines(
                    bq,
                    WarehouseTable.AUDIT_EVENTS,
                    "event_time",
                    range,
                    tempLocation != null ? tempLocation : BigQueryTables.defaultTempLocation(bq),
                    services,
                    dir));
      } finally {
        BigQueryTables.deleteQuietly(dir);
      }
      rows.sort(Comparator.comparing(r -> String.valueOf(r.get("event_id"))));
    }
    if (range.isAll()) {
      return rows;
    }
    List<AuditRow> in = new ArrayList<>();
    for (AuditRow r : rows) {
      if (r.eventTimeMillis() == null || range.contains(r.eventTimeMillis())) {
        in.add(r);
      }
    }
    return in;
  }

  /** The problem lines of {@code rows}, in row order, then the missing events. */
  public static List<String> verify(List<AuditRow> rows, SecretResolver resolver) {
    List<String> problems = new ArrayList<>();
    Map<String, ResolvedSecret> keys = new LinkedHashMap<>();
    Map<String, String> keyErrors = new LinkedHashMap<>();
    for (AuditRow r : rows) {
      String id = r.get("event_id") == null ? "(no event_id)" : r.get("event_id");
      if (r.problem() != null) {
        problems.add(id + " malformed: " + r.problem());
        continue;
      }
      String signature = r.get("signature");
      if (signature == null || signature.isEmpty()) {
        problems.add(id + " unsigned: the signature is " + (signature == null ? "null" : "empty"));
        continue;
      }
      String version = AuditSignatures.keyVersion(signature);
      if (version == null) {
        problems.add(
            id
                + " tampered: the signature is not of the form v1:<key version>:<base64 HMAC-SHA256>");
        continue;
      }
      ResolvedSecret key = keys.get(version);
      if (key == null && !keyErrors.containsKey(version)) {
        try {
          key = resolver.resolveVersion(AuditSignatures.KEY_SECRET, version);
          keys.put(version, key);
        } catch (SecretAccessException e) {
          keyErrors.put(version, e.getMessage());
        }
      }
      if (key == null) {
        problems.add(
            id
                + " unverifiable: signed with "
                + AuditSignatures.KEY_SECRET
                + " version "
                + version
                + ", which cannot be read: "
                + keyErrors.get(version));
        continue;
      }
      String canonical;
      try {
        canonical = canonical(r);
      } catch (IllegalArgumentException e) {
        problems.add(id + " tampered: " + e.getMessage());
        continue;
      }
      if (!AuditSignatures.matches(canonical, signature, key)) {
        problems.add(id + " tampered: the signature does not match the row (HMAC-SHA256 mismatch)");
      }
    }
    problems.addAll(missing(rows));
    return problems;
  }

  /**
   * The events the trail must contain but does not (docs/ARCHITECTURE.md "Signed audit"): every
   * message id on any row has an AUTH_SUCCESS or AUTH_FAILURE row; every run with a CONFIG_CHANGE
   * {@code start_pipeline} row has a SECRET_ACCESS row of the audit key for that run, and vice
   * versa.
   */
  static List<String> missing(List<AuditRow> rows) {
    Set<String> messages = new TreeSet<>();
    Set<String> authenticated = new TreeSet<>();
    Set<String> started = new TreeSet<>();
    Set<String> keyAccessed = new TreeSet<>();
    for (AuditRow r : rows) {
      String type = r.get("event_type");
      String message = r.get("message_id");
      if (message != null) {
        messages.add(message);
        if (AuditType.AUTH_SUCCESS.name().equals(type)
            || AuditType.AUTH_FAILURE.name().equals(type)) {
          authenticated.add(message);
        }
      }
      if (AuditType.CONFIG_CHANGE.name().equals(type)
          && "start_pipeline".equals(r.get("action"))
          && r.get("resource") != null) {
        started.add(r.get("resource"));
      }
      if (AuditType.SECRET_ACCESS.name().equals(type)
          && SecretAccesses.ACTION.equals(r.get("action"))) {
        JsonNode d = details(r.get("details"));
        if (d != null
            && AuditSignatures.KEY_SECRET.equals(d.path("secret").asText())
            && d.hasNonNull("run")) {
          keyAccessed.add(d.get("run").asText());
        }
      }
    }
    List<String> out = new ArrayList<>();
    for (String m : messages) {
      if (!authenticated.contains(m)) {
        out.add(
            "message:"
                + m
                + " missing: no AUTH_SUCCESS or AUTH_FAILURE event for this message (every message has exactly one)");
      }
    }
    Map<String, String> runs = new TreeMap<>();
    for (String r : started) {
      if (!keyAccessed.contains(r)) {
        runs.put(
            r,
            "run:"
                + r
                + " missing: no SECRET_ACCESS event of "
                + AuditSignatures.KEY_SECRET
                + " for this run (its CONFIG_CHANGE start_pipeline row exists; was the run signed?)");
      }
    }
    for (String r : keyAccessed) {
      if (!started.contains(r)) {
        runs.put(
            r,
            "run:"
                + r
                + " missing: no CONFIG_CHANGE start_pipeline event for this run (its SECRET_ACCESS of "
                + AuditSignatures.KEY_SECRET
                + " exists)");
      }
    }
    out.addAll(runs.values());
    return out;
  }

  private static @Nullable JsonNode details(@Nullable String text) {
    if (text == null) {
      return null;
    }
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  static String canonical(AuditRow r) {
    return AuditSignatures.canonical(
        r.get("event_id"),
        r.eventTimeMillis(),
        r.get("event_type"),
        r.get("environment"),
        r.get("service"),
        r.get("tenant"),
        r.get("user_id"),
        r.get("action"),
        r.get("resource"),
        r.get("status"),
        r.get("job_id"),
        r.get("message_id"),
        r.get("details"));
  }

  private static final Set<String> REQUIRED =
      Set.of("event_id", "event_time", "event_type", "environment", "service", "action", "status");

  private static AuditRow row(
      Map<String, String> text, @Nullable Long millis, @Nullable String problem) {
    if (problem == null) {
      for (String c : COLUMNS) {
        if (REQUIRED.contains(c) && !"event_time".equals(c) && text.get(c) == null) {
          problem = "required column " + c + " is null";
          break;
        }
      }
    }
    if (problem == null && millis == null) {
      problem = "event_time is null";
    }
    return new AuditRow(text, millis, problem);
  }

  public static List<AuditRow> readDuckDb(Path path) throws SQLException, IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("no DuckDB warehouse file at " + path);
    }
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    List<AuditRow> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:" + path, props);
        Statement s = c.createStatement()) {
      StringBuilder sql = new StringBuilder("SELECT ");
      for (String col : COLUMNS) {
        if ("event_time".equals(col)) {
          sql.append("epoch_ms(event_time) AS event_time, ");
        } else {
          sql.append("CAST(").append(col).append(" AS VARCHAR) AS ").append(col).append(", ");
        }
      }
      sql.setLength(sql.length() - 2);
      sql.append(" FROM audit_events ORDER BY event_id");
      try (ResultSet rs = s.executeQuery(sql.toString())) {
        while (rs.next()) {
          Map<String, String> text = new LinkedHashMap<>();
          for (String col : COLUMNS) {
            if (!"event_time".equals(col)) {
              text.put(col, rs.getString(col));
            }
          }
          long millis = rs.getLong("event_time");
          rows.add(row(text, rs.wasNull() ? null : millis, null));
        }
      }
    }
    return rows;
  }

  public static List<AuditRow> readJsonLines(Path path) throws IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("no export file at " + path);
    }
    List<AuditRow> rows = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          rows.add(new AuditRow(Map.of(), null, "line " + number + " is not JSON"));
          continue;
        }
        if (!n.isObject()) {
          rows.add(new AuditRow(Map.of(), null, "line " + number + " is not a JSON object"));
          continue;
        }
        Map<String, String> text = new LinkedHashMap<>();
        for (String col : COLUMNS) {
          JsonNode v = n.get(col);
          if ("event_time".equals(col)) {
            continue;
          }
          if (v == null || v.isNull()) {
            text.put(col, null);
          } else if ("details".equals(col) && !v.isTextual()) {
            text.put(col, v.toString()); // a JSON column exported as nested JSON
          } else {
            text.put(col, v.asText());
          }
        }
        JsonNode t = n.get("event_time");
        Long millis = null;
        String problem = null;
        if (t != null && !t.isNull()) {
          try {
            millis = timestampMillis(t.asText());
          } catch (DateTimeParseException e) {
            problem = "line " + number + ": event_time " + t.asText() + " is not a timestamp";
          }
        }
        rows.add(row(text, millis, problem));
      }
    }
    return rows;
  }

  private static final DateTimeFormatter BQ_TIMESTAMP =
      new DateTimeFormatterBuilder()
          .appendPattern("uuuu-MM-dd")
          .optionalStart()
          .appendLiteral('T')
          .optionalEnd()
          .optionalStart()
          .appendLiteral(' ')
          .optionalEnd()
          .appendPattern("HH:mm:ss")
          .optionalStart()
          .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
          .optionalEnd()
          .toFormatter();

  /**
   * Epoch millis of a BigQuery export timestamp: {@code 2026-11-24 10:20:20.123 UTC} (BigQuery's
   * JSON export form), DuckDB's {@code 2026-11-24 10:20:20.123+00}, RFC 3339 ({@code
   * 2026-11-24T10:20:20.123Z}, {@code +00:00}), or without zone (taken as UTC).
   */
  static long timestampMillis(String text) {
    String s = text.strip();
    if (s.endsWith(" UTC")) {
      s = s.substring(0, s.length() - 4);
    }
    if (s.matches(".*[+-][0-9]{2}")) {
      s = s + ":00"; // DuckDB's +00
    }
    try {
      return OffsetDateTime.parse(s.replace(' ', 'T')).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      // no offset: UTC
    }
    if (s.endsWith("Z")) {
      return Instant.parse(s.replace(' ', 'T')).toEpochMilli();
    }
    return LocalDateTime.parse(s, BQ_TIMESTAMP).toInstant(ZoneOffset.UTC).toEpochMilli();
  }
}
