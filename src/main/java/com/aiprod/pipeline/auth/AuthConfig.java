package com.aiprod.pipeline.auth;

import java.io.Serializable;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import javax.annotation.Nullable;

/**
 * How {@link TokenVerifier} authenticates requests (DESIGN §3). Serializable so it can travel
 * inside a DoFn.
 *
 * <ul>
 *   <li>{@link Mode#FIREBASE}: Firebase ID tokens of {@code firebaseProject}, signed by Google's
 *       securetoken certificates (or by the certificates served at {@link #certificateUrl()} when
 *       overridden, for tests).
 *   <li>{@link Mode#DEV}: the same verification, but the only trusted key is the local key pair in
 *       {@code devAuthDir} (see {@link DevAuthKeys}); the project defaults to {@value
 *       #DEV_DEFAULT_PROJECT}.
 * </ul>
 */
public final class AuthConfig implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Project used in dev mode when none is given. */
  public static final String DEV_DEFAULT_PROJECT = "demo-aiprod";

  /** Key directory used in dev mode when none is given. */
  public static final String DEV_DEFAULT_AUTH_DIR = "local/dev-auth";

  /** Where Google publishes the X.509 certificates that sign Firebase ID tokens. */
  public static final String GOOGLE_CERTIFICATE_URL =
      "https://www.googleapis.com/robot/v1/metadata/x509/securetoken@system.gserviceaccount.com";

  /** Tolerated clock difference for {@code exp}, {@code iat} and {@code auth_time}. */
  public static final Duration CLOCK_SKEW = Duration.ofSeconds(60);

  /** Authentication mode, spelled {@code firebase} or {@code dev} on the command line. */
  public enum Mode {
    FIREBASE,
    DEV;

    /** Parses {@code firebase} or {@code dev} (case-insensitive). */
    public static Mode parse(String value) {
      Objects.requireNonNull(value, "authMode");
      switch (value.trim().toLowerCase(Locale.ROOT)) {
        case "firebase":
          return FIREBASE;
        case "dev":
          return DEV;
        default:
          throw new IllegalArgumentException(
              "unknown auth mode '" + value + "': expected 'firebase' or 'dev'");
      }
    }

    /** The command-line spelling: {@code firebase} or {@code dev}. */
    public String flagValue() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Mode mode;
  private final String firebaseProject;
  private final String devAuthDir;
  private final @Nullable String certificateUrlOverride;
  private final long clockSkewSeconds;

  private AuthConfig(
      Mode mode,
      String firebaseProject,
      String devAuthDir,
      @Nullable String certificateUrlOverride,
      long clockSkewSeconds) {
    this.mode = mode;
    this.firebaseProject = firebaseProject;
    this.devAuthDir = devAuthDir;
    this.certificateUrlOverride = certificateUrlOverride;
    this.clockSkewSeconds = clockSkewSeconds;
  }

  /**
   * Dev mode: trust the key pair in {@code devAuthDir}.
   *
   * @param project Firebase project the tokens are minted for; {@code null} or blank means {@value
   *     #DEV_DEFAULT_PROJECT}
   * @param devAuthDir key directory; {@code null} or blank means {@value #DEV_DEFAULT_AUTH_DIR}
   */
  public static AuthConfig dev(@Nullable String project, @Nullable String devAuthDir) {
    return new AuthConfig(
        Mode.DEV,
        isBlank(project) ? DEV_DEFAULT_PROJECT : checkProject(project),
        isBlank(devAuthDir) ? DEV_DEFAULT_AUTH_DIR : devAuthDir,
        null,
        CLOCK_SKEW.getSeconds());
  }

  /** Firebase mode: tokens of {@code project} signed by Google's securetoken certificates. */
  public static AuthConfig firebase(String project) {
    if (isBlank(project)) {
      throw new IllegalArgumentException(
          "firebase auth mode needs a Firebase project id (--firebaseProject)");
    }
    return new AuthConfig(
        Mode.FIREBASE, checkProject(project), DEV_DEFAULT_AUTH_DIR, null, CLOCK_SKEW.getSeconds());
  }

  /**
   * Builds a config from pipeline flags.
   *
   * @param authMode {@code firebase} or {@code dev}
   * @param firebaseProject required in firebase mode, defaults to {@value #DEV_DEFAULT_PROJECT} in
   *     dev mode
   * @param devAuthDir used in dev mode only; defaults to {@value #DEV_DEFAULT_AUTH_DIR}
   */
  public static AuthConfig fromFlags(
      String authMode, @Nullable String firebaseProject, @Nullable String devAuthDir) {
    return Mode.parse(authMode) == Mode.DEV
        ? dev(firebaseProject, devAuthDir)
        : firebase(firebaseProject == null ? "" : firebaseProject);
  }

  /**
   * Returns a firebase-mode copy that fetches the certificate JSON ({@code {"kid": "PEM"}}) from
   * {@code url} instead of Google's, honouring its {@code Cache-Control: max-age}.
   */
  public AuthConfig withCertificateUrl(String url) {
    if (mode != Mode.FIREBASE) {
      throw new IllegalStateException("a certificate URL override only applies to firebase mode");
    }
    URI uri = URI.create(Objects.requireNonNull(url, "url"));
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("https") && !scheme.equals("http")) {
      throw new IllegalArgumentException("certificate URL must be http(s): " + url);
    }
    return new AuthConfig(mode, firebaseProject, devAuthDir, url, clockSkewSeconds);
  }

  public Mode mode() {
    return mode;
  }

  public String firebaseProject() {
    return firebaseProject;
  }

  /** The expected {@code iss} claim: {@code https://securetoken.google.com/<project>}. */
  public String expectedIssuer() {
    return "https://securetoken.google.com/" + firebaseProject;
  }

  /** Key directory used in dev mode (relative paths resolve against the working directory). */
  public String devAuthDir() {
    return devAuthDir;
  }

  /** The certificate URL override, or {@code null} when none is set. */
  public @Nullable String certificateUrlOverride() {
    return certificateUrlOverride;
  }

  /** Where firebase mode fetches certificates: the override or {@link #GOOGLE_CERTIFICATE_URL}. */
  public String certificateUrl() {
    return certificateUrlOverride != null ? certificateUrlOverride : GOOGLE_CERTIFICATE_URL;
  }

  public Duration clockSkew() {
    return Duration.ofSeconds(clockSkewSeconds);
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof AuthConfig)) {
      return false;
    }
    AuthConfig that = (AuthConfig) o;
    return mode == that.mode
        && firebaseProject.equals(that.firebaseProject)
        && devAuthDir.equals(that.devAuthDir)
        && Objects.equals(certificateUrlOverride, that.certificateUrlOverride)
        && clockSkewSeconds == that.clockSkewSeconds;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        mode, firebaseProject, devAuthDir, certificateUrlOverride, clockSkewSeconds);
  }

  @Override
  public String toString() {
    return "AuthConfig{mode="
        + mode.flagValue()
        + ", firebaseProject="
        + firebaseProject
        + (mode == Mode.DEV ? ", devAuthDir=" + devAuthDir : "")
        + (certificateUrlOverride != null ? ", certificateUrl=" + certificateUrlOverride : "")
        + ", clockSkew="
        + clockSkewSeconds
        + "s}";
  }

  /** Why dev mode cannot run on Dataflow (one message for every place that refuses it). */
  public static final String DEV_ON_DATAFLOW =
      "--authMode=dev trusts a local key pair and is refused on Dataflow; use --authMode=firebase";

  /**
   * True for a Dataflow runner ({@code DataflowRunner}, {@code TestDataflowRunner}, or any runner
   * class named after Dataflow), where dev mode must not run (DESIGN §3).
   */
  public static boolean isDataflowRunner(@Nullable Class<?> runner) {
    return runner != null && runner.getSimpleName().contains("Dataflow");
  }

  private static boolean isBlank(@Nullable String s) {
    return s == null || s.isBlank();
  }

  private static String checkProject(String project) {
    if (!project.matches("[a-z0-9][a-z0-9-]{0,62}")) {
      throw new IllegalArgumentException(
          "invalid Firebase project id '"
              + project
              + "': use lowercase letters, digits and hyphens");
    }
    return project;
  }
}
