package com.aiprod.pipeline.tools;

import java.io.PrintStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** What every subcommand of {@link Cli} has: {@code --help}, the output streams, usage errors. */
abstract class Tool implements Callable<Integer> {
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help and exit.")
  boolean help;

  @ParentCommand Cli cli;

  @Spec CommandSpec spec;

  PrintStream out() {
    return cli.out;
  }

  PrintStream err() {
    return cli.err;
  }

  /** A usage error: printed with the usage, exit 2, nothing done. */
  ParameterException usage(String problem) {
    return new ParameterException(spec.commandLine(), problem);
  }
}
