package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.catalog.PricingTable;
import com.aiprod.pipeline.secrets.SecretResolver;
import com.aiprod.pipeline.secrets.SecretSource;
import com.aiprod.pipeline.vertex.VertexAuth;
import java.io.Serializable;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.annotation.Nullable;

/**
 * Everything a worker needs to open the {@link VideoBackend} clients (serializable: transforms
 * carry it to the workers, {@link #open} runs in {@code @Setup}). Endpoints are overridable per
 * API, for tests (loopback servers speaking the provider's API) and regional endpoints.
 */
public final class BackendConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** API names, as in {@code pricing.json}'s {@code api} field. */
  public static final String RUNWAY = "runway";

  public static final String REPLICATE = "replicate";
  public static final String VERTEX_VEO = "vertex-veo";
  public static final String LOCAL = "local";

  /** Largest JSON answer read from a provider; a longer body is refused (PERMANENT). */
  public static final int MAX_JSON_BYTES = 1 << 20;

  /** Default largest output video downloaded or copied: 512 MiB. */
  public static final long DEFAULT_MAX_DOWNLOAD_BYTES = 512L << 20;

  private final Map<String, String> apiByBackend;
  private final Map<String, String> modelByBackend;
  private final Map<String, String> endpointByApi;
  private final @Nullable SecretSource secrets;
  private final @Nullable String vertexProject;
  private final String vertexLocation;
  private final @Nullable VertexAuth vertexAuth;
  private final Duration requestTimeout;
  private final Duration connectTimeout;
  private final Duration downloadTimeout;
  private final Duration downloadStallTimeout;
  private final long maxDownloadBytes;
  private final @Nullable String outputLocation;

  private BackendConfig(Builder b) {
    this.apiByBackend = new TreeMap<>(b.apiByBackend);
    this.modelByBackend = new TreeMap<>(b.modelByBackend);
    this.endpointByApi = new TreeMap<>(b.endpointByApi);
    this.secrets = b.secrets;
    this.vertexProject = b.vertexProject;
    this.vertexLocation = b.vertexLocation;
    this.vertexAuth = b.vertexAuth;
    this.requestTimeout = b.requestTimeout;
    this.connectTimeout =
        b.connectTimeout != null
            ? b.connectTimeout
            : minDuration(b.requestTimeout, Duration.ofSeconds(10));
    this.downloadTimeout = b.downloadTimeout;
    this.downloadStallTimeout = b.downloadStallTimeout;
    this.maxDownloadBytes = b.maxDownloadBytes;
    this.outputLocation = b.outputLocation;
  }

  private static Duration minDuration(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * The API of a backend id ({@code runway}, {@code replicate}, {@code vertex-veo}, {@code local}).
   */
  public @Nullable String apiOf(String backendId) {
    return apiByBackend.get(backendId);
  }

  /**
   * The provider's model a backend id renders with ({@code pricing.json}'s optional {@code model}),
   * null when the table names none (the client then uses its documented default).
   */
  public @Nullable String modelOf(String backendId) {
    return modelByBackend.get(backendId);
  }

  /** The endpoint override of an API, null for the provider's default. */
  public @Nullable String endpoint(String api) {
    return endpointByApi.get(api);
  }

  public @Nullable SecretSource secrets() {
    return secrets;
  }

  public @Nullable String vertexProject() {
    return vertexProject;
  }

  public String vertexLocation() {
    return vertexLocation;
  }

  /**
   * Credentials for Vertex AI (Veo): the configured ones, else the worker's Application Default
   * Credentials.
   */
  public VertexAuth vertexAuth() {
    return vertexAuth != null ? vertexAuth : VertexAuth.applicationDefault();
  }

  /** Timeout of one HTTP exchange with a provider (until the whole JSON answer is read). */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /**
   * Timeout of establishing a connection (default: the smaller of 10 s and the request timeout).
   */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /**
   * Longest an output download may take in all ({@code --downloadTimeoutSeconds}, default 5
   * minutes); a download that receives nothing for {@link #downloadStallTimeout()} is abandoned
   * earlier.
   */
  public Duration downloadTimeout() {
    return downloadTimeout;
  }

  /**
   * Longest an output download may receive nothing before it is abandoned as stalled ({@code
   * --downloadStallTimeoutSeconds}, default 20 s): well under the attempt timeout, so a dripping
   * server cannot hold a worker thread for long.
   */
  public Duration downloadStallTimeout() {
    return downloadStallTimeout;
  }

  /** Largest output accepted, in bytes (default 512 MiB); a larger one is refused (PERMANENT). */
  public long maxDownloadBytes() {
    return maxDownloadBytes;
  }

  /**
   * {@code --outputLocation}: a provider that writes its own output (Veo's {@code storageUri}) must
   * report an object under it; null accepts only {@code gs://} objects.
   */
  public @Nullable String outputLocation() {
    return outputLocation;
  }

  /**
   * Opens the client of {@code backendId} (call from {@code @Setup}; the caller closes it).
   *
   * @throws IllegalArgumentException for a backend id of no known API, or a malformed model name
   * @throws IllegalStateException when the backend needs what the configuration lacks (a secret
   *     source for Runway/Replicate, the Vertex project for Veo)
   * @throws com.aiprod.pipeline.secrets.SecretAccessException when its secret cannot be read
   */
  public VideoBackend open(String backendId) {
    return open(backendId, secrets == null ? null : secrets.resolver());
  }

  /**
   * Opens the client of {@code backendId} reading its API key through {@code secretResolver} (the
   * render stage passes a {@link com.aiprod.pipeline.secrets.SecretAccesses} so that each secret
   * version resolved becomes a SECRET_ACCESS audit event); null when no secrets are configured.
   */
  public VideoBackend open(String backendId, @Nullable SecretResolver secretResolver) {
    String api = apiOf(backendId);
    if (api == null) {
      throw new IllegalArgumentException("backend " + backendId + " is not in the pricing table");
    }
    switch (api) {
      case LOCAL:
        return new PreviewBackend(backendId);
      case RUNWAY:
        return new RunwayBackend(backendId, this, secretResolver);
      case REPLICATE:
        return new ReplicateBackend(backendId, this, secretResolver);
      case VERTEX_VEO:
        return new VeoBackend(backendId, this);
      default:
        throw new IllegalArgumentException(
            "backend " + backendId + " (API " + api + ") has no client in this build");
    }
  }

  /** Builds a {@link BackendConfig}. */
  public static final class Builder {
    private final Map<String, String> apiByBackend = new TreeMap<>();
    private final Map<String, String> modelByBackend = new TreeMap<>();
    private final Map<String, String> endpointByApi = new TreeMap<>();
    private @Nullable SecretSource secrets;
    private @Nullable String vertexProject;
    private String vertexLocation = "us-central1";
    private @Nullable VertexAuth vertexAuth;
    private Duration requestTimeout = Duration.ofSeconds(30);
    private @Nullable Duration connectTimeout;
    private Duration downloadTimeout = Duration.ofMinutes(5);
    private Duration downloadStallTimeout = Duration.ofSeconds(20);
    private long maxDownloadBytes = DEFAULT_MAX_DOWNLOAD_BYTES;
    private @Nullable String outputLocation;

    public Builder backend(String backendId, String api) {
      apiByBackend.put(backendId, api);
      return this;
    }

    /**
     * A backend id, its API and the provider's model it renders with (null: the client's default).
     */
    public Builder backend(String backendId, String api, @Nullable String model) {
      apiByBackend.put(backendId, api);
      if (model != null && !model.isBlank()) {
        modelByBackend.put(backendId, model);
      } else {
        modelByBackend.remove(backendId);
      }
      return this;
    }

    /** Every backend of a pricing table, with its API and model. */
    public Builder backends(PricingTable table) {
      for (PricingTable.Backend b : table.backends()) {
        backend(b.id(), b.api(), b.model());
      }
      return this;
    }

    public Builder endpoint(String api, @Nullable String endpoint) {
      if (endpoint != null && !endpoint.isBlank()) {
        endpointByApi.put(
            api, endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint);
      }
      return this;
    }

    public Builder secrets(@Nullable SecretSource secrets) {
      this.secrets = secrets;
      return this;
    }

    public Builder vertex(@Nullable String project, String location) {
      this.vertexProject = project;
      this.vertexLocation = Objects.requireNonNull(location, "location");
      return this;
    }

    /** Vertex AI credentials (default: the worker's Application Default Credentials). */
    public Builder vertexAuth(@Nullable VertexAuth auth) {
      this.vertexAuth = auth;
      return this;
    }

    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder downloadTimeout(Duration timeout) {
      this.downloadTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder downloadStallTimeout(Duration timeout) {
      if (timeout.isZero() || timeout.isNegative()) {
        throw new IllegalArgumentException("downloadStallTimeout must be > 0, got " + timeout);
      }
      this.downloadStallTimeout = timeout;
      return this;
    }

    public Builder maxDownloadBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxDownloadBytes must be > 0, got " + bytes);
      }
      this.maxDownloadBytes = bytes;
      return this;
    }

    /** {@code --outputLocation} (see {@link BackendConfig#outputLocation()}). */
    public Builder outputLocation(@Nullable String location) {
      this.outputLocation = location == null || location.isBlank() ? null : location;
      return this;
    }

    public BackendConfig build() {
      return new BackendConfig(this);
    }
  }
}
