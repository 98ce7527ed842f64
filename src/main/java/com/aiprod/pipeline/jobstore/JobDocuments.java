package com.aiprod.pipeline.jobstore;

import com.aiprod.pipeline.kernel.OutcomePart;
import com.aiprod.pipeline.model.HistoryEntry;
import com.aiprod.pipeline.model.Job;
import com.aiprod.pipeline.model.JobRequest;
import com.aiprod.pipeline.model.JobState;
import com.aiprod.pipeline.model.ShotSpec;
import com.google.firestore.v1.ArrayValue;
import com.google.firestore.v1.Document;
import com.google.firestore.v1.MapValue;
import com.google.firestore.v1.Value;
import com.google.protobuf.NullValue;
import com.google.protobuf.Timestamp;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.Nullable;

/**
 * The Firestore job document of DESIGN §7, {@code tenants/{tenant}/jobs/{job_id}}, and its
 * monotonic merge.
 *
 * <p>Fields: {@code uid, tenant, job_id, message_id, state, reason, reason_code, preset, mode,
 * lang, duration_sec, budget_usd, estimate_usd, cost_usd, provider_cost_usd, backend, planner,
 * shots_total, shots_done, qa {technical, semantic, semantic_scorer}, output {video_uri,
 * manifest_uri, contact_sheet_uri}, created_at, updated_at, history [{state, at, detail}]}. Unknown
 * values are stored as {@code null}. {@code created_at} is the receive time; {@code updated_at} is
 * the time of the latest history entry, so the same job always maps to the same document (retries
 * write identical bytes).
 *
 * <p>Merge rule: a document never moves backwards. An update is applied only when {@link
 * JobState#canMoveTo} allows the existing state to move to the update's state (terminal states are
 * final; an equal state is a no-op). The merged document takes the update's values, keeps the
 * existing values where the update has none, keeps the first {@code message_id} and the earliest
 * {@code created_at}, and unions the histories: ordered by time (then state rank), without
 * duplicate (state, at) entries. The merge is idempotent and order-insensitive, so re-merging a
 * stale merged document with a newer existing one gives the same result.
 */
public final class JobDocuments {
  public static final String HISTORY = "history";
  public static final String STATE = "state";
  public static final String MESSAGE_ID = "message_id";

  /** The message id of the cancel request that ended a CANCELLED job. */
  public static final String CANCEL_MESSAGE_ID = "cancel_message_id";

  public static final String UID = "uid";
  public static final String RESUME = "resume";
  public static final String CREATED_AT = "created_at";
  public static final String UPDATED_AT = "updated_at";

  private JobDocuments() {}

  /** The document of {@code job} named {@code documentName} (a full Firestore document name). */
  public static Document toDocument(Job job, String documentName) {
    return Document.newBuilder().setName(documentName).putAllFields(fields(job)).build();
  }

  /** The document fields of {@code job}, history sorted and de-duplicated. */
  public static Map<String, Value> fields(Job job) {
    JobRequest r = job.getRequest();
    Map<String, Value> f = new LinkedHashMap<>();
    f.put("uid", str(job.getUid()));
    f.put("tenant", str(job.getTenant()));
    f.put("job_id", str(job.getJobId()));
    f.put(MESSAGE_ID, str(job.getMessageId()));
    f.put(STATE, str(job.getState()));
    f.put("reason", str(job.getReason()));
    f.put("reason_code", str(job.getReasonCode()));
    f.put("preset", str(r == null ? null : r.getPreset()));
    f.put("mode", str(r == null ? null : r.getMode()));
    f.put("lang", str(r == null ? null : r.getLang()));
    f.put("duration_sec", r == null ? nul() : integer(r.getDurationSec()));
    f.put("budget_usd", r == null ? nul() : dbl(r.getBudgetUsd()));
    f.put("estimate_usd", dbl(job.getEstimateUsd()));
    f.put("cost_usd", dbl(job.getCostUsd()));
    f.put("provider_cost_usd", dbl(job.getProviderCostUsd()));
    f.put("backend", str(job.getBackend()));
    f.put("planner", str(job.getPlanner()));
    f.put("shots_total", integer(job.getShots().size()));
    f.put("shots_done", integer(job.getShotsDone()));
    f.put(
        "qa",
        map(
            "technical", dbl(job.getQaTechnical()),
            "semantic", dbl(job.getQaSemantic()),
            "semantic_scorer", str(job.getQaSemanticScorer())));
    f.put(
        "output",
        map(
            "video_uri", str(job.getVideoUri()),
            "manifest_uri", str(job.getManifestUri()),
            "contact_sheet_uri", str(job.getContactSheetUri())));
    f.put(CREATED_AT, timestamp(job.getReceivedAtMillis()));
    if (job.getCancelMessageId() != null) {
      f.put(CANCEL_MESSAGE_ID, str(job.getCancelMessageId()));
    }
    if (r != null) {
      // What a restarted streaming run needs to finish a job whose message was already acked.
      f.put(
          RESUME,
          map(
              "role", str(job.getRole()),
              "plan", str(job.getPlan()),
              "ordinal", integer(job.getOrdinal()),
              "request",
                  map(
                      "content", str(r.getContent()),
                      "preset", str(r.getPreset()),
                      "mode", str(r.getMode()),
                      "priority", str(r.getPriority()),
                      "lang", str(r.getLang()),
                      "duration_sec", integer(r.getDurationSec()),
                      "budget_usd", dbl(r.getBudgetUsd()),
                      "brand_id", str(r.getBrandId()),
                      "style", str(r.getStyle()),
                      "mood", str(r.getMood()),
                      "camera_style", str(r.getCameraStyle()),
                      "color_palette", str(r.getColorPalette()),
                      "aspect_ratio", str(r.getAspectRatio()),
                      "fps", integer(r.getFps()),
                      "backend", str(r.getBackend()))));
    }
    List<Value> history = new ArrayList<>();
    for (HistoryEntry h : job.getHistory()) {
      history.add(historyEntry(h.getState(), timestampProto(h.getAtMillis()), h.getDetail()));
    }
    List<Value> sorted = unionHistory(List.of(), history);
    f.put(
        HISTORY,
        Value.newBuilder().setArrayValue(ArrayValue.newBuilder().addAllValues(sorted)).build());
    f.put(
        UPDATED_AT,
        Value.newBuilder().setTimestampValue(latest(job.getReceivedAtMillis(), sorted)).build());
    return f;
  }

  /**
   * The document to write when {@code update} arrives and {@code existing} (or nothing) is stored:
   * empty when the existing state may not move to the update's (see the class comment).
   */
  public static Optional<Document> merge(@Nullable Document existing, Document update) {
    if (existing == null) {
      return Optional.of(update);
    }
    JobState from = state(existing);
    JobState to = state(update);
    if (!from.canMoveTo(to)) {
      return Optional.empty();
    }
    return Optional.of(combine(existing, update));
  }

  /** {@link #merge(Document, Document)} of a job (document named {@code documentName}). */
  public static Optional<Document> merge(
      @Nullable Document existing, Job update, String documentName) {
    return merge(existing, toDocument(update, documentName));
  }

  /**
   * Two updates of the same document folded into one: the higher state wins, histories are unioned
   * (equal states: {@code a} wins). Used to fold several updates of a document that arrive together
   * before reading the stored one.
   */
  public static Document fold(Document a, Document b) {
    return state(b).rank() > state(a).rank() ? combine(a, b) : combine(b, a);
  }

  /** {@code newer}'s values over {@code older}'s, histories unioned, first message id kept. */
  static Document combine(Document older, Document newer) {
    Map<String, Value> f = new LinkedHashMap<>(older.getFieldsMap());
    for (Map.Entry<String, Value> e : newer.getFieldsMap().entrySet()) {
      Value old = f.get(e.getKey());
      f.put(e.getKey(), old == null ? e.getValue() : overlay(old, e.getValue()));
    }
    Value olderMessage = older.getFieldsMap().get(MESSAGE_ID);
    if (olderMessage != null && olderMessage.hasStringValue()) {
      f.put(MESSAGE_ID, olderMessage);
    }
    Timestamp created =
        earliest(older.getFieldsMap().get(CREATED_AT), newer.getFieldsMap().get(CREATED_AT));
    if (created != null) {
      f.put(CREATED_AT, Value.newBuilder().setTimestampValue(created).build());
    }
    List<Value> history = unionHistory(historyOf(older), historyOf(newer));
    f.put(
        HISTORY,
        Value.newBuilder().setArrayValue(ArrayValue.newBuilder().addAllValues(history)).build());
    Timestamp updated =
        latestOf(
            history, older.getFieldsMap().get(UPDATED_AT), newer.getFieldsMap().get(UPDATED_AT));
    if (updated != null) {
      f.put(UPDATED_AT, Value.newBuilder().setTimestampValue(updated).build());
    }
    String name = newer.getName().isEmpty() ? older.getName() : newer.getName();
    return Document.newBuilder().setName(name).putAllFields(f).build();
  }

  /** The newer value, except that a null never hides a known value; maps overlay per key. */
  private static Value overlay(Value older, Value newer) {
    if (newer.hasNullValue()) {
      return older;
    }
    if (newer.hasMapValue() && older.hasMapValue()) {
      Map<String, Value> m = new LinkedHashMap<>(older.getMapValue().getFieldsMap());
      for (Map.Entry<String, Value> e : newer.getMapValue().getFieldsMap().entrySet()) {
        Value o = m.get(e.getKey());
        m.put(e.getKey(), o == null ? e.getValue() : overlay(o, e.getValue()));
      }
      return Value.newBuilder().setMapValue(MapValue.newBuilder().putAllFields(m)).build();
    }
    return newer;
  }

  /** The union of two histories, ordered by time then state rank, never moving backwards. */
  static List<Value> unionHistory(List<Value> a, List<Value> b) {
    Map<String, Value> byKey = new LinkedHashMap<>();
    for (List<Value> list : List.of(a, b)) {
      for (Value v : list) {
        String key = historyState(v) + "@" + historyAtNanos(v);
        byKey.putIfAbsent(key, v);
      }
    }
    List<Value> out = new ArrayList<>(byKey.values());
    out.sort(
        Comparator.comparingLong(JobDocuments::historyAtNanos)
            .thenComparingInt(v -> rankOf(historyState(v)))
            .thenComparing(JobDocuments::historyState));
    // A replayed job (a message redelivered after a restart) walks RECEIVED → PLANNED → … again
    // with new times; its entries must not make the history move backwards: keep each step the
    // first time the job reached it, i.e. only entries of a higher rank than every earlier one.
    List<Value> forward = new ArrayList<>();
    int reached = Integer.MIN_VALUE;
    for (Value v : out) {
      int rank = rankOf(historyState(v));
      if (rank > reached) {
        forward.add(v);
        reached = rank;
      }
    }
    return forward;
  }

  private static int rankOf(String state) {
    try {
      return JobState.valueOf(state).rank();
    } catch (IllegalArgumentException e) {
      return -1;
    }
  }

  /** The history entries of a document (an empty list when it has none). */
  public static List<Value> historyOf(Document d) {
    Value h = d.getFieldsMap().get(HISTORY);
    return h != null && h.hasArrayValue() ? h.getArrayValue().getValuesList() : List.of();
  }

  private static String historyState(Value entry) {
    Value s = entry.getMapValue().getFieldsMap().get(STATE);
    return s == null ? "" : s.getStringValue();
  }

  private static long historyAtNanos(Value entry) {
    Value at = entry.getMapValue().getFieldsMap().get("at");
    return at == null ? Long.MIN_VALUE : nanos(at.getTimestampValue());
  }

  private static long nanos(Timestamp t) {
    return t.getSeconds() * 1_000_000_000L + t.getNanos();
  }

  private static @Nullable Timestamp earliest(@Nullable Value a, @Nullable Value b) {
    Timestamp best = null;
    for (Value v : new Value[] {a, b}) {
      if (v != null
          && v.hasTimestampValue()
          && (best == null || nanos(v.getTimestampValue()) < nanos(best))) {
        best = v.getTimestampValue();
      }
    }
    return best;
  }

  private static @Nullable Timestamp latestOf(
      List<Value> history, @Nullable Value a, @Nullable Value b) {
    Timestamp best = null;
    List<Timestamp> candidates = new ArrayList<>();
    for (Value v : new Value[] {a, b}) {
      if (v != null && v.hasTimestampValue()) {
        candidates.add(v.getTimestampValue());
      }
    }
    for (Value h : history) {
      Value at = h.getMapValue().getFieldsMap().get("at");
      if (at != null && at.hasTimestampValue()) {
        candidates.add(at.getTimestampValue());
      }
    }
    for (Timestamp t : candidates) {
      if (best == null || nanos(t) > nanos(best)) {
        best = t;
      }
    }
    return best;
  }

  private static Timestamp latest(long receivedAtMillis, List<Value> history) {
    Timestamp t = latestOf(history, timestamp(receivedAtMillis), null);
    return t == null ? timestampProto(receivedAtMillis) : t;
  }

  /** The state of a document (its {@code state} field). */
  public static JobState state(Document d) {
    String s = string(d, STATE);
    if (s == null) {
      throw new IllegalArgumentException("Job document without a state: " + d.getName());
    }
    return JobState.valueOf(s);
  }

  /** A top-level string field of a document, or null when absent or not a string. */
  public static @Nullable String string(Document d, String field) {
    Value v = d.getFieldsMap().get(field);
    return v != null && v.hasStringValue() ? v.getStringValue() : null;
  }

  /** The document's path relative to {@code …/documents}, e.g. {@code tenants/t/jobs/j}. */
  public static String relativePath(String documentName) {
    int i = documentName.indexOf("/documents/");
    return i < 0 ? documentName : documentName.substring(i + "/documents/".length());
  }

  /** A document as plain JSON-ready values: its fields, plus {@code path} (relative). */
  public static Map<String, Object> toPlainMap(Document d) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("path", relativePath(d.getName()));
    out.putAll(plainFields(d.getFieldsMap()));
    return out;
  }

  private static Map<String, Object> plainFields(Map<String, Value> fields) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<String, Value> e : new TreeMap<>(fields).entrySet()) {
      out.put(e.getKey(), toPlain(e.getValue()));
    }
    return out;
  }

  /**
   * A Firestore value as natural JSON: strings, numbers, booleans, null, maps, lists; timestamps as
   * ISO-8601 instants, bytes as base64, references as their name, geo points as {lat, lng}.
   */
  public static @Nullable Object toPlain(Value v) {
    switch (v.getValueTypeCase()) {
      case STRING_VALUE:
        return v.getStringValue();
      case INTEGER_VALUE:
        return v.getIntegerValue();
      case DOUBLE_VALUE:
        return v.getDoubleValue();
      case BOOLEAN_VALUE:
        return v.getBooleanValue();
      case TIMESTAMP_VALUE:
        Timestamp t = v.getTimestampValue();
        return java.time.Instant.ofEpochSecond(t.getSeconds(), t.getNanos()).toString();
      case MAP_VALUE:
        return plainFields(v.getMapValue().getFieldsMap());
      case ARRAY_VALUE:
        List<Object> list = new ArrayList<>();
        for (Value x : v.getArrayValue().getValuesList()) {
          list.add(toPlain(x));
        }
        return list;
      case BYTES_VALUE:
        return Base64.getEncoder().encodeToString(v.getBytesValue().toByteArray());
      case REFERENCE_VALUE:
        return v.getReferenceValue();
      case GEO_POINT_VALUE:
        Map<String, Object> geo = new LinkedHashMap<>();
        geo.put("lat", v.getGeoPointValue().getLatitude());
        geo.put("lng", v.getGeoPointValue().getLongitude());
        return geo;
      default:
        return null;
    }
  }

  /**
   * The job of a document that has not ended, as it was admitted (state RECEIVED, its history
   * kept), for a restarted streaming run to finish it; null for an ended document or one without
   * its {@value #RESUME} record.
   */
  @SuppressWarnings("unchecked")
  public static @Nullable Job resumable(Document d) {
    Map<String, Value> f = d.getFieldsMap();
    Value resume = f.get(RESUME);
    if (resume == null || !resume.hasMapValue() || state(d).isTerminal()) {
      return null;
    }
    Map<String, Object> m = (Map<String, Object>) toPlain(resume);
    Map<String, Object> rq = (Map<String, Object>) m.get("request");
    if (rq == null) {
      return null;
    }
    return recorded(d, m).setState(JobState.RECEIVED.name()).setRequest(request(rq)).build();
  }

  /**
   * The terminal job an ended document records, for writing its rows again when its message is
   * delivered again (the rows of a run that stopped between the document and them); null for a
   * document that has not ended. Its shots are placeholders carrying only their index: the document
   * keeps their count, not their prompts.
   */
  @SuppressWarnings("unchecked")
  public static @Nullable Job ended(Document d) {
    JobState state = state(d);
    if (!state.isTerminal()) {
      return null;
    }
    Map<String, Value> f = d.getFieldsMap();
    Map<String, Object> m =
        f.containsKey(RESUME) && f.get(RESUME).hasMapValue()
            ? (Map<String, Object>) toPlain(f.get(RESUME))
            : Map.of();
    Map<String, Object> rq = (Map<String, Object>) m.get("request");
    Map<String, Object> qa = plainMap(f.get("qa"));
    Map<String, Object> output = plainMap(f.get("output"));
    List<ShotSpec> shots = new ArrayList<>();
    long total = number(f.get("shots_total"));
    for (int i = 0; i < total; i++) {
      shots.add(ShotSpec.create(i, 0, "", 0));
    }
    return recorded(d, m)
        .setState(state.name())
        .setRequest(rq == null ? null : request(rq))
        .setReasonCode(string(d, "reason_code"))
        .setReason(string(d, "reason"))
        .setBackend(string(d, "backend"))
        .setPlanner(string(d, "planner"))
        .setEstimateUsd(decimal(f.get("estimate_usd")))
        .setCostUsd(decimal(f.get("cost_usd")))
        .setProviderCostUsd(decimal(f.get("provider_cost_usd")))
        .setShots(shots)
        .setShotsDone((int) number(f.get("shots_done")))
        .setQaTechnical((Double) qa.get("technical"))
        .setQaSemantic((Double) qa.get("semantic"))
        .setQaSemanticScorer((String) qa.get("semantic_scorer"))
        .setVideoUri((String) output.get("video_uri"))
        .setManifestUri((String) output.get("manifest_uri"))
        .setContactSheetUri((String) output.get("contact_sheet_uri"))
        .setCancelMessageId(string(d, CANCEL_MESSAGE_ID))
        .build();
  }

  /** What every document records: ids, owner, role and plan, received time, ordinal, history. */
  private static Job.Builder recorded(Document d, Map<String, Object> resume) {
    Map<String, Value> f = d.getFieldsMap();
    Timestamp created = f.get(CREATED_AT).getTimestampValue();
    long receivedAt = created.getSeconds() * 1000 + created.getNanos() / 1_000_000;
    List<HistoryEntry> history = new ArrayList<>();
    for (Value h : historyOf(d)) {
      Map<String, Value> e = h.getMapValue().getFieldsMap();
      Timestamp at = e.get("at").getTimestampValue();
      history.add(
          HistoryEntry.create(
              e.get("state").getStringValue(),
              at.getSeconds() * 1000 + at.getNanos() / 1_000_000,
              e.containsKey("detail") && e.get("detail").hasStringValue()
                  ? e.get("detail").getStringValue()
                  : ""));
    }
    Object role = resume.get("role");
    Object plan = resume.get("plan");
    Object ordinal = resume.get("ordinal");
    return Job.builder()
        .setMessageId(string(d, MESSAGE_ID))
        .setJobId(string(d, "job_id"))
        .setTenant(string(d, "tenant"))
        .setUid(string(d, UID))
        .setRole(role == null ? "" : (String) role)
        .setPlan(plan == null ? "" : (String) plan)
        .setOrdinal(ordinal == null ? 0 : ((Number) ordinal).longValue())
        .setReceivedAtMillis(receivedAt)
        .setHistory(history);
  }

  private static JobRequest request(Map<String, Object> rq) {
    return JobRequest.builder()
        .setContent((String) rq.get("content"))
        .setPreset((String) rq.get("preset"))
        .setMode((String) rq.get("mode"))
        .setPriority((String) rq.get("priority"))
        .setLang((String) rq.get("lang"))
        .setDurationSec(((Number) rq.get("duration_sec")).intValue())
        .setBudgetUsd(((Number) rq.get("budget_usd")).doubleValue())
        .setBrandId((String) rq.get("brand_id"))
        .setStyle((String) rq.get("style"))
        .setMood((String) rq.get("mood"))
        .setCameraStyle((String) rq.get("camera_style"))
        .setColorPalette((String) rq.get("color_palette"))
        .setAspectRatio((String) rq.get("aspect_ratio"))
        .setFps(((Number) rq.get("fps")).intValue())
        .setBackend((String) rq.get("backend"))
        .build();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> plainMap(@Nullable Value v) {
    return v != null && v.hasMapValue() ? (Map<String, Object>) toPlain(v) : Map.of();
  }

  private static long number(@Nullable Value v) {
    if (v == null) {
      return 0;
    }
    return v.hasIntegerValue() ? v.getIntegerValue() : (long) v.getDoubleValue();
  }

  private static double decimal(@Nullable Value v) {
    if (v == null) {
      return 0;
    }
    return v.hasDoubleValue() ? v.getDoubleValue() : v.getIntegerValue();
  }

  /** The (state, at) pairs of a document's history, in order, e.g. {@code RECEIVED@2025-…Z}. */
  public static List<String> historyKeys(Document d) {
    Set<String> keys = new LinkedHashSet<>();
    for (Value h : historyOf(d)) {
      keys.add(historyState(h) + "@" + toPlain(h.getMapValue().getFieldsMap().get("at")));
    }
    return new ArrayList<>(keys);
  }

  private static Value historyEntry(String state, Timestamp at, String detail) {
    return map(
        "state",
        str(state),
        "at",
        Value.newBuilder().setTimestampValue(at).build(),
        "detail",
        str(detail));
  }

  private static Value map(Object... keyValues) {
    MapValue.Builder m = MapValue.newBuilder();
    for (int i = 0; i < keyValues.length; i += 2) {
      m.putFields((String) keyValues[i], (Value) keyValues[i + 1]);
    }
    return Value.newBuilder().setMapValue(m).build();
  }

  private static Value nul() {
    return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
  }

  private static Value str(@Nullable String s) {
    return s == null ? nul() : Value.newBuilder().setStringValue(s).build();
  }

  private static Value integer(long n) {
    return Value.newBuilder().setIntegerValue(n).build();
  }

  private static Value dbl(@Nullable Double d) {
    return d == null ? nul() : Value.newBuilder().setDoubleValue(d).build();
  }

  private static Value timestamp(long millis) {
    return Value.newBuilder().setTimestampValue(timestampProto(millis)).build();
  }

  static Timestamp timestampProto(long millis) {
    return Timestamp.newBuilder()
        .setSeconds(Math.floorDiv(millis, 1000L))
        .setNanos((int) Math.floorMod(millis, 1000L) * 1_000_000)
        .build();
  }

  /**
   * The outcome parts a committed (or already so) job document is: when terminal, its job's
   * document part, and for a CANCELLED one the whole outcome of the cancel it names ({@code
   * cancel_message_id}).
   */
  public static List<OutcomePart> outcomeParts(@Nullable Document doc) {
    if (doc == null || !doc.getFieldsMap().containsKey(STATE) || !state(doc).isTerminal()) {
      return List.of();
    }
    List<OutcomePart> parts = new ArrayList<>(2);
    String messageId = string(doc, MESSAGE_ID);
    if (messageId != null) {
      parts.add(OutcomePart.of(messageId, OutcomePart.Part.JOB_DOCUMENT));
    }
    String cancel = string(doc, CANCEL_MESSAGE_ID);
    if (cancel != null) {
      parts.add(OutcomePart.whole(cancel)); // the cancel's outcome: its job's CANCELLED document
    }
    return parts;
  }
}
