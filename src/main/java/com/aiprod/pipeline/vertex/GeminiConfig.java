package com.aiprod.pipeline.vertex;

import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.annotation.Nullable;

/**
 * Where and how to call Gemini on Vertex AI: endpoint, project, location, model, credentials,
 * timeout and retry budget. Serializable, so DoFns carry it and build their {@link GeminiClient} in
 * {@code @Setup}. A null {@code GeminiConfig} means "Gemini is not configured" throughout the
 * pipeline (local planner, local semantic heuristic).
 */
public final class GeminiConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Project, location and model become path segments: keep them to what Vertex names use. */
  private static final Pattern PATH_SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._@-]{0,127}");

  /** Attempts of one call (the first plus two retries, as Vertex AI's error guide advises). */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /** First backoff; doubled per retry, with jitter. */
  public static final long DEFAULT_BACKOFF_MILLIS = 1_000;

  /** Longest wait between attempts, including a server's Retry-After. */
  public static final long MAX_BACKOFF_MILLIS = 10_000;

  private final String endpoint;
  private final String project;
  private final String location;
  private final String model;
  private final VertexAuth auth;
  private final int timeoutSeconds;
  private final int maxAttempts;
  private final long backoffMillis;

  private GeminiConfig(
      String endpoint,
      String project,
      String location,
      String model,
      VertexAuth auth,
      int timeoutSeconds,
      int maxAttempts,
      long backoffMillis) {
    this.endpoint = endpoint;
    this.project = project;
    this.location = location;
    this.model = model;
    this.auth = auth;
    this.timeoutSeconds = timeoutSeconds;
    this.maxAttempts = maxAttempts;
    this.backoffMillis = backoffMillis;
  }

  /**
   * A configuration.
   *
   * @param endpoint base URL (scheme and host, optionally a port); null or blank: {@code
   *     https://LOCATION-aiplatform.googleapis.com} ({@code https://aiplatform.googleapis.com} for
   *     location {@code global})
   * @param timeoutSeconds limit of one HTTP exchange (connect, headers and body), &gt; 0
   */
  public static GeminiConfig of(
      @Nullable String endpoint,
      String project,
      String location,
      String model,
      VertexAuth auth,
      int timeoutSeconds) {
    requireSegment("project", project);
    requireSegment("location", location);
    requireSegment("model", model);
    Objects.requireNonNull(auth, "auth");
    if (timeoutSeconds <= 0) {
      throw new IllegalArgumentException("timeoutSeconds must be > 0, got " + timeoutSeconds);
    }
    String base =
        endpoint == null || endpoint.isBlank() ? defaultEndpoint(location) : endpoint.strip();
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    URI uri = URI.create(base);
    if (!"https".equals(uri.getScheme()) && !"http".equals(uri.getScheme())) {
      throw new IllegalArgumentException("Vertex endpoint must be an http(s) URL, got " + base);
    }
    return new GeminiConfig(
        base,
        project,
        location,
        model,
        auth,
        timeoutSeconds,
        DEFAULT_MAX_ATTEMPTS,
        DEFAULT_BACKOFF_MILLIS);
  }

  /** The same configuration with another retry budget (tests use short backoffs). */
  public GeminiConfig withRetries(int maxAttempts, long backoffMillis) {
    if (maxAttempts < 1 || maxAttempts > 10 || backoffMillis < 0) {
      throw new IllegalArgumentException("maxAttempts in [1, 10] and backoffMillis >= 0");
    }
    return new GeminiConfig(
        endpoint, project, location, model, auth, timeoutSeconds, maxAttempts, backoffMillis);
  }

  static String defaultEndpoint(String location) {
    return "global".equals(location)
        ? "https://aiplatform.googleapis.com"
        : "https://" + location + "-aiplatform.googleapis.com";
  }

  private static void requireSegment(String name, String value) {
    if (value == null || !PATH_SEGMENT.matcher(value).matches()) {
      throw new IllegalArgumentException(
          name
              + " must match "
              + PATH_SEGMENT.pattern()
              + ", got "
              + (value == null ? "null" : "'" + value + "'"));
    }
  }

  /** {@code POST} target of generateContent. */
  public URI generateContentUri() {
    return URI.create(
        endpoint
            + "/v1/projects/"
            + project
            + "/locations/"
            + location
            + "/publishers/google/models/"
            + model
            + ":generateContent");
  }

  public String endpoint() {
    return endpoint;
  }

  public String project() {
    return project;
  }

  public String location() {
    return location;
  }

  public String model() {
    return model;
  }

  public VertexAuth auth() {
    return auth;
  }

  public Duration timeout() {
    return Duration.ofSeconds(timeoutSeconds);
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public long backoffMillis() {
    return backoffMillis;
  }

  /** Name recorded as the job's planner and semantic scorer: {@code gemini:<model>}. */
  public String label() {
    return "gemini:" + model;
  }

  @Override
  public String toString() {
    return "GeminiConfig{"
        + generateContentUri()
        + ", "
        + auth
        + ", timeout "
        + timeoutSeconds
        + " s, "
        + maxAttempts
        + " attempts}";
  }
}
