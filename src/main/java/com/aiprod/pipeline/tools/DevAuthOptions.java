package com.aiprod.pipeline.tools;

import com.aiprod.pipeline.auth.AuthConfig;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * The dev key pair and Firebase project of the tokens a tool mints: the two options every
 * token-minting subcommand takes (a picocli mixin: {@code @Mixin DevAuthOptions devAuth}).
 */
final class DevAuthOptions {
  @Option(
      names = "--dev-auth-dir",
      paramLabel = "DIR",
      defaultValue = AuthConfig.DEV_DEFAULT_AUTH_DIR,
      description =
          "The dev key pair's directory, created on first use (default ${DEFAULT-VALUE}).")
  Path dir;

  @Option(
      names = "--firebase-project",
      paramLabel = "PROJECT",
      defaultValue = AuthConfig.DEV_DEFAULT_PROJECT,
      description = "The Firebase project of the tokens (default ${DEFAULT-VALUE}).")
  String project;
}
