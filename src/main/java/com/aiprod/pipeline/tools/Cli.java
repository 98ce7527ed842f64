package com.aiprod.pipeline.tools;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import javax.annotation.Nullable;
import org.apache.beam.sdk.io.gcp.bigquery.BigQueryServices;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The one entry point of the local tools: {@code java -cp target/aiprod-pipeline-bundled.jar
 * com.aiprod.pipeline.tools.Cli COMMAND [OPTIONS]}, behind {@code scripts/*}.
 *
 * <p>Options are kebab-case ({@code --dry-run}, {@code --dev-auth-dir}), take their value as {@code
 * --name=value} or {@code --name value}, and every command has {@code --help}. Exit codes: 0
 * success, 1 the command ran and failed (or found problems), 2 bad usage (unknown option, missing
 * value, invalid value; the usage is printed and nothing is done).
 */
@Command(
    name = "aiprod",
    synopsisSubcommandLabel = "COMMAND",
    description = "The local tools of the AIPROD pipeline (scripts/* run these commands).",
    footer = {
      "",
      "Options are kebab-case (--dry-run, --dev-auth-dir); give a value as --name=value or"
          + " --name value. Exit codes: 0 success, 1 the command failed or found problems,"
          + " 2 bad usage (nothing done). 'COMMAND --help' describes a command."
    },
    subcommands = {
      DevToken.class,
      SignSamples.class,
      Publish.class,
      Query.class,
      AnalystViews.class,
      Summary.class,
      ExportJobs.class,
      VerifyAudit.class,
      ReplayDeadLetters.class,
      RunReport.class,
      BenchEncoder.class,
      BenchSheet.class,
      BenchInputs.class,
      BenchVerifyFloor.class,
      BenchStream.class
    })
public final class Cli implements Callable<Integer> {
  /** Exit code of bad usage. */
  public static final int USAGE = 2;

  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help and exit.")
  boolean help;

  @Spec CommandSpec spec;

  final PrintStream out;
  final PrintStream err;
  @Nullable BigQueryServices bigQueryServices;

  /** The CLI on {@code System.out} and {@code System.err}. */
  public Cli() {
    this(System.out, System.err);
  }

  /** The CLI printing to {@code out} and {@code err}. */
  public Cli(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  /**
   * The CLI reading {@code bigquery:} warehouses through {@code services} (tests: Beam's fakes).
   */
  public Cli withBigQueryServices(BigQueryServices services) {
    this.bigQueryServices = services;
    return this;
  }

  public static void main(String[] args) {
    System.exit(new Cli().execute(args));
  }

  /** Runs {@code COMMAND [OPTIONS]}; returns the exit code. */
  public int execute(String... args) {
    CommandLine cl = new CommandLine(this);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setColorScheme(Help.defaultColorScheme(Help.Ansi.OFF));
    cl.setParameterExceptionHandler(Cli::invalidInput);
    cl.setExecutionExceptionHandler(
        (e, command, parsed) -> {
          command.getErr().println(command.getCommandName() + ": " + describe(e));
          command.getErr().flush();
          return 1;
        });
    int code = cl.execute(args);
    out.flush();
    err.flush();
    return code;
  }

  /** Runs one command with its arguments (the command name first). */
  static int run(String command, String[] args, PrintStream out, PrintStream err) {
    String[] all = new String[args.length + 1];
    all[0] = command;
    System.arraycopy(args, 0, all, 1, args.length);
    return new Cli(out, err).execute(all);
  }

  @Override
  public Integer call() {
    throw new ParameterException(
        spec.commandLine(),
        "Missing command: give one of " + List.copyOf(spec.subcommands().keySet()));
  }

  /** Bad usage: what is wrong, suggestions for a typo, then the usage; exit 2, nothing done. */
  private static int invalidInput(ParameterException e, String[] args) {
    CommandLine cl = e.getCommandLine();
    PrintWriter w = cl.getErr();
    List<String> unmatched = cl.getUnmatchedArguments();
    if (!(e instanceof UnmatchedArgumentException) && !unmatched.isEmpty()) {
      // An unknown option (a typo) is the first thing to say, before what it left missing.
      UnmatchedArgumentException unknown = new UnmatchedArgumentException(cl, unmatched);
      w.println(cl.getCommandName() + ": " + unknown.getMessage());
      UnmatchedArgumentException.printSuggestions(unknown, w);
    }
    w.println(cl.getCommandName() + ": " + e.getMessage());
    UnmatchedArgumentException.printSuggestions(e, w);
    w.println();
    cl.usage(w, cl.getColorScheme());
    w.flush();
    return USAGE;
  }

  /** A failure as one line that says what happened: never just {@code null}. */
  static String describe(Throwable e) {
    StringBuilder b = new StringBuilder();
    Throwable t = e;
    while (t != null) {
      String m = t.getMessage();
      String part = m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
      if (b.indexOf(part) < 0) {
        if (b.length() > 0) {
          b.append(": ");
        }
        b.append(part);
      }
      t = t.getCause() == t ? null : t.getCause();
    }
    return b.toString();
  }
}
