package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import com.aiprod.pipeline.model.ReasonCode;
import com.aiprod.pipeline.persist.BigQueryWarehouse;
import com.aiprod.pipeline.persist.WarehouseTable;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import javax.annotation.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Replays dead letters after a fix (docs/RUNBOOK.md "Replay dead letters"; docs/ARCHITECTURE.md
 * "Replaying dead letters"): selects rows of {@code dead_letters} by reason code and time, and
 * republishes each one's original payload to the jobs topic with its non-secret attributes, a
 * {@code replay_of} attribute (the original message id) and a fresh {@code authorization}.
 *
 * <pre>
 * replay-dead-letters (--warehouse=duckdb:PATH | --warehouse=bigquery:PROJECT.DATASET
 *     | --file=EXPORT.jsonl) --reason=CODE[,CODE] [--since=T] [--until=T] [--message-ids=ID[,ID]]
 *     --topic=projects/P/topics/T [--pubsub-root-url=http://127.0.0.1:PORT]
 *     (--authorization-file=PATH | --dev-uid=UID [--dev-tenant=T] [--dev-role=R] [--dev-plan=P]
 *        [--dev-auth-dir=DIR] [--firebase-project=P])
 *     [--force] [--dry-run]
 * </pre>
 *
 * <p>Dead letters never hold a token (the {@code authorization} attribute is redacted), so a replay
 * is authenticated anew: with the token in {@code --authorization-file} (a fresh Firebase ID token
 * of the user on whose behalf the jobs are resubmitted, bare or {@code Bearer …}; the file must not
 * be readable by group or others), or, against a dev-mode pipeline only, a token minted with the
 * dev key pair for {@code --dev-uid}. The token is only ever put in the published {@code
 * authorization} attribute: never printed, never logged.
 *
 * <p>Not replayed (each line says why): reasons a replay cannot fix or must not bypass unless
 * {@code --force} ({@link #REFUSED}); rows that are not requests (warehouse rows the warehouse
 * refused: {@code stage=Deliver} with a {@code table} attribute); rows without payload; rows whose
 * {@code job_id} or {@code action} attribute is itself invalid; unless {@code --force}, rows whose
 * owner is not the token's user or has not been authenticated. The owner is only ever an
 * authenticated fact (DESIGN §13): the tenant and user of the message's AUTH_SUCCESS audit event
 * (every message is authenticated first, even an unreadable one), read from {@code audit_events} in
 * a DuckDB or BigQuery warehouse (for BigQuery, the events from a day before {@code --since}), or
 * from the {@code owner_uid}/{@code owner_tenant} columns of an export that the query of
 * docs/RUNBOOK.md joins from it. Attributes the sender chose ({@code uid}, {@code tenant}) and the
 * unverified {@code claimed_uid} of an AUTH_FAILURE are never an owner.
 *
 * <p>A row without a {@code job_id} attribute gets {@code job_id = replay-<24 hex of
 * SHA-256(message_id)>}, so replaying the same dead letter twice is a DUPLICATE_JOB, never a second
 * job.
 *
 * <p>Exit status: 0 when every selected row was published (or, with {@code --dry-run}, would be); 1
 * when some were not (skipped, or publishing failed); 2 on bad usage or unreadable input.
 */
@Command(
    name = "replay-dead-letters",
    sortOptions = false,
    description = {
      "Replays dead letters after a fix: selects dead_letters rows by reason code and time and"
          + " republishes each one's original payload to the jobs topic with its non-secret"
          + " attributes, replay_of=<original message id> and a FRESH token (dead letters never"
          + " keep one).",
      "Refuses DUPLICATE_JOB, PAYLOAD_TOO_LARGE, AUTH_MISSING, AUTH_INVALID, messages of another"
          + " user and messages without an authenticated owner (an AUTH_SUCCESS audit event; a uid"
          + " attribute proves nothing) unless --force. Exits 0 when every selected row was (or"
          + " would be) sent."
    })
public final class ReplayDeadLetters extends Tool {
  /** Reasons refused unless {@code --force}, and why a replay cannot fix them. */
  public static final Map<String, String> REFUSED;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    m.put(
        "DUPLICATE_JOB",
        "the job_id is already taken by another message's job: a replay ends as DUPLICATE_JOB again,"
            + " and under another job_id it would render the job twice");
    m.put(
        "PAYLOAD_TOO_LARGE",
        "the same payload exceeds the same size limit (64 KiB body) again;"
            + " the publisher must send a smaller request");
    m.put(
        "AUTH_MISSING",
        "the message carried no token: nobody proved who sent it, and a replay would submit it"
            + " under the replaying token's identity");
    m.put(
        "AUTH_INVALID",
        "the token was invalid or forged: nobody proved who sent it, and a replay would submit it"
            + " under the replaying token's identity");
    REFUSED = java.util.Collections.unmodifiableMap(m);
  }

  /**
   * Attributes never copied: the token, the pipeline's own annotations of a job's dead letter, an
   * older replay mark.
   */
  static final Set<String> DROPPED_ATTRIBUTES = Set.of("uid", "tenant", "replay_of");

  public static final String REPLAY_OF = "replay_of";

  /** The dead-letter codes of DESIGN §10: every ReasonCode but the reasons of FAILED jobs. */
  static final Set<String> DEAD_LETTER_CODES = deadLetterCodes();

  private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9_-]{8,64}");
  private static final Pattern JWT =
      Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern TOPIC_PATH = Pattern.compile("projects/[^/]+/topics/[^/]+");

  /** How long before --since an AUTH_SUCCESS event is looked for (BigQuery: a time range read). */
  static final long OWNER_LOOKBACK_MILLIS = 24L * 3600 * 1000;

  @ArgGroup(multiplicity = "1")
  WarehouseInput input;

  @Option(
      names = "--reason",
      required = true,
      split = ",",
      paramLabel = "CODE",
      description = "Dead-letter reason codes to replay (comma-separated).")
  List<String> reasons;

  @Option(
      names = "--since",
      paramLabel = "TIME",
      description = "Only dead letters at or after this ISO-8601 instant or date (UTC).")
  String since;

  @Option(
      names = "--until",
      paramLabel = "TIME",
      description = "Only dead letters before this ISO-8601 instant or date (UTC).")
  String until;

  @Option(
      names = "--message-ids",
      split = ",",
      paramLabel = "ID",
      description = "Only these message ids (comma-separated).")
  List<String> messageIds = new ArrayList<>();

  @Option(
      names = "--topic",
      required = true,
      paramLabel = "projects/P/topics/T",
      description = "The jobs topic to publish to.")
  String topic;

  @Option(
      names = "--pubsub-root-url",
      paramLabel = "URL",
      description =
          "http://HOST:PORT of a Pub/Sub emulator (default: http://$PUBSUB_EMULATOR_HOST when"
              + " set, else Pub/Sub with Application Default Credentials).")
  String pubsubRootUrl;

  @ArgGroup(multiplicity = "1", exclusive = false)
  TokenSource token;

  @Option(names = "--force", description = "Replay refused reasons and other owners' messages.")
  boolean force;

  @Option(names = "--dry-run", description = "List what would be sent; send nothing.")
  boolean dryRun;

  @Option(
      names = "--temp-location",
      paramLabel = "gs://BUCKET/PATH",
      description =
          "Where a bigquery: warehouse's tables are extracted to (default"
              + " gs://PROJECT-aiprod/tmp, the bucket terraform makes).")
  String tempLocation;

  /** The fresh token of the replay: a token file, or a dev token minted here. */
  static final class TokenSource {
    @ArgGroup(multiplicity = "1")
    Which which;

    @Option(names = "--dev-tenant", paramLabel = "T", description = "Dev token: the tenant.")
    String devTenant;

    @Option(names = "--dev-role", paramLabel = "R", description = "Dev token: the role.")
    String devRole;

    @Option(names = "--dev-plan", paramLabel = "P", description = "Dev token: the plan.")
    String devPlan;

    @Option(
        names = "--dev-auth-dir",
        paramLabel = "DIR",
        defaultValue = AuthConfig.DEV_DEFAULT_AUTH_DIR,
        description = "Dev token: the dev key pair's directory (default ${DEFAULT-VALUE}).")
    String devAuthDir;

    @Option(
        names = "--firebase-project",
        paramLabel = "P",
        defaultValue = AuthConfig.DEV_DEFAULT_PROJECT,
        description = "Dev token: the Firebase project (default ${DEFAULT-VALUE}).")
    String firebaseProject;
  }

  /** Exactly one of a token file and a dev uid. */
  static final class Which {
    @Option(
        names = "--authorization-file",
        required = true,
        paramLabel = "PATH",
        description =
            "A file (mode 600) holding a fresh Firebase ID token of the user on whose behalf the"
                + " jobs are resubmitted.")
    Path authorizationFile;

    @Option(
        names = "--dev-uid",
        required = true,
        paramLabel = "UID",
        description = "Against a dev-mode pipeline only: mint a dev token for this uid.")
    String devUid;
  }

  /** One row of {@code dead_letters} as read. */
  public record Row(
      long timestampMillis,
      @Nullable String payloadString,
      @Nullable byte[] payloadBytes,
      Map<String, String> attributes,
      @Nullable String errorMessage,
      String reasonCode,
      String stage,
      String messageId,
      @Nullable Owner owner) {}

  /**
   * The authenticated owner of a message: user and tenant of its AUTH_SUCCESS event ({@code tenant}
   * may be null in an export without that column).
   */
  public record Owner(String uid, @Nullable String tenant) {
    @Override
    public String toString() {
      return tenant == null ? "uid " + uid : "uid " + uid + " of tenant " + tenant;
    }
  }

  /** What the tool decided for one selected row: a message to publish, or why not. */
  public record Decision(Row row, @Nullable Publish.Message message, @Nullable String skipped) {}

  /** Runs {@code replay-dead-letters} with {@code args}; returns the exit status. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Cli.run("replay-dead-letters", args, out, err);
  }

  @Override
  public Integer call() {
    PrintStream out = out();
    PrintStream err = err();
    Set<String> codes = new LinkedHashSet<>();
    for (String c : reasons) {
      String code = c.trim().toUpperCase(Locale.ROOT);
      if (!DEAD_LETTER_CODES.contains(code)) {
        throw usage(
            "--reason: " + c + " is not a dead-letter reason code; codes: " + DEAD_LETTER_CODES);
      }
      codes.add(code);
    }
    TimeRange range;
    try {
      range = TimeRange.parse(since, until);
      input.check();
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    if (!TOPIC_PATH.matcher(topic).matches()) {
      throw usage("--topic must be projects/PROJECT/topics/TOPIC, got " + topic);
    }
    Set<String> wanted = new LinkedHashSet<>();
    for (String id : messageIds) {
      if (!id.isBlank()) {
        wanted.add(id.trim());
      }
    }

    String fresh;
    try {
      fresh =
          token.which.authorizationFile != null
              ? readTokenFile(token.which.authorizationFile)
              : mintDevToken(token);
    } catch (IOException | IllegalArgumentException e) {
      err.println("No token for the replay: " + Cli.describe(e));
      return 2;
    }
    Map<String, String> claims;
    try {
      claims = claims(fresh);
    } catch (IllegalArgumentException e) {
      err.println("The replay token is not a JWT: " + e.getMessage());
      return 2;
    }
    String exp = claims.get("exp");
    if (exp != null && Long.parseLong(exp) < Instant.now().getEpochSecond() + 300) {
      err.println("The replay token expires within 5 minutes (or has expired): mint a fresh one");
      return 2;
    }
    String subject = claims.get("sub");
    String tokenTenant = claims.getOrDefault("tenant", subject);

    List<Row> rows;
    Map<String, Owner> owners = new TreeMap<>();
    try {
      if (input.file != null) {
        rows = readJsonLines(input.file);
      } else if (input.duckDb() != null) {
        rows = readDuckDb(input.duckDb());
        owners = readOwners(input.duckDb());
      } else {
        BigQueryWarehouse bq = input.bigQuery();
        String temp = tempLocation != null ? tempLocation : BigQueryTables.defaultTempLocation(bq);
        Path dir = Files.createTempDirectory("aiprod-replay");
        try {
          rows =
              readJsonLines(
                  BigQueryTables.exportJsonLines(
                      bq,
                      WarehouseTable.DEAD_LETTERS,
                      "timestamp",
                      range,
                      temp,
                      cli.bigQueryServices,
                      dir));
          owners =
              owners(
                  VerifyAudit.readJsonLines(
                      BigQueryTables.exportJsonLines(
                          bq,
                          WarehouseTable.AUDIT_EVENTS,
                          "event_time",
                          range.widenedBefore(OWNER_LOOKBACK_MILLIS),
                          temp,
                          cli.bigQueryServices,
                          dir)));
        } finally {
          BigQueryTables.deleteQuietly(dir);
        }
      }
    } catch (IOException | SQLException | RuntimeException e) {
      err.println("Cannot read the dead letters: " + Cli.describe(e));
      return 2;
    }
    String token = fresh;
    List<Row> selected = select(rows, codes, range.since(), range.until(), wanted);
    List<Decision> decisions = new ArrayList<>();
    for (Row r : selected) {
      Owner owner = r.owner() != null ? r.owner() : owners.get(r.messageId());
      decisions.add(decide(r, token, subject, tokenTenant, owner, force));
    }
    int problems = 0;
    List<Decision> toSend = new ArrayList<>();
    for (Decision d : decisions) {
      if (d.skipped() != null) {
        problems++;
        out.println(d.row().messageId() + " " + d.row().reasonCode() + " skipped: " + d.skipped());
      } else {
        toSend.add(d);
      }
    }
    if (dryRun) {
      for (Decision d : toSend) {
        out.println(
            d.row().messageId()
                + " "
                + d.row().reasonCode()
                + " would publish to "
                + topic
                + ": "
                + describe(d.message(), subject));
      }
    } else if (!toSend.isEmpty()) {
      List<Publish.Message> messages = new ArrayList<>();
      toSend.forEach(d -> messages.add(d.message()));
      try {
        List<String> ids = Publish.to(Publish.rootUrl(pubsubRootUrl)).publish(topic, messages);
        for (int i = 0; i < ids.size(); i++) {
          Decision d = toSend.get(i);
          out.println(
              d.row().messageId()
                  + " "
                  + d.row().reasonCode()
                  + " replayed as "
                  + ids.get(i)
                  + " (job_id "
                  + d.message().attributes().get("job_id")
                  + ")");
        }
      } catch (IOException | IllegalArgumentException e) {
        err.println(
            "Publishing failed (nothing after the ids printed above was replayed): "
                + Cli.describe(e));
        return 1;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        err.println("Interrupted while publishing");
        return 1;
      }
    }
    out.println(
        rows.size()
            + " dead letters read, "
            + selected.size()
            + " selected, "
            + toSend.size()
            + (dryRun ? " would be replayed" : " replayed")
            + ", "
            + problems
            + " skipped");
    return problems == 0 ? 0 : 1;
  }

  private static Set<String> deadLetterCodes() {
    Set<String> codes = new LinkedHashSet<>();
    for (ReasonCode c : ReasonCode.values()) {
      if (c != ReasonCode.DEADLINE && c != ReasonCode.RENDER_FAILED) {
        codes.add(c.name());
      }
    }
    return java.util.Collections.unmodifiableSet(codes);
  }

  /**
   * Rows of the given codes in [since, until), of the given message ids if any, once per message
   * id, oldest first.
   */
  static List<Row> select(
      List<Row> rows,
      Set<String> codes,
      @Nullable Long since,
      @Nullable Long until,
      Set<String> messageIds) {
    Map<String, Row> byMessage = new LinkedHashMap<>();
    List<Row> sorted = new ArrayList<>(rows);
    sorted.sort(Comparator.comparingLong(Row::timestampMillis).thenComparing(Row::messageId));
    for (Row r : sorted) {
      if (!codes.contains(r.reasonCode())
          || (since != null && r.timestampMillis() < since)
          || (until != null && r.timestampMillis() >= until)
          || (!messageIds.isEmpty() && !messageIds.contains(r.messageId()))) {
        continue;
      }
      byMessage.putIfAbsent(
          r.messageId(), r); // a BigQuery export may repeat a row (no primary keys)
    }
    return new ArrayList<>(byMessage.values());
  }

  /** The message that replays {@code r}, or why it is not replayed. */
  static Decision decide(
      Row r,
      String token,
      @Nullable String subject,
      @Nullable String tokenTenant,
      @Nullable Owner owner,
      boolean force) {
    Map<String, String> attrs = r.attributes();
    if ("Deliver".equals(r.stage()) && attrs.containsKey("table")) {
      return new Decision(
          r,
          null,
          "a row the warehouse refused (table "
              + attrs.get("table")
              + "), not a request: insert it into the table again instead");
    }
    String refusal = REFUSED.get(r.reasonCode());
    if (refusal != null && !force) {
      return new Decision(r, null, refusal + " (--force replays it anyway)");
    }
    byte[] data =
        r.payloadBytes() != null
            ? r.payloadBytes()
            : r.payloadString() != null ? r.payloadString().getBytes(StandardCharsets.UTF_8) : null;
    if (data == null || data.length == 0) {
      return new Decision(r, null, "no payload to replay");
    }
    String jobId = attrs.get("job_id");
    if (jobId != null && !JOB_ID.matcher(jobId).matches()) {
      return new Decision(
          r,
          null,
          "its job_id attribute is invalid ([A-Za-z0-9_-]{8,64}): the publisher must resend it");
    }
    String action = attrs.get("action");
    if (action != null && !action.equals("submit") && !action.equals("cancel")) {
      return new Decision(
          r,
          null,
          "its action attribute is neither submit nor cancel: the publisher must resend it");
    }
    if (owner == null && !force) {
      return new Decision(
          r,
          null,
          "it has no authenticated owner (no single AUTH_SUCCESS audit event for message "
              + r.messageId()
              + "): a uid attribute or a claimed uid is chosen by the sender and proves nothing,"
              + " so nobody can say whose request it is (--force replays it as "
              + (subject == null ? "the token's user" : "uid " + subject)
              + ")");
    }
    if (owner != null
        && (!owner.uid().equals(subject)
            || (owner.tenant() != null && !owner.tenant().equals(tokenTenant)))
        && !force) {
      return new Decision(
          r,
          null,
          "it belongs to "
              + owner
              + " (its AUTH_SUCCESS audit event) but the replay token is for "
              + (subject == null ? "no subject" : "uid " + subject + " of tenant " + tokenTenant)
              + ": replay it with a token of "
              + owner
              + " (--force replays it anyway)");
    }
    Map<String, String> out = new TreeMap<>();
    for (Map.Entry<String, String> e : attrs.entrySet()) {
      String key = e.getKey();
      if (!key.toLowerCase(Locale.ROOT).contains("authorization")
          && !DROPPED_ATTRIBUTES.contains(key)
          && e.getValue() != null) {
        out.put(key, e.getValue());
      }
    }
    if (jobId == null) {
      out.put("job_id", replayJobId(r.messageId()));
    }
    out.put(REPLAY_OF, r.messageId());
    out.put("authorization", "Bearer " + token);
    return new Decision(r, new Publish.Message(data, out), null);
  }

  /** {@code replay-} + 24 hex digits of SHA-256 of the original message id. */
  static String replayJobId(String messageId) {
    try {
      byte[] h =
          MessageDigest.getInstance("SHA-256").digest(messageId.getBytes(StandardCharsets.UTF_8));
      return "replay-" + HexFormat.of().formatHex(h).substring(0, 24);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A message for the dry-run listing: attributes (the token masked) and the payload's size. */
  static String describe(Publish.Message m, @Nullable String subject) {
    Map<String, String> shown = new TreeMap<>(m.attributes());
    shown.put("authorization", "Bearer <fresh token of uid " + subject + ">");
    return "attributes " + shown + ", " + m.data().length + " bytes of data";
  }

  static long instant(String text) {
    return TimeRange.instant(text);
  }

  /**
   * The token of an authorization file: one line, bare or {@code Bearer …}; the file must be
   * private.
   */
  static String readTokenFile(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException("no authorization file " + file);
    }
    try {
      Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
      for (PosixFilePermission p : perms) {
        if (p.name().startsWith("GROUP") || p.name().startsWith("OTHERS")) {
          throw new IOException(
              "Refusing authorization file "
                  + file
                  + ": it is accessible by group/others; run: chmod 600 "
                  + file);
        }
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to check
    }
    String text = Files.readString(file, StandardCharsets.UTF_8).strip();
    if (text.regionMatches(true, 0, "Bearer ", 0, 7)) {
      text = text.substring(7).strip();
    }
    if (!JWT.matcher(text).matches()) {
      throw new IllegalArgumentException(
          "the authorization file "
              + file
              + " does not hold one ID token (header.payload.signature)");
    }
    return text;
  }

  /**
   * A dev-mode token for --dev-uid, signed with the dev key pair of --dev-auth-dir (never created
   * here).
   */
  static String mintDevToken(TokenSource t) throws IOException {
    String uid = t.which.devUid;
    if (uid == null || uid.isBlank()) {
      throw new IllegalArgumentException("--dev-uid needs a uid");
    }
    DevAuthKeys keys = DevAuthKeys.load(Path.of(t.devAuthDir));
    return new DevTokens(keys, t.firebaseProject)
        .mint(uid, t.devTenant, t.devRole, t.devPlan, DevTokens.DEFAULT_TTL);
  }

  /**
   * The string and number claims of a JWT's payload, read without verification (the pipeline
   * verifies).
   */
  static Map<String, String> claims(String jwt) {
    String[] parts = jwt.split("\\.");
    if (parts.length != 3) {
      throw new IllegalArgumentException("expected three dot-separated parts");
    }
    JsonNode payload;
    try {
      payload = JSON.readTree(Base64.getUrlDecoder().decode(parts[1]));
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("its payload is not base64url JSON");
    }
    Map<String, String> out = new TreeMap<>();
    payload
        .fields()
        .forEachRemaining(
            e -> {
              if (e.getValue().isValueNode() && !e.getValue().isNull()) {
                out.put(e.getKey(), e.getValue().asText());
              }
            });
    return out;
  }

  /** Every row of {@code dead_letters} in a DuckDB warehouse (opened read-only). */
  public static List<Row> readDuckDb(Path path) throws SQLException, IOException {
    if (!Files.isRegularFile(path)) {
      throw new IOException("no DuckDB warehouse file at " + path);
    }
    List<Row> rows = new ArrayList<>();
    try (Connection c = open(path);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT epoch_ms(\"timestamp\") AS ts, payloadString, to_base64(payloadBytes) AS payloadBase64,"
                    + " CAST(to_json(attributes) AS VARCHAR) AS attrs, errorMessage, reason_code, stage, message_id"
                    + " FROM dead_letters")) {
      while (rs.next()) {
        rows.add(
            new Row(
                rs.getLong("ts"),
                rs.getString("payloadString"),
                rs.getString("payloadBase64") == null
                    ? null
                    : Base64.getDecoder().decode(rs.getString("payloadBase64")),
                attributes(
                    JSON.readTree(rs.getString("attrs") == null ? "[]" : rs.getString("attrs"))),
                rs.getString("errorMessage"),
                rs.getString("reason_code"),
                rs.getString("stage"),
                rs.getString("message_id"),
                null));
      }
    }
    return rows;
  }

  /**
   * message_id → owner: the tenant and user of the message's AUTH_SUCCESS audit events, when they
   * all name the same one (a batch message id, file:line, may recur across runs with other users:
   * then it has no owner). Empty without audit rows.
   */
  static Map<String, Owner> readOwners(Path path) throws SQLException {
    Map<String, Owner> out = new TreeMap<>();
    try (Connection c = open(path);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT message_id, any_value(user_id) AS uid, any_value(tenant) AS tenant"
                    + " FROM audit_events WHERE event_type = 'AUTH_SUCCESS' AND status = 'success'"
                    + " AND message_id IS NOT NULL AND user_id IS NOT NULL"
                    + " GROUP BY message_id"
                    + " HAVING count(DISTINCT coalesce(tenant, '') || '/' || user_id) = 1")) {
      while (rs.next()) {
        out.put(rs.getString("message_id"), new Owner(rs.getString("uid"), rs.getString("tenant")));
      }
    } catch (SQLException e) {
      if (e.getMessage() == null || !e.getMessage().contains("audit_events")) {
        throw e;
      }
      // no audit_events table: no authenticated owners
    }
    return out;
  }

  /**
   * message_id → owner from audit rows, by the rule of {@link #readOwners}: the tenant and user of
   * the message's successful AUTH_SUCCESS events when they all name the same one.
   */
  static Map<String, Owner> owners(List<VerifyAudit.AuditRow> audit) {
    Map<String, Set<Owner>> seen = new TreeMap<>();
    for (VerifyAudit.AuditRow r : audit) {
      if ("AUTH_SUCCESS".equals(r.get("event_type"))
          && "success".equals(r.get("status"))
          && r.get("message_id") != null
          && r.get("user_id") != null) {
        seen.computeIfAbsent(r.get("message_id"), k -> new LinkedHashSet<>())
            .add(new Owner(r.get("user_id"), r.get("tenant")));
      }
    }
    Map<String, Owner> out = new TreeMap<>();
    seen.forEach(
        (id, set) -> {
          if (set.size() == 1) {
            out.put(id, set.iterator().next());
          }
        });
    return out;
  }

  private static Connection open(Path path) throws SQLException {
    Properties props = new Properties();
    props.setProperty("duckdb.read_only", "true");
    return DriverManager.getConnection("jdbc:duckdb:" + path, props);
  }

  /**
   * Rows of a BigQuery export of {@code dead_letters} in newline-delimited JSON ({@code bq extract
   * --destination_format=NEWLINE_DELIMITED_JSON}): column names as keys, {@code timestamp} as
   * BigQuery writes it, {@code payloadBytes} base64, {@code attributes} an array of {key, value},
   * and optionally {@code owner_uid} and {@code owner_tenant} (user and tenant of the message's
   * AUTH_SUCCESS event, joined from {@code audit_events} by the export query of docs/RUNBOOK.md; an
   * older {@code owner} column, which also held unverified claimed users, is ignored).
   */
  public static List<Row> readJsonLines(Path path) throws IOException {
    List<Row> rows = new ArrayList<>();
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
          throw new IOException(path + " line " + number + " is not JSON");
        }
        for (String required : List.of("timestamp", "reason_code", "stage", "message_id")) {
          if (!n.hasNonNull(required)) {
            throw new IOException(path + " line " + number + " has no " + required);
          }
        }
        long ts;
        try {
          ts = VerifyAudit.timestampMillis(n.get("timestamp").asText());
        } catch (DateTimeParseException e) {
          throw new IOException(
              path
                  + " line "
                  + number
                  + ": timestamp "
                  + n.get("timestamp").asText()
                  + " is not a timestamp");
        }
        byte[] bytes = null;
        if (n.hasNonNull("payloadBytes")) {
          try {
            bytes = Base64.getDecoder().decode(n.get("payloadBytes").asText());
          } catch (IllegalArgumentException e) {
            throw new IOException(path + " line " + number + ": payloadBytes is not base64");
          }
        }
        rows.add(
            new Row(
                ts,
                n.hasNonNull("payloadString") ? n.get("payloadString").asText() : null,
                bytes,
                attributes(n.path("attributes")),
                n.hasNonNull("errorMessage") ? n.get("errorMessage").asText() : null,
                n.get("reason_code").asText(),
                n.get("stage").asText(),
                n.get("message_id").asText(),
                n.hasNonNull("owner_uid")
                    ? new Owner(
                        n.get("owner_uid").asText(),
                        n.hasNonNull("owner_tenant") ? n.get("owner_tenant").asText() : null)
                    : null));
      }
    }
    return rows;
  }

  /** [{key, value}, …] (or an object) as a map. */
  static Map<String, String> attributes(JsonNode node) {
    Map<String, String> out = new TreeMap<>();
    if (node.isArray()) {
      for (JsonNode kv : node) {
        if (kv.hasNonNull("key")) {
          out.put(kv.get("key").asText(), kv.hasNonNull("value") ? kv.get("value").asText() : null);
        }
      }
    } else if (node.isObject()) {
      node.fields()
          .forEachRemaining(
              e -> out.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
    }
    return out;
  }
}
