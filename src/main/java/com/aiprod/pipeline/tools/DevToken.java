package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.AuthClaims;
import com.aiprod.pipeline.auth.AuthConfig;
import com.aiprod.pipeline.auth.DevAuthKeys;
import com.aiprod.pipeline.auth.DevTokens;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import javax.annotation.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dev-token}: mints a dev-mode Firebase ID token (DESIGN §3), behind {@code
 * scripts/dev-token}. Creates the dev key pair on first use and prints only the token on stdout.
 * Exit codes: 0 success, 1 key or signing failure, 2 bad arguments.
 */
@Command(
    name = "dev-token",
    sortOptions = false,
    description = {
      "Mints a dev-mode Firebase ID token signed with the dev key pair (created on first use);"
          + " prints only the token."
    })
public final class DevToken extends Tool {
  private static final long MAX_TTL_SECONDS = Duration.ofDays(30).getSeconds();

  @Option(names = "--uid", required = true, paramLabel = "UID", description = "The user id.")
  String uid;

  @Option(names = "--tenant", paramLabel = "TENANT", description = "The tenant (default: the uid).")
  String tenant;

  @Option(
      names = "--role",
      paramLabel = "ROLE",
      description = "Custom claim role: viewer, user, service or admin (omitted by default).")
  String role;

  @Option(
      names = "--plan",
      paramLabel = "PLAN",
      description = "Custom claim plan: free, pro or enterprise (omitted by default).")
  String plan;

  @Option(
      names = "--ttl",
      paramLabel = "SECONDS",
      defaultValue = "3600",
      description = "Lifetime in seconds, 1 to 30 days (default ${DEFAULT-VALUE}).")
  long ttl;

  @Option(
      names = "--dev-auth-dir",
      paramLabel = "DIR",
      defaultValue = AuthConfig.DEV_DEFAULT_AUTH_DIR,
      description = "The dev key pair's directory (default ${DEFAULT-VALUE}).")
  String dir;

  @Option(
      names = "--firebase-project",
      paramLabel = "PROJECT",
      defaultValue = AuthConfig.DEV_DEFAULT_PROJECT,
      description = "The Firebase project of the token's iss/aud (default ${DEFAULT-VALUE}).")
  String project;

  /** Runs {@code dev-token} with {@code args}; returns the exit code. */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    return Cli.run("dev-token", args, out, err);
  }

  @Override
  public Integer call() {
    String problem = validate(uid, tenant, role, plan, dir, project);
    if (problem != null) {
      throw usage(problem);
    }
    if (ttl <= 0 || ttl > MAX_TTL_SECONDS) {
      throw usage("--ttl must be between 1 and " + MAX_TTL_SECONDS + " seconds");
    }
    AuthConfig config;
    try {
      config = AuthConfig.dev(project, dir);
    } catch (IllegalArgumentException e) {
      throw usage(e.getMessage());
    }
    try {
      DevAuthKeys keys = DevAuthKeys.loadOrCreate(Path.of(config.devAuthDir()));
      String token =
          new DevTokens(keys, config.firebaseProject())
              .mint(uid, tenant, role, plan, Duration.ofSeconds(ttl));
      out().println(token);
      out().flush();
      return 0;
    } catch (IOException | RuntimeException e) {
      err().println("dev-token: " + Cli.describe(e));
      return 1;
    }
  }

  private static @Nullable String validate(
      @Nullable String uid,
      @Nullable String tenant,
      @Nullable String role,
      @Nullable String plan,
      String dir,
      String project) {
    if (uid == null) {
      return "--uid is required";
    }
    if (!AuthClaims.isValidUid(uid)) {
      return "--uid must be 1-" + AuthClaims.MAX_UID_LENGTH + " characters";
    }
    if (tenant != null && !AuthClaims.isValidTenant(tenant)) {
      return "--tenant must be 1-64 characters [A-Za-z0-9_-]";
    }
    if (tenant == null && !AuthClaims.isValidTenant(uid)) {
      return "the uid is not a valid tenant name, so give --tenant (1-64 characters [A-Za-z0-9_-])";
    }
    if (role != null && !AuthClaims.isValidRole(role)) {
      return "--role must be one of " + String.join(", ", AuthClaims.ROLES);
    }
    if (plan != null && !AuthClaims.isValidPlan(plan)) {
      return "--plan must be one of " + String.join(", ", AuthClaims.PLANS);
    }
    if (dir.isBlank()) {
      return "--dev-auth-dir must not be empty";
    }
    if (project.isBlank()) {
      return "--firebase-project must not be empty";
    }
    return null;
  }
}
