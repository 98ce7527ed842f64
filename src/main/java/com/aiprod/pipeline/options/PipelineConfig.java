package com.aiprod.pipeline.options;

import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.jobstore.FirestoreClients;
import com.aiprod.pipeline.jobstore.JobStore;
import com.aiprod.pipeline.kernel.AuditEvents;
import com.aiprod.pipeline.persist.DuckDbWarehouse;
import com.aiprod.pipeline.persist.Warehouse;
import com.aiprod.pipeline.render.backends.BackendConfig;
import com.aiprod.pipeline.secrets.SecretSource;
import com.aiprod.pipeline.vertex.GeminiConfig;
import com.aiprod.pipeline.vertex.VertexAuth;
import java.io.Serializable;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import javax.annotation.Nullable;

/**
 * The options of one run, resolved once into typed values and checked before the graph is built
 * ({@link #from}): every stage gets what it needs from here, and nothing below the graph reads
 * {@link AiprodOptions} again. Immutable and serializable.
 */
public final class PipelineConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Where requests come from. */
  public enum Input {
    /** {@code --inputFiles}: batch over JSONL files. */
    FILES,
    /** {@code --inputSubscription}: streaming. */
    SUBSCRIPTION,
    /** {@code --inputTopic}: streaming, on a subscription of the runner's own. */
    TOPIC
  }

  /** Who acknowledges Pub/Sub messages ({@code --pubsubAcks}, resolved for this runner). */
  public enum Acks {
    /** The runner (PubsubIO: Dataflow's durable commit, Flink's checkpoints); files: nobody. */
    RUNNER,
    /** {@code AcknowledgeOutcomes}, once each message's outcome is durable (single-JVM runners). */
    OUTCOME
  }

  private final Input input;
  private final String inputLocation;
  private final Acks acks;
  private final long ackDelayMillis;
  private final AuthConfig auth;
  private final Warehouse warehouse;
  private final SecretSource secrets;
  private final PricingTable pricing;
  private final Set<String> renderBackends;
  private final String outputLocation;
  private final @Nullable String deadLetterTopic;
  private final @Nullable GeminiConfig gemini;
  private final BackendConfig backends;
  private final JobStore jobStore;
  private final FirestoreClients firestore;
  private final AuditEvents audit;
  private final String jobName;
  private final Map<String, String> described;

  private PipelineConfig(AiprodOptions o, PricingTable pricing) {
    boolean files = present(o.getInputFiles());
    this.input =
        files ? Input.FILES : present(o.getInputSubscription()) ? Input.SUBSCRIPTION : Input.TOPIC;
    this.inputLocation =
        switch (input) {
          case FILES -> o.getInputFiles();
          case SUBSCRIPTION -> o.getInputSubscription();
          case TOPIC -> o.getInputTopic();
        };
    long ackDelay = OptionsCheck.outcomeAckDelayMillis(o);
    this.acks = ackDelay >= 0 ? Acks.OUTCOME : Acks.RUNNER;
    this.ackDelayMillis = Math.max(0, ackDelay);
    String firebaseProject = OptionsCheck.firebaseProject(o);
    this.auth =
        AuthConfig.Mode.parse(o.getAuthMode()) == AuthConfig.Mode.DEV
            ? AuthConfig.dev(firebaseProject, o.getDevAuthDir())
            : AuthConfig.firebase(firebaseProject);
    Warehouse w = Warehouse.fromSpec(o.getWarehouse());
    // A remote Flink cluster here has several TaskManager processes writing the one DuckDB file.
    this.warehouse =
        w instanceof DuckDbWarehouse d && !OptionsCheck.singleJvm(o)
            ? d.sharedBetweenProcesses()
            : w;
    this.secrets = SecretSource.parse(o.getSecretSource());
    this.pricing = pricing;
    this.renderBackends =
        Collections.unmodifiableSet(new LinkedHashSet<>(OptionsCheck.renderBackends(o)));
    this.outputLocation = o.getOutputLocation();
    this.deadLetterTopic = present(o.getDeadLetterTopic()) ? o.getDeadLetterTopic() : null;
    this.gemini = gemini(o);
    this.backends =
        BackendConfig.builder()
            .secrets(secrets)
            .vertex(o.getProject(), o.getVertexLocation())
            .requestTimeout(Duration.ofSeconds(o.getBackendRequestTimeoutSeconds()))
            .downloadStallTimeout(
                Duration.ofSeconds(Math.max(1, o.getDownloadStallTimeoutSeconds())))
            .downloadTimeout(Duration.ofSeconds(Math.max(1, o.getDownloadTimeoutSeconds())))
            .maxDownloadBytes(Math.max(1, (long) o.getMaxDownloadMegabytes()) << 20)
            .endpoint(BackendConfig.RUNWAY, o.getRunwayEndpoint())
            .endpoint(BackendConfig.REPLICATE, o.getReplicateEndpoint())
            .endpoint(BackendConfig.VERTEX_VEO, o.getVertexEndpoint())
            .outputLocation(o.getOutputLocation())
            .backends(pricing)
            .build();
    this.jobStore = JobStore.fromOptions(o);
    this.firestore = FirestoreClients.fromOptions(o);
    this.audit = new AuditEvents(o.getEnvironment());
    this.jobName = o.getJobName();
    Map<String, String> d = new TreeMap<>();
    d.put("inputFiles", o.getInputFiles());
    d.put("inputSubscription", o.getInputSubscription());
    d.put("inputTopic", o.getInputTopic());
    d.put("authMode", o.getAuthMode());
    d.put("firebaseProject", firebaseProject);
    d.put("warehouse", o.getWarehouse());
    d.put("secretSource", o.getSecretSource());
    d.put("renderBackends", o.getRenderBackends());
    d.put("pricingFile", o.getPricingFile());
    d.put("outputLocation", o.getOutputLocation());
    d.put("deadLetterTopic", o.getDeadLetterTopic());
    d.put("geminiModel", o.getGeminiModel());
    d.put("vertexLocation", o.getVertexLocation());
    d.put("runner", o.getRunner().getSimpleName());
    d.put("streaming", String.valueOf(input != Input.FILES));
    this.described = Collections.unmodifiableMap(d);
  }

  /**
   * Checks {@code options} (every problem in one {@link IllegalArgumentException}) and resolves
   * them; marks the options streaming when the input is Pub/Sub.
   */
  public static PipelineConfig from(AiprodOptions options) {
    PricingTable pricing = PricingTable.load(options.getPricingFile());
    OptionsCheck.validate(options, pricing);
    if (!present(options.getInputFiles())) {
      options.setStreaming(true);
    }
    return new PipelineConfig(options, pricing);
  }

  /**
   * The Gemini configuration the options ask for, or null when {@code --geminiModel} is empty
   * (local planner and heuristic). Needs {@code --project}; uses worker credentials.
   */
  public static @Nullable GeminiConfig gemini(AiprodOptions o) {
    if (!present(o.getGeminiModel())) {
      return null;
    }
    if (!present(o.getProject())) {
      throw new IllegalArgumentException("--geminiModel needs --project (the Vertex AI project)");
    }
    return GeminiConfig.of(
        o.getVertexEndpoint(),
        o.getProject(),
        o.getVertexLocation(),
        o.getGeminiModel().strip(),
        VertexAuth.applicationDefault(),
        o.getBackendRequestTimeoutSeconds());
  }

  private static boolean present(@Nullable String s) {
    return s != null && !s.isBlank();
  }

  public Input input() {
    return input;
  }

  /** The files glob, subscription or topic path of {@link #input()}. */
  public String inputLocation() {
    return inputLocation;
  }

  /** Pub/Sub input: unbounded, streaming forms of the stages. */
  public boolean streaming() {
    return input != Input.FILES;
  }

  public Acks acks() {
    return acks;
  }

  /**
   * Whether job-store lookups are made per bundle in the step ({@code BundleJobLookup}, no shuffle,
   * no timer): in batch, and in streaming with {@link Acks#OUTCOME} (one JVM: embedded Flink, whose
   * bundles after a keyed step hold many keys, and the DirectRunner, where they hold one: one read
   * per job there). Streaming with runner acks (Dataflow, a Flink cluster) keeps the lookup that
   * batches across bundles ({@code ExistingJobLookup}) and its transform names.
   */
  public boolean lookupsPerBundle() {
    return !streaming() || acks == Acks.OUTCOME;
  }

  /** With {@link Acks#OUTCOME}: how long after its outcome is durable a message is acked. */
  public long ackDelayMillis() {
    return ackDelayMillis;
  }

  public AuthConfig auth() {
    return auth;
  }

  public Warehouse warehouse() {
    return warehouse;
  }

  public SecretSource secrets() {
    return secrets;
  }

  /** The one pricing table of the run (validation, routing, rendering). */
  public PricingTable pricing() {
    return pricing;
  }

  public Set<String> renderBackends() {
    return renderBackends;
  }

  public String outputLocation() {
    return outputLocation;
  }

  public @Nullable String deadLetterTopic() {
    return deadLetterTopic;
  }

  /** Null: local planner and local semantic heuristic. */
  public @Nullable GeminiConfig gemini() {
    return gemini;
  }

  public BackendConfig backends() {
    return backends;
  }

  public JobStore jobStore() {
    return jobStore;
  }

  public FirestoreClients firestore() {
    return firestore;
  }

  public AuditEvents audit() {
    return audit;
  }

  public String jobName() {
    return jobName;
  }

  /** The non-secret settings this run uses, for its CONFIG_CHANGE audit event. */
  public Map<String, String> described() {
    return described;
  }
}
