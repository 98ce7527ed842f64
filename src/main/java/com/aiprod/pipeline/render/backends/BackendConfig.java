package com.aiprod.pipeline.render.backends;

import com.aiprod.pipeline.secrets.SecretSource;
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

  private final Map<String, String> apiByBackend;
  private final Map<String, String> endpointByApi;
  private final @Nullable SecretSource secrets;
  private final @Nullable String vertexProject;
  private final String vertexLocation;
  private final Duration requestTimeout;

  private BackendConfig(Builder b) {
    this.apiByBackend = new TreeMap<>(b.apiByBackend);
    this.endpointByApi = new TreeMap<>(b.endpointByApi);
    this.secrets = b.secrets;
    this.vertexProject = b.vertexProject;
    this.vertexLocation = b.vertexLocation;
    this.requestTimeout = b.requestTimeout;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The API of a backend id ({@code runway}, {@code replicate}, {@code vertex-veo}, {@code local}). */
  public @Nullable String apiOf(String backendId) {
    return apiByBackend.get(backendId);
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

  /** Timeout of one HTTP exchange with a provider. */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /**
   * Opens the client of {@code backendId} (call from {@code @Setup}; the caller closes it).
   *
   * @throws IllegalArgumentException for a backend id of no known API
   */
  public VideoBackend open(String backendId) {
    String api = apiOf(backendId);
    if (api == null) {
      throw new IllegalArgumentException("backend " + backendId + " is not in the pricing table");
    }
    switch (api) {
      case LOCAL:
        return new PreviewBackend(backendId);
      default:
        throw new IllegalArgumentException("backend " + backendId + " (API " + api + ") has no client in this build");
    }
  }

  /** Builds a {@link BackendConfig}. */
  public static final class Builder {
    private final Map<String, String> apiByBackend = new TreeMap<>();
    private final Map<String, String> endpointByApi = new TreeMap<>();
    private @Nullable SecretSource secrets;
    private @Nullable String vertexProject;
    private String vertexLocation = "us-central1";
    private Duration requestTimeout = Duration.ofSeconds(30);

    public Builder backend(String backendId, String api) {
      apiByBackend.put(backendId, api);
      return this;
    }

    /** Every backend of the pricing table, with its API. */
    public Builder backends(com.aiprod.pipeline.price.PricingTable pricing) {
      pricing.backends().forEach(b -> backend(b.id(), b.api()));
      return this;
    }

    public Builder endpoint(String api, @Nullable String endpoint) {
      if (endpoint != null && !endpoint.isBlank()) {
        endpointByApi.put(api, endpoint.endsWith("/") ? endpoint.substring(0, endpoint.length() - 1) : endpoint);
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

    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout = timeout;
      return this;
    }

    public BackendConfig build() {
      return new BackendConfig(this);
    }
  }
}
