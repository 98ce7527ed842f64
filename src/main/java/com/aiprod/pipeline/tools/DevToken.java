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

/**
 * Command-line minting of dev-mode Firebase ID tokens (DESIGN §3), behind {@code
 * scripts/dev-token}. Creates the dev key pair on first use and prints only the token on stdout.
 *
 * <pre>
 * DevToken --uid U [--tenant T] [--role R] [--plan P] [--ttl SECONDS] [--dir DIR] [--project P]
 * </pre>
 *
 * <p>Exit codes: 0 success, 1 key or signing failure, 2 bad arguments.
 */
public final class DevToken {
  static final String USAGE =
      "usage: dev-token --uid U [--tenant T] [--role viewer|user|service|admin]"
          + " [--plan free|pro|enterprise] [--ttl SECONDS (default 3600)]"
          + " [--dir DIR (default "
          + AuthConfig.DEV_DEFAULT_AUTH_DIR
          + ")] [--project P (default "
          + AuthConfig.DEV_DEFAULT_PROJECT
          + ")]";

  private static final long MAX_TTL_SECONDS = Duration.ofDays(30).getSeconds();

  private DevToken() {}

  public static void main(String[] args) {
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs the command.
   *
   * @return the exit code: 0 success (token printed on {@code out}), 1 key or signing failure, 2
   *     bad arguments (usage printed on {@code err})
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    String uid = null;
    String tenant = null;
    String role = null;
    String plan = null;
    String ttl = "3600";
    String dir = AuthConfig.DEV_DEFAULT_AUTH_DIR;
    String project = AuthConfig.DEV_DEFAULT_PROJECT;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      if (flag.equals("-h") || flag.equals("--help")) {
        out.println(USAGE);
        return 0;
      }
      if (!flag.startsWith("--")) {
        return usage(err, "unexpected argument '" + flag + "'");
      }
      String name = flag;
      String value;
      int eq = flag.indexOf('=');
      if (eq >= 0) {
        name = flag.substring(0, eq);
        value = flag.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        return usage(err, "missing value for " + flag);
      }
      switch (name) {
        case "--uid":
          uid = value;
          break;
        case "--tenant":
          tenant = value;
          break;
        case "--role":
          role = value;
          break;
        case "--plan":
          plan = value;
          break;
        case "--ttl":
          ttl = value;
          break;
        case "--dir":
          dir = value;
          break;
        case "--project":
          project = value;
          break;
        default:
          return usage(err, "unknown option " + name);
      }
    }
    String problem = validate(uid, tenant, role, plan, dir, project);
    if (problem != null) {
      return usage(err, problem);
    }
    long ttlSeconds;
    try {
      ttlSeconds = Long.parseLong(ttl);
    } catch (NumberFormatException e) {
      return usage(err, "--ttl must be a whole number of seconds");
    }
    if (ttlSeconds <= 0 || ttlSeconds > MAX_TTL_SECONDS) {
      return usage(err, "--ttl must be between 1 and " + MAX_TTL_SECONDS + " seconds");
    }
    AuthConfig config;
    try {
      config = AuthConfig.dev(project, dir);
    } catch (IllegalArgumentException e) {
      return usage(err, e.getMessage());
    }
    try {
      DevAuthKeys keys = DevAuthKeys.loadOrCreate(Path.of(config.devAuthDir()));
      String token =
          new DevTokens(keys, config.firebaseProject())
              .mint(uid, tenant, role, plan, Duration.ofSeconds(ttlSeconds));
      out.println(token);
      out.flush();
      return 0;
    } catch (IOException | RuntimeException e) {
      err.println("dev-token: " + e.getMessage());
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
      return "--dir must not be empty";
    }
    if (project.isBlank()) {
      return "--project must not be empty";
    }
    return null;
  }

  private static int usage(PrintStream err, String problem) {
    err.println("dev-token: " + problem);
    err.println(USAGE);
    return 2;
  }
}
